"""The HTTP face of the bot: ``/api/messages``, ``/healthz`` and ``/readyz``.

``/api/messages`` is our own handler around ``adapter.process_activity`` rather than the SDK's
``CloudAdapter.process``, which serializes reply bodies twice and answers 500 to
``deliveryMode: expectReplies`` and to invoke activities (see docs/platform-notes.md). It also
turns every way a request can be wrong into the right 4xx: a malformed body is 400, a body over
the limit 413, a missing or bad token 401. A turn for a given conversation runs one at a time
in this process, so a user's quick double message is handled in order instead of racing.

``run_turn`` is also how the local chat page's Direct Line emulation delivers (dev only): its
turns are marked as coming from the page (``from_local_page``), so that the dialogs may add
hints about the page ("pick a demo user at the top"), which a channel cannot fake.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial

from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity

from bot.adapter import MembershipAdapter
from bot.membership_bot import MembershipBot
from bot.wire import dumps, from_wire
from dialogs.people import LOCAL_CHAT_PAGE

__all__ = ["ADAPTER", "BOT", "READY", "add_routes", "from_local_page", "run_turn"]

logger = logging.getLogger(__name__)

ADAPTER = web.AppKey("adapter", MembershipAdapter)
BOT = web.AppKey("bot", MembershipBot)
READY: web.AppKey[Callable[[], Awaitable[bool]]] = web.AppKey("ready")


class ConversationLocks:
    """One lock per conversation in flight; forgotten when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[None]:
        """Hold the conversation's lock for the duration of the block."""
        lock, users = self._locks.get(conversation_id, (asyncio.Lock(), 0))
        self._locks[conversation_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[conversation_id]
            if users == 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock, users - 1)


_LOCKS = web.AppKey("conversation_locks", ConversationLocks)


class Unauthorized(Exception):
    """The request's credentials were missing or did not validate."""


async def from_local_page(
    on_turn: Callable[[TurnContext], Awaitable[None]], turn_context: TurnContext
) -> None:
    """Run ``on_turn`` on a turn marked as coming from the local chat page."""
    turn_context.turn_state[LOCAL_CHAT_PAGE] = True
    await on_turn(turn_context)


async def run_turn(
    app: web.Application, activity: Activity, auth_header: str, *, local_page: bool = False
) -> InvokeResponse | None:
    """Authenticate ``activity`` and run one turn of the bot on it (``local_page``: delivered
    by the local chat page's Direct Line emulation)."""
    adapter = app[ADAPTER]
    try:
        authenticated = await adapter.bot_framework_authentication.authenticate_request(
            activity, auth_header
        )
    except Exception as error:  # the SDK raises PermissionError, jwt errors, or plain Exception
        raise Unauthorized(str(error)) from error
    conversation_id = activity.conversation.id if activity.conversation else ""
    on_turn = app[BOT].on_turn
    logic = partial(from_local_page, on_turn) if local_page else on_turn
    async with app[_LOCKS].hold(conversation_id):
        return await adapter.process_activity(authenticated, activity, logic)


def _bad_request(reason: str) -> web.Response:
    return web.json_response({"error": "bad_request", "reason": reason}, status=400)


async def messages(request: web.Request) -> web.StreamResponse:
    """Receive one activity from a channel and answer with the turn's result."""
    if request.content_type != "application/json":
        return web.json_response(
            {"error": "unsupported_media_type", "reason": "send application/json"}, status=415
        )
    try:
        body = json.loads(await request.read())
    except web.HTTPRequestEntityTooLarge:
        return web.json_response({"error": "too_large"}, status=413)
    except (ValueError, UnicodeDecodeError):
        return _bad_request("the body is not valid JSON")
    if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not body["type"]:
        return _bad_request("the body is not an activity (no type)")
    try:
        activity = from_wire(Activity, body)
    except Exception:
        return _bad_request("the activity has fields of the wrong type")
    if activity.conversation is None or not activity.conversation.id:
        return _bad_request("the activity has no conversation id")

    try:
        response = await run_turn(request.app, activity, request.headers.get("Authorization", ""))
    except Unauthorized as error:
        logger.warning("rejected an unauthenticated activity: %s", error)
        return web.json_response({"error": "unauthorized"}, status=401)

    if response is None:
        return web.Response(status=201)
    return web.Response(
        body=dumps(response.body),
        status=int(response.status or 200),
        content_type="application/json",
        charset="utf-8",
    )


async def healthz(_request: web.Request) -> web.Response:
    """Answer while the process is alive."""
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    """Answer 200 when the database is reachable, 503 otherwise."""
    if await request.app[READY]():
        return web.json_response({"status": "ready"})
    return web.json_response({"status": "unavailable", "reason": "database"}, status=503)


def add_routes(app: web.Application) -> None:
    """Mount the bot's endpoints on ``app``."""
    app[_LOCKS] = ConversationLocks()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
