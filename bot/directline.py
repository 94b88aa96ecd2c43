"""A local Direct Line v3 emulation, the connector routes it needs, and the chat page.

Development only: ``app.create_app`` mounts this only when no Microsoft app id is configured,
so that a newcomer can chat with the bot in Bot Framework Web Chat without Azure or Teams.

The browser's Web Chat talks Direct Line v3 to ``/v3/directline``:

    POST /v3/directline/tokens/generate            a token for a new conversation
    POST /v3/directline/tokens/refresh             the same token, refreshed
    POST /v3/directline/conversations              start the token's conversation (or, with no
                                                   token, a new one) and hand out its token
    GET  /v3/directline/conversations/{id}         the same (Direct Line's reconnect)
    POST /v3/directline/conversations/{id}/activities      the user's activity, to the bot
    GET  /v3/directline/conversations/{id}/activities      what happened after ?watermark=N

The bot answers the way it answers any channel: through the Bot Framework connector at the
activity's ``serviceUrl``, which is this same server:

    POST /v3/conversations/{id}/activities[/{replyToId}]   the bot's reply, into the log
    PUT  /v3/conversations/{id}/activities/{activityId}    the bot edits one of its messages
    GET  /v3/conversations/{teamId}/members/{userId}       a help-desk team member, or 404

Conversations live in memory, bounded (oldest dropped), and vanish with the process.

Acting as Teams: a conversation opened with ``"teams": true`` stamps its activities as Teams
would (``channelId`` msteams, the demo user's tenant in ``channelData.tenant.id`` and
``conversation.tenantId``, the user's ``aadObjectId``), and starts with an
``installationUpdate`` as well as the ``conversationUpdate``, as installing the app does.

The help-desk view: a conversation opened with ``"helpdesk": true`` (the page's ``?helpdesk=1``)
acts as the General channel of one local Teams team, ``LOCAL_HELP_DESK_TEAM``, so that one
person can play both sides of a request for a person on one machine. The bot sees the
channel's id (the team's, as Teams has it for General) as the conversation, with the team and
the channel in ``channelData``; opening the view installs the bot there (``installationUpdate``
and ``conversationUpdate``), and ``on_help_desk_opened`` then names it the help desk (app.py
does so unless a real Teams help desk was named). What the bot posts to the channel or to one
of its threads (``<channel id>;messageid=<root>``) lands in the newest help-desk view's log,
flat: Web Chat shows no threads. The demo user of each help-desk view is a member of the team
for the connector's member look-up; everyone else is not. The view speaks the help desk's
language (``HELP_DESK_LOCALE``), whatever the page's: the page asks ``GET /dev/help-desk`` for
it, with the view's title and its hint, which names the card's buttons as the card does.

A limitation, kept for simplicity: what the agent writes goes into the thread the bot posted
into last (a new request's card, or the user's latest words), so the agent answers the latest
request; with several requests at once, answer each right after it speaks.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from dialogs.handoff_cards import CLAIM_LABEL, RESOLVE_LABEL
from services.i18n import N_, Locale, translator

__all__ = [
    "BOT_ACCOUNT",
    "LOCAL_HELP_DESK_TEAM",
    "Deliver",
    "DirectLineStore",
    "HelpDeskOpened",
    "setup_directline",
]

logger = logging.getLogger(__name__)

Deliver = Callable[[dict[str, Any]], Awaitable[None]]
DemoUsers = Callable[[], Awaitable[list[dict[str, str | None]]]]
# Called after the help-desk view installed the bot in the local channel: (team id, channel id).
HelpDeskOpened = Callable[[str, str], Awaitable[None]]

BOT_ACCOUNT = {"id": "membership-bot", "name": "Membership bot", "role": "bot"}
CHANNEL_ID = "webchat"
TEAMS_CHANNEL_ID = "msteams"
LOCAL_HELP_DESK_TEAM = "19:local-help-desk@thread.tacv2"
LOCAL_HELP_DESK_NAME = "Local help desk"
_THREAD = ";messageid="
TOKEN_LIFETIME_SECONDS = 3600
MAX_CONVERSATIONS = 500
MAX_ACTIVITIES = 1000
STATIC = Path(__file__).parent / "static"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Conversation:
    """One Direct Line conversation: its token, its people and its activity log."""

    id: str
    token: str
    user: dict[str, Any]
    locale: str
    activities: list[dict[str, Any]] = field(default_factory=list)
    dropped: int = 0  # activities trimmed from the front; watermarks stay absolute
    started: bool = False
    teams: bool = False  # stamp activities as Teams sends them
    tenant_id: str | None = None  # the demo user's tenant, when acting as Teams
    help_desk: bool = False  # the help-desk view: the local team's channel
    thread_root: str | None = None  # the channel's thread the bot posted into last

    def append(self, activity: dict[str, Any]) -> str:
        """Stamp ``activity`` with an id and a time, add it to the log, return the id."""
        sequence = self.dropped + len(self.activities)
        activity.setdefault("id", f"{self.id}|{sequence:07d}")
        activity.setdefault("timestamp", _now())
        self.activities.append(activity)
        if len(self.activities) > MAX_ACTIVITIES:
            overflow = len(self.activities) - MAX_ACTIVITIES
            del self.activities[:overflow]
            self.dropped += overflow
        return str(activity["id"])

    def replace(self, activity_id: str, activity: dict[str, Any]) -> bool:
        """Put ``activity`` in place of the logged one with ``activity_id``; False if gone.

        The edit is also appended, so that clients already past the original's watermark see
        it on their next poll; Web Chat replaces a bubble when an activity's id comes again.
        """
        places = [i for i, logged in enumerate(self.activities) if logged.get("id") == activity_id]
        if not places:
            return False
        activity["id"] = activity_id
        # The original time keeps the edited bubble where it was in the transcript.
        activity.setdefault("timestamp", self.activities[places[0]].get("timestamp"))
        for index in places:
            self.activities[index] = dict(activity)
        self.append(dict(activity))
        return True

    def since(self, watermark: int) -> tuple[list[dict[str, Any]], int]:
        """Return the activities after ``watermark`` and the new watermark."""
        start = max(watermark - self.dropped, 0)
        return self.activities[start:], self.dropped + len(self.activities)


class DirectLineStore:
    """The emulation's conversations and tokens, in memory and bounded."""

    def __init__(self) -> None:
        self._by_id: OrderedDict[str, Conversation] = OrderedDict()
        self._by_token: dict[str, Conversation] = {}
        self._help_desk_view: str | None = None  # the newest help-desk view's conversation
        self.help_desk_members: dict[str, dict[str, Any]] = {}  # by the member's id

    def create(
        self,
        user: dict[str, Any],
        locale: str,
        *,
        teams: bool = False,
        tenant_id: str | None = None,
        help_desk: bool = False,
    ) -> Conversation:
        """Open a conversation with a fresh token (acting as Teams, in ``tenant_id``)."""
        conversation = Conversation(
            id=secrets.token_urlsafe(12),
            token=secrets.token_urlsafe(24),
            user=user,
            locale=locale,
            teams=teams or help_desk,
            tenant_id=tenant_id,
            help_desk=help_desk,
        )
        self._by_id[conversation.id] = conversation
        self._by_token[conversation.token] = conversation
        while len(self._by_id) > MAX_CONVERSATIONS:
            _, oldest = self._by_id.popitem(last=False)
            self._by_token.pop(oldest.token, None)
        return conversation

    def by_id(self, conversation_id: str) -> Conversation | None:
        """The conversation with ``conversation_id``, if it is still kept."""
        return self._by_id.get(conversation_id)

    def by_token(self, token: str) -> Conversation | None:
        """The conversation that ``token`` opens, if any."""
        return self._by_token.get(token)

    def open_help_desk(self, conversation: Conversation) -> None:
        """Give the local channel to ``conversation`` (the newest view takes it); its user
        becomes a member of the help-desk team."""
        self._help_desk_view = conversation.id
        user = conversation.user
        self.help_desk_members[str(user["id"])] = {
            "id": user["id"], "name": user["name"], "aadObjectId": user["id"],
        }  # fmt: skip

    def for_connector(self, conversation_id: str) -> Conversation | None:
        """The conversation a connector call names: a Direct Line id, or the local help
        desk's channel (or one of its threads), which the newest help-desk view holds."""
        if conversation_id.partition(_THREAD)[0] == LOCAL_HELP_DESK_TEAM:
            return self._by_id.get(self._help_desk_view or "")
        return self._by_id.get(conversation_id)


