"""What Teams sends, over HTTP to the real app: install, uninstall, team channels, card actions.

Teams sends an ``installationUpdate`` and a ``conversationUpdate`` (the bot among the members
added) when the app is installed, names the tenant in ``channelData`` and the conversation,
and sends Adaptive Card ``Action.Execute`` clicks as ``adaptiveCard/action`` invokes.
"""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
import pytest

from services import db
from services.conversations import SqlConversationReferences
from services.unit_of_work import UnitOfWorkFactory
from tests.conftest import make_settings
from tests.support.connector import connector_stand_in
from tests.support.language import check, check_json, known_words

TENANT = "7f3c2a10-0000-4000-8000-000000c0de01"
BOT = {"id": "28:bot", "name": "Membership bot"}
USER = {"id": "29:mei", "name": "Mei Lin", "aadObjectId": "mei.lin"}
WELCOME = "Hello! I'm the Microsoft Partner Network membership assistant"
TEAM_WELCOME = "Hello, team!"


def teams_activity(kind: str, conversation: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": kind,
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": "https://smba.trafficmanager.net/apac/",
        "from": USER,
        "recipient": BOT,
        "conversation": {"tenantId": TENANT, **conversation},
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "en-US",
        "deliveryMode": "expectReplies",
    }
    body.update(fields)
    return body


