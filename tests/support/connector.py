"""A Bot Framework connector stand-in on loopback: where the bot posts what it says.

In Teams the bot answers by posting to the activity's ``serviceUrl``. A test that sends the
bot activities with this server's URL as their ``serviceUrl`` sees every reply here, and every
proactive message too, in the order they arrived. Each kept activity carries the id the
stand-in gave it (``_id``), the conversation it was posted to (``_conversation``) and, for a
reply, the activity it answers (``_reply_to``). Updates of a posted activity (``PUT``) are
kept apart, in ``updates``. ``members`` answers the member look-ups of a team (``GET
/v3/conversations/{team}/members/{user}``): anyone else is 404, as Teams answers. A request to
start a conversation (``POST /v3/conversations``) is kept in ``created``; a one-to-one chat gets
the user's chat in ``personal`` (a new one the first time), as Teams gives back the chat a user
and the bot already have; a user in ``refused`` is answered 403, as Teams answers when the app
is not installed for them.

In the catalog-only language mode (``tests/support/language.py``) what is posted to a
conversation whose reader is known (``reads``: a user's chat, the help desk's channel and its
threads) must be all in the reader's language; the block fails at its end if any was not. The
activities are kept without the mode's marks.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from services import i18n
from services.i18n import Locale
from tests.support.language import LanguageLeak, check_json

__all__ = ["ConnectorStandIn", "connector_stand_in"]

_THREAD = ";messageid="


class ConnectorStandIn:
    """Keeps the activities the bot posts, per conversation."""

    def __init__(self) -> None:
        self.activities: list[dict[str, Any]] = []
        self.gone: set[str] = set()  # conversations answered 404, as for a deleted chat
        self.forbidden: set[str] = set()  # answered 403, as when the user removed the bot
        # conversation -> Retry-After seconds: its next post is answered 429 once, with them
        self.throttle: dict[str, int] = {}
        self.updates: list[dict[str, Any]] = []
        self.members: dict[str, set[str]] = {}  # team id -> its members' ids
        self.created: list[dict[str, Any]] = []  # the conversations the bot asked to start
        self.personal: dict[str, str] = {}  # a user's id -> their one-to-one chat's id
        self.refused: set[str] = set()  # users whose one-to-one chat the bot may not start
        self.url = ""
        # The language mode: each conversation's reader, and the data they may read.
        self.readers: dict[str, tuple[Locale, set[str]]] = {}
        self.written: set[str] = set()  # what people (users, agents) wrote: theirs, any language
        self.heard: set[str] = set()  # that, and what users were told: a transcript quotes it
        self.leaks: list[str] = []
        self._arrived = asyncio.Condition()

    def reads(self, conversation_id: str, locale: str, known: set[str]) -> None:
        """Whoever reads ``conversation_id`` (and its threads) reads ``locale``; ``known``: the
        data they may read in any language (kept up to date by the caller)."""
        self.readers[conversation_id] = (Locale(locale), known)

    def _checked(self, activity: dict[str, Any]) -> dict[str, Any]:
        """``activity`` without the language mode's marks, checked if its reader is known."""
        reader = self.readers.get(activity["_conversation"].partition(_THREAD)[0])
        if not i18n.marking() or reader is None or activity.get("type") != "message":
            return dict(check_json(activity, Locale.EN_US, checked=False))
        try:
            return dict(check_json(activity, *reader))
        except LanguageLeak as leak:
            self.leaks.append(str(leak))
            return dict(check_json(activity, Locale.EN_US, checked=False))

    async def post(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation_id"]
        if conversation in self.gone:
            return web.json_response(
                {"error": {"code": "ConversationNotFound", "message": "Conversation not found."}},
                status=404,
            )
        if conversation in self.forbidden:
            return web.json_response(
                {"error": {"code": "BotNotInConversationRoster", "message": "Forbidden."}},
                status=403,
            )
        if (seconds := self.throttle.pop(conversation, None)) is not None:
            return web.json_response(
                {"error": {"code": "Throttled", "message": "Too many requests."}},
                status=429,
                headers={"Retry-After": str(seconds)},
            )
        activity = await request.json()
        activity["_conversation"] = request.match_info["conversation_id"]
        activity["_reply_to"] = request.match_info.get("reply_to")
        activity["_id"] = uuid.uuid4().hex
        activity = self._checked(activity)
        async with self._arrived:
            self.activities.append(activity)
            self._arrived.notify_all()
        return web.json_response({"id": activity["_id"]})

    async def create(self, request: web.Request) -> web.Response:
        parameters = await request.json()
        self.created.append(parameters)
        [member] = parameters.get("members") or [{}]
        if member.get("id") in self.refused:
            return web.json_response(
                {"error": {"code": "Forbidden", "message": "The bot is not installed."}},
                status=403,
            )
        chat = self.personal.setdefault(member.get("id"), f"a:{uuid.uuid4().hex}")
        return web.json_response({"id": chat}, status=201)

    async def update(self, request: web.Request) -> web.Response:
        activity = await request.json()
        activity["_conversation"] = request.match_info["conversation_id"]
        activity["_id"] = request.match_info["activity_id"]
        activity = self._checked(activity)
        async with self._arrived:
            self.updates.append(activity)
            self._arrived.notify_all()
        return web.json_response({"id": activity["_id"]})

    async def member(self, request: web.Request) -> web.Response:
        team, user = request.match_info["conversation_id"], request.match_info["member_id"]
        if user not in self.members.get(team, set()):
            return web.json_response(
                {"error": {"code": "MemberNotFoundInConversation", "message": "Not found."}},
                status=404,
            )
        return web.json_response({"id": user, "name": user})

    def texts(self, since: int = 0) -> list[str]:
        """The text of each message since the ``since``-th, cards' text included."""
        out = []
        for activity in self.activities[since:]:
            parts = [activity.get("text") or ""]
            for attachment in activity.get("attachments") or []:
                content = attachment.get("content") or {}
                parts.append(content.get("text") or "")
            out.append("\n".join(p for p in parts if p))
        return out

    async def wait_for(self, count: int) -> list[dict[str, Any]]:
        """Wait (10 s at most) until at least ``count`` activities arrived; return them all."""
        async with asyncio.timeout(10), self._arrived:
            await self._arrived.wait_for(lambda: len(self.activities) >= count)
        return self.activities

    async def wait_until(self, arrived: Callable[[], bool]) -> None:
        """Wait (10 s at most) until ``arrived()`` holds, checked as each activity arrives."""
        async with asyncio.timeout(10), self._arrived:
            await self._arrived.wait_for(arrived)

    async def wait_for_updates(self, count: int) -> list[dict[str, Any]]:
        """Wait (10 s at most) until at least ``count`` updates arrived; return them all."""
        async with asyncio.timeout(10), self._arrived:
            await self._arrived.wait_for(lambda: len(self.updates) >= count)
        return self.updates


@asynccontextmanager
async def connector_stand_in() -> AsyncIterator[ConnectorStandIn]:
    """Serve a connector stand-in on 127.0.0.1 for the duration of the block."""
    stand_in = ConnectorStandIn()
    app = web.Application()
    app.router.add_post("/v3/conversations", stand_in.create)
    app.router.add_post("/v3/conversations/{conversation_id}/activities", stand_in.post)
    app.router.add_post("/v3/conversations/{conversation_id}/activities/{reply_to}", stand_in.post)
    app.router.add_put(
        "/v3/conversations/{conversation_id}/activities/{activity_id}", stand_in.update
    )
    app.router.add_get("/v3/conversations/{conversation_id}/members/{member_id}", stand_in.member)
    async with TestServer(app, host="127.0.0.1") as server:
        stand_in.url = str(server.make_url("/"))
        yield stand_in
    if stand_in.leaks:
        raise LanguageLeak("\n".join(stand_in.leaks))