STORE = web.AppKey("directline_store", DirectLineStore)
DELIVER: web.AppKey[Deliver] = web.AppKey("directline_deliver")
PAGE = web.AppKey("chat_page", bytes)
DEMO_USERS: web.AppKey[DemoUsers] = web.AppKey("demo_users")
WEBCHAT_JS = web.AppKey("webchat_js", Path)
HELP_DESK_OPENED: web.AppKey[HelpDeskOpened] = web.AppKey("help_desk_opened")
HELP_DESK_LOCALE = web.AppKey("help_desk_locale", Locale)

VIEW_TITLE = N_("Membership bot — help desk")
VIEW_HINT = N_(
    "Help-desk view: requests for a person arrive here. Click “{claim}” on one, then write here "
    "to answer the user; “{resolve}” hands the chat back. What you write goes to the latest "
    "request."
)


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _bearer(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def _json_body(request: web.Request) -> dict[str, Any] | None:
    if not request.can_read_body:
        return {}
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _authorized(request: web.Request) -> Conversation | web.Response:
    store = request.app[STORE]
    conversation = store.by_id(request.match_info["conversation_id"])
    if conversation is None:
        return _error(404, "BadArgument", "unknown conversation")
    if not secrets.compare_digest(_bearer(request), conversation.token):
        return _error(401, "TokenInvalid", "the token does not open this conversation")
    return conversation


def _conversation_json(request: web.Request, conversation: Conversation) -> dict[str, Any]:
    return {
        "conversationId": conversation.id,
        "token": conversation.token,
        "expires_in": TOKEN_LIFETIME_SECONDS,
    }


def _stamp(request: web.Request, conversation: Conversation, activity: dict[str, Any]) -> None:
    """Fill in what the Direct Line service (or, acting as Teams, Teams) adds to an activity."""
    activity["channelId"] = CHANNEL_ID
    activity["serviceUrl"] = f"{request.url.origin()}/"
    activity["conversation"] = {"id": conversation.id}
    activity["recipient"] = dict(BOT_ACCOUNT)
    activity.setdefault("from", conversation.user)
    activity.setdefault("locale", conversation.locale)
    if conversation.teams:
        _stamp_as_teams(conversation, activity)
    if conversation.help_desk:
        _stamp_as_channel(conversation, activity)


def _stamp_as_channel(conversation: Conversation, activity: dict[str, Any]) -> None:
    """The local help desk's General channel: messages go to the thread of the latest post."""
    channel_id = LOCAL_HELP_DESK_TEAM  # General's id is the team's
    in_thread = activity.get("type") == "message" and conversation.thread_root is not None
    activity["conversation"] = {
        "id": f"{channel_id}{_THREAD}{conversation.thread_root}" if in_thread else channel_id,
        "conversationType": "channel",
        "isGroup": True,
    }
    given = activity.get("channelData")
    channel_data = dict(given) if isinstance(given, dict) else {}
    channel_data["team"] = {"id": LOCAL_HELP_DESK_TEAM, "name": LOCAL_HELP_DESK_NAME}
    channel_data["channel"] = {"id": channel_id, "name": "General"}
    if conversation.tenant_id:
        activity["conversation"]["tenantId"] = conversation.tenant_id
        channel_data["tenant"] = {"id": conversation.tenant_id}
    activity["channelData"] = channel_data


def _stamp_as_teams(conversation: Conversation, activity: dict[str, Any]) -> None:
    activity["channelId"] = TEAMS_CHANNEL_ID
    activity["conversation"]["conversationType"] = "personal"
    sender = activity.get("from")
    if isinstance(sender, dict) and sender.get("role") != "bot":
        # In Teams the directory id is the sender's Entra object id.
        activity["from"] = {**sender, "aadObjectId": conversation.user["id"]}
    if conversation.tenant_id:
        activity["conversation"]["tenantId"] = conversation.tenant_id
        given = activity.get("channelData")
        channel_data = dict(given) if isinstance(given, dict) else {}
        channel_data["tenant"] = {"id": conversation.tenant_id}
        activity["channelData"] = channel_data


async def _open(request: web.Request, body: dict[str, Any]) -> Conversation:
    """Open a conversation for the body's ``user``, ``locale``, ``teams`` and ``helpdesk``
    (all optional).

    Acting as Teams (the help-desk view does), the tenant is the demo user's, as the
    directory has it.
    """
    given = body.get("user")
    raw_user: dict[str, Any] = given if isinstance(given, dict) else {}
    user = {
        "id": str(raw_user.get("id") or f"dl_{secrets.token_hex(8)}"),
        "name": str(raw_user.get("name") or "You"),
        "role": "user",
    }
    locale = str(body.get("locale") or "en-US")
    help_desk = body.get("helpdesk") is True
    teams = body.get("teams") is True or help_desk
    tenant_id = None
    if teams:
        demo = {str(u.get("id")): u for u in await request.app[DEMO_USERS]()}
        tenant_id = (demo.get(user["id"]) or {}).get("tenantId") or None
    return request.app[STORE].create(
        user, locale, teams=teams, tenant_id=tenant_id, help_desk=help_desk
    )


async def generate_token(request: web.Request) -> web.Response:
    """Open a conversation for a new user and hand out its token."""
    body = await _json_body(request)
    if body is None:
        return _error(400, "BadArgument", "the body is not a JSON object")
    return web.json_response(_conversation_json(request, await _open(request, body)))


async def refresh_token(request: web.Request) -> web.Response:
    """Refresh a token (tokens here last as long as their conversation)."""
    conversation = request.app[STORE].by_token(_bearer(request))
    if conversation is None:
        return _error(401, "TokenInvalid", "unknown token")
    return web.json_response(_conversation_json(request, conversation))


async def start_conversation(request: web.Request) -> web.Response:
    """Start the token's conversation; the bot hears that the user and it have joined.

    Without a token this opens a new conversation first, as Direct Line does for a client that
    holds the channel secret: there is no secret to hold on a loopback dev server.
    """
    token = _bearer(request)
    if token:
        conversation = request.app[STORE].by_token(token)
        if conversation is None:
            return _error(401, "TokenInvalid", "this token opens no conversation")
    else:
        body = await _json_body(request)
        if body is None:
            return _error(400, "BadArgument", "the body is not a JSON object")
        conversation = await _open(request, body)
    if not conversation.started:
        conversation.started = True
        if conversation.help_desk:
            request.app[STORE].open_help_desk(conversation)
        await _install(request, conversation)
    return web.json_response(_conversation_json(request, conversation), status=201)


async def _install(request: web.Request, conversation: Conversation) -> None:
    """Tell the bot it was added to the conversation (in the help-desk view: to the channel,
    which then becomes the help desk)."""
    if conversation.teams:  # installing the app sends both, the installation first
        installation: dict[str, Any] = {
            "type": "installationUpdate",
            "action": "add",
            "from": conversation.user,
            "id": secrets.token_hex(8),
            "timestamp": _now(),
        }
        _stamp(request, conversation, installation)
        await _deliver(request, installation)
    # Installed in a team, only the bot joins the channel.
    joined = [] if conversation.help_desk else [conversation.user]
    update: dict[str, Any] = {
        "type": "conversationUpdate",
        "membersAdded": [*joined, dict(BOT_ACCOUNT)],
        "from": conversation.user,
        "id": secrets.token_hex(8),
        "timestamp": _now(),
    }
    _stamp(request, conversation, update)
    await _deliver(request, update)
    if conversation.help_desk:
        try:
            await request.app[HELP_DESK_OPENED](LOCAL_HELP_DESK_TEAM, LOCAL_HELP_DESK_TEAM)
        except Exception:
            logger.exception("could not name the local channel the help desk")


async def reconnect(request: web.Request) -> web.Response:
    """Answer Direct Line's reconnect with the conversation as it is."""
    conversation = _authorized(request)
    if isinstance(conversation, web.Response):
        return conversation
    return web.json_response(_conversation_json(request, conversation))


async def post_activity(request: web.Request) -> web.Response:
    """Log the user's activity and hand it to the bot."""
    conversation = _authorized(request)
    if isinstance(conversation, web.Response):
        return conversation
    activity = await _json_body(request)
    if activity is None or not isinstance(activity.get("type"), str):
        return _error(400, "BadArgument", "the body is not an activity")
    _stamp(request, conversation, activity)
    activity.pop("id", None)
    activity_id = conversation.append(activity)
    await _deliver(request, dict(activity))
    return web.json_response({"id": activity_id})


async def get_activities(request: web.Request) -> web.Response:
    """Return what happened after the client's watermark."""
    conversation = _authorized(request)
    if isinstance(conversation, web.Response):
        return conversation
    try:
        watermark = int(request.query.get("watermark") or 0)
    except ValueError:
        return _error(400, "BadArgument", "the watermark is not a number")
    activities, new_watermark = conversation.since(watermark)
    return web.json_response({"activities": activities, "watermark": str(new_watermark)})


async def _bot_activity(
    request: web.Request,
) -> tuple[Conversation, dict[str, Any]] | web.Response:
    """The conversation and the activity a connector call carries, or the error to answer."""
    conversation = request.app[STORE].for_connector(request.match_info["conversation_id"])
    if conversation is None:
        return _error(404, "BadArgument", "unknown conversation")
    activity = await _json_body(request)
    if activity is None or not isinstance(activity.get("type"), str):
        return _error(400, "BadArgument", "the body is not an activity")
    activity["from"] = activity.get("from") or dict(BOT_ACCOUNT)
    activity["conversation"] = {"id": conversation.id}
    return conversation, activity


async def bot_reply(request: web.Request) -> web.Response:
    """Receive the bot's reply through the connector API and add it to the conversation."""
    received = await _bot_activity(request)
    if isinstance(received, web.Response):
        return received
    conversation, activity = received
    activity.pop("id", None)
    activity_id = conversation.append(activity)
    if conversation.help_desk and activity["type"] == "message":
        # A post to the channel itself starts a thread; a post in a thread continues it.
        _, in_thread, root = request.match_info["conversation_id"].partition(_THREAD)
        conversation.thread_root = root if in_thread else activity_id
    return web.json_response({"id": activity_id})


async def update_activity(request: web.Request) -> web.Response:
    """Replace one of the bot's logged activities with its edited version."""
    received = await _bot_activity(request)
    if isinstance(received, web.Response):
        return received
    conversation, activity = received
    activity_id = request.match_info["activity_id"]
    if not conversation.replace(activity_id, activity):
        return _error(404, "BadArgument", "unknown activity")
    return web.json_response({"id": activity_id})


async def _deliver(request: web.Request, activity: dict[str, Any]) -> None:
    try:
        await request.app[DELIVER](activity)
    except Exception:
        # The bot's own error handler has already apologised if it could; the emulation
        # must keep serving the page whatever the bot did.
        logger.exception("the bot failed on a Direct Line activity")


async def get_member(request: web.Request) -> web.Response:
    """Answer the connector's team member look-up: the help-desk views' users, for the local
    team; nobody else, as Teams answers for someone outside the team."""
    member = None
    if request.match_info["conversation_id"] == LOCAL_HELP_DESK_TEAM:
        member = request.app[STORE].help_desk_members.get(request.match_info["member_id"])
    if member is None:
        return _error(404, "NotFound", "not a member of this team")
    return web.json_response(member)


async def _no_help_desk(team_id: str, channel_id: str) -> None:
    return None


async def list_demo_users(request: web.Request) -> web.Response:
    """List the directory's users, so that the page can offer who to be."""
    return web.json_response(await request.app[DEMO_USERS]())


async def help_desk_view(request: web.Request) -> web.Response:
    """What the help-desk view says, in the help desk's language (its buttons named as shown)."""
    locale = request.app[HELP_DESK_LOCALE]
    t = translator(locale)
    claim, resolve = t.gettext(CLAIM_LABEL), t.gettext(RESOLVE_LABEL)
    return web.json_response(
        {
            "locale": locale.value,
            "title": t.gettext(VIEW_TITLE),
            "hint": t.gettext(VIEW_HINT, claim=claim, resolve=resolve),
        }
    )


async def chat_page(request: web.Request) -> web.Response:
    """Serve the chat page."""
    return web.Response(body=request.app[PAGE], content_type="text/html", charset="utf-8")


async def serve_webchat_js(request: web.Request) -> web.StreamResponse:
    """Serve the Web Chat bundle that ``make`` fetched."""
    path = request.app[WEBCHAT_JS]
    if not path.is_file():
        return web.Response(
            status=503,
            text=f"Web Chat is not installed at {path}: run `make webchat` (or `make run`).",
        )
    return web.FileResponse(path, headers={"Content-Type": "application/javascript"})


async def _nobody() -> list[dict[str, str | None]]:
    return []


def setup_directline(
    app: web.Application,
    *,
    deliver: Deliver,
    webchat_js: Path,
    demo_users: DemoUsers = _nobody,
    on_help_desk_opened: HelpDeskOpened = _no_help_desk,
    help_desk_locale: Locale = Locale.EN_US,
) -> None:
    """Mount the chat page, the Direct Line emulation and the connector routes on ``app``.

    ``on_help_desk_opened`` runs after a help-desk view installed the bot in the local channel;
    the view speaks ``help_desk_locale``, as the help desk's cards do.
    """
    app[STORE] = DirectLineStore()
    app[HELP_DESK_LOCALE] = help_desk_locale
    app[HELP_DESK_OPENED] = on_help_desk_opened
    app[DEMO_USERS] = demo_users
    app[DELIVER] = deliver
    app[PAGE] = (STATIC / "chat.html").read_bytes()
    app[WEBCHAT_JS] = webchat_js
    add = app.router
    add.add_get("/", chat_page)
    add.add_get("/webchat.js", serve_webchat_js)
    add.add_get("/dev/users", list_demo_users)
    add.add_get("/dev/help-desk", help_desk_view)
    add.add_post("/v3/directline/tokens/generate", generate_token)
    add.add_post("/v3/directline/tokens/refresh", refresh_token)
    add.add_post("/v3/directline/conversations", start_conversation)
    add.add_get("/v3/directline/conversations/{conversation_id}", reconnect)
    add.add_post("/v3/directline/conversations/{conversation_id}/activities", post_activity)
    add.add_get("/v3/directline/conversations/{conversation_id}/activities", get_activities)
    add.add_post("/v3/conversations/{conversation_id}/activities", bot_reply)
    add.add_post("/v3/conversations/{conversation_id}/activities/{reply_to_id}", bot_reply)
    add.add_put("/v3/conversations/{conversation_id}/activities/{activity_id}", update_activity)
    add.add_get("/v3/conversations/{conversation_id}/members/{member_id}", get_member)