def install(conversation: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return teams_activity("installationUpdate", conversation, action="add", **fields)


def bot_added(conversation: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return teams_activity("conversationUpdate", conversation, **{"membersAdded": [BOT], **fields})


def texts(body: dict[str, Any] | None) -> list[str]:
    """Each message's text, an Adaptive Card's text blocks included."""
    out = []
    for activity in (body or {}).get("activities", []):
        parts = [activity.get("text") or ""]
        for attachment in activity.get("attachments") or []:
            content = attachment.get("content") or {}
            parts += [b.get("text", "") for b in content.get("body", []) if isinstance(b, dict)]
            parts.append(content.get("text") or "")
        out.append("\n".join(part for part in parts if part))
    return out


pytestmark = pytest.mark.usefixtures("catalog_only_language")


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def base_url(serve_app, sqlite_url):
    return await serve_app(make_settings(sqlite_url))


@pytest.fixture
async def references(sqlite_url):
    engine = db.create_engine(sqlite_url)
    yield SqlConversationReferences(UnitOfWorkFactory(engine), _Clock())
    await engine.dispose()


class _Clock:
    def now(self):  # the tests only read
        raise AssertionError("not written through here")


async def post(http, base_url: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """Post ``body``; the replies, each checked to be all in the sender's language."""
    async with http.post(f"{base_url}/api/messages", json=body) as response:
        assert response.status in (200, 201), await response.text()
        replies = await response.json() if response.status == 200 else None
    known = {USER["name"], *known_words([body.get("text"), body.get("value")])}
    for reply in (replies or {}).get("activities", []):
        check_json(reply, body["locale"], known, checked=reply.get("type") == "message")
    if replies is not None and isinstance(replies.get("value"), str):  # an invoke's answer
        replies["value"] = check(replies["value"], body["locale"], known)
    return replies


@pytest.mark.parametrize("order", ["installation first", "conversation update first"])
async def test_installing_the_app_welcomes_the_user_once_and_keeps_the_conversation(
    http, base_url, references, order
):
    conversation = {"id": f"a:{uuid.uuid4().hex}", "conversationType": "personal"}
    events = [install(conversation), bot_added(conversation)]
    if order != "installation first":
        events.reverse()

    said = [text for event in events for text in texts(await post(http, base_url, event))]

    assert sum(text.startswith(WELCOME) for text in said) == 1
    assert any(text.startswith("What would you like to do?") for text in said)
    stored = await references.latest_for("mei.lin")
    assert stored is not None and stored.conversation_id == conversation["id"]


async def test_uninstalling_stops_posting_there_and_a_reinstall_welcomes_again(
    http, base_url, references
):
    conversation = {"id": f"a:{uuid.uuid4().hex}", "conversationType": "personal"}
    await post(http, base_url, install(conversation))

    await post(http, base_url, teams_activity("installationUpdate", conversation, action="remove"))
    assert await references.latest_for("mei.lin") is None

    again = texts(await post(http, base_url, install(conversation)))
    assert sum(text.startswith(WELCOME) for text in again) == 1
    assert await references.latest_for("mei.lin") is not None


async def test_someone_joining_a_group_chat_later_is_not_welcomed_again(http, base_url):
    conversation = {"id": f"19:{uuid.uuid4().hex}@thread.v2", "conversationType": "groupChat"}
    first = texts(await post(http, base_url, bot_added(conversation)))
    newcomer = {"id": "29:kenji", "aadObjectId": "kenji.sato"}

    later = texts(await post(http, base_url, bot_added(conversation, membersAdded=[newcomer])))

    assert sum(text.startswith(WELCOME) for text in first) == 1
    assert later == []


def team_event(kind: str, team: str, **fields: Any) -> dict[str, Any]:
    conversation = {"id": team, "conversationType": "channel", "isGroup": True}
    body = teams_activity(kind, conversation, **fields)
    body["channelData"] = {
        "tenant": {"id": TENANT},
        "team": {"id": team, "name": "Partner desk"},
        "channel": {"id": team},
        "eventType": "teamMemberAdded",
    }
    return body


async def test_installing_in_a_team_greets_the_channel_once_and_records_it_for_the_help_desk(
    http, base_url, references
):
    team = f"19:{uuid.uuid4().hex}@thread.tacv2"

    first = texts(await post(http, base_url, team_event("installationUpdate", team, action="add")))
    second = texts(await post(http, base_url, team_event("conversationUpdate", team,
                                                         membersAdded=[BOT])))  # fmt: skip

    assert [text.startswith(TEAM_WELCOME) for text in first + second] == [True]
    assert "help desk" in first[0]
    channel = await references.channels.get(team)
    assert channel is not None and channel.active
    assert (channel.team_id, channel.name, channel.tenant_id, channel.installed_by) == (
        team, "Partner desk", TENANT, "mei.lin",
    )  # fmt: skip
    assert channel.document["conversation"]["id"] == team
    assert [c.channel_id for c in await references.channels.active(TENANT)] == [team]

    removed = team_event("conversationUpdate", team, membersRemoved=[BOT])
    removed["channelData"]["eventType"] = "teamMemberRemoved"
    await post(http, base_url, removed)
    channel = await references.channels.get(team)
    assert channel is not None and not channel.active
    assert await references.channels.active(TENANT) == []


async def test_a_channel_message_that_mentions_the_bot_is_understood_without_the_mention(
    http, base_url
):
    team = f"19:{uuid.uuid4().hex}@thread.tacv2"
    await post(http, base_url, team_event("installationUpdate", team, action="add"))
    mention = {"type": "mention", "text": "<at>Membership bot</at>", "mentioned": BOT}

    message = team_event("message", team, text="<at>Membership bot</at> help", entities=[mention])

    replies = texts(await post(http, base_url, message))

    assert "At any step you can type" in replies[0]


async def test_an_adaptive_card_action_is_answered_with_a_message_and_the_dialog_acts_on_it(
    http, base_url
):
    async with connector_stand_in() as connector:
        conversation = {"id": f"a:{uuid.uuid4().hex}", "conversationType": "personal"}
        joined = bot_added(conversation, serviceUrl=connector.url, deliveryMode="normal")
        await post(http, base_url, joined)
        await connector.wait_for(2)  # the welcome and the menu
        invoke = teams_activity(
            "invoke",
            conversation,
            name="adaptiveCard/action",
            serviceUrl=connector.url,
            deliveryMode="normal",
            value={
                "action": {"type": "Action.Execute", "verb": "menu",
                           "data": {"action": "help"}},
                "trigger": "manual",
            },
        )  # fmt: skip

        async with http.post(f"{base_url}/api/messages", json=invoke) as response:
            status, body = response.status, await response.json()
        body["value"] = check(body["value"], "en-US")
        await connector.wait_for(3)

    assert status == 200
    assert body == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Got it: my answer is in the chat.",
    }
    assert connector.texts(2)[0].startswith("I guide Microsoft Partner Network members")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("adaptiveCard/action", {"action": {"type": "Action.Submit"}}, 400),
        ("adaptiveCard/action", None, 400),
        ("composeExtension/query", {"commandId": "search"}, 501),
        ("signin/verifyState", {"state": "123456"}, 501),
        ("something/else", {}, 501),
    ],
)
async def test_an_invoke_the_bot_does_not_handle_is_refused_cleanly_never_a_500(
    http, base_url, name, value, expected
):
    conversation = {"id": f"a:{uuid.uuid4().hex}", "conversationType": "personal"}
    invoke = teams_activity("invoke", conversation, name=name, value=value, deliveryMode="normal")

    async with http.post(f"{base_url}/api/messages", json=invoke) as response:
        assert response.status == expected
