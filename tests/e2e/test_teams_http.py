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
from services.demo_data import load_demo
from services.i18n import Locale
from services.unit_of_work import UnitOfWorkFactory
from tests.conftest import make_settings
from tests.support.chat import card_parts
from tests.support.connector import connector_stand_in
from tests.support.language import check, check_json, known_words
from tests.support.teams import texts as said

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
async def demo_url(serve_app, sqlite_url, clock):
    """The app on the demo data, at the tests' fixed clock."""
    engine = db.create_engine(sqlite_url)
    await load_demo(UnitOfWorkFactory(engine), clock)
    await engine.dispose()
    return await serve_app(make_settings(sqlite_url), clock=clock)


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
    # A team channel or a group chat is greeted in each language, the sender's first.
    shared = body["conversation"].get("conversationType") in ("channel", "groupChat")
    readers = (body["locale"], *Locale) if shared else body["locale"]
    for reply in (replies or {}).get("activities", []):
        check_json(reply, readers, known, checked=reply.get("type") == "message")
    if replies is not None and isinstance(replies.get("value"), str):  # an invoke's answer
        replies["value"] = check(replies["value"], readers, known)
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


GROUP_WELCOME = "Hello, everyone! I'm the Microsoft Partner Network membership assistant."
GROUP_WELCOME_ZH = "大家好！我是 Microsoft 合作夥伴網路的會員小幫手。"


async def test_a_group_chat_is_greeted_once_in_both_languages_with_a_way_to_chat_one_to_one(
    http, base_url
):
    conversation = {"id": f"19:{uuid.uuid4().hex}@thread.v2", "conversationType": "groupChat"}
    first = await post(http, base_url, bot_added(conversation))
    newcomer = {"id": "29:kenji", "aadObjectId": "kenji.sato"}

    later = texts(await post(http, base_url, bot_added(conversation, membersAdded=[newcomer])))

    [greeting] = texts(first)
    english, chinese = greeting.split("\n")
    assert english.startswith(GROUP_WELCOME) and chinese.startswith(GROUP_WELCOME_ZH)
    assert "What would you like to do?" not in greeting  # no menu: the journeys are one-to-one
    assert links(first) == [CHAT_LINK]
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


MENTION = {"type": "mention", "text": "<at>Membership bot</at>", "mentioned": BOT}
CHAT_LINK = "https://teams.microsoft.com/l/chat/0/0?users=28:bot"


def shared_message(conversation: dict[str, Any], text: str, **fields: Any) -> dict[str, Any]:
    """A message that mentions the bot in a team channel's thread or a group chat."""
    body = teams_activity(
        "message", conversation, text=f"<at>Membership bot</at> {text}", entities=[MENTION],
        **fields,
    )  # fmt: skip
    if conversation["conversationType"] == "channel":
        team = conversation["id"].partition(";")[0]
        body["channelData"] = {"tenant": {"id": TENANT}, "team": {"id": team, "name": "Sales"},
                               "channel": {"id": team}}  # fmt: skip
    return body


def links(body: dict[str, Any] | None) -> list[str]:
    """The URLs the replies' buttons open."""
    return [
        button["url"]
        for activity in (body or {}).get("activities", [])
        for attachment in activity.get("attachments") or []
        for button in card_parts(attachment.get("content") or {})[1]
        if button["type"] == "Action.OpenUrl"
    ]


def said_in(connector, conversation_id: str) -> list[str]:
    """What the app posted to one conversation, a message a line (cards' texts included)."""
    return [
        said([activity])
        for activity in connector.activities
        if activity["_conversation"] == conversation_id
    ]


CHANNEL = {"conversationType": "channel", "isGroup": True}
GROUP_CHAT = {"conversationType": "groupChat", "isGroup": True}


TEAM_WELCOME_ZH = "大家好！我是 Microsoft 合作夥伴網路的會員小幫手，現已安裝在這個頻道。"


@pytest.mark.parametrize("installer", ["en-US", "zh-TW"])
async def test_the_team_channel_greeting_is_in_both_languages_whoever_installs_the_app(
    http, base_url, installer
):
    team = f"19:{uuid.uuid4().hex}@thread.tacv2"

    body = await post(http, base_url, team_event("installationUpdate", team, action="add",
                                                 locale=installer))  # fmt: skip

    [greeting] = texts(body)
    first, second = greeting.split("\n")
    if installer == "zh-TW":  # the installer's language first
        first, second = second, first
    assert first.startswith(TEAM_WELCOME) and second.startswith(TEAM_WELCOME_ZH)
    [button] = [
        b for a in body["activities"] for b in card_parts(a["attachments"][0]["content"])[1]
    ]
    assert button["type"] == "Action.OpenUrl" and button["url"] == CHAT_LINK
    labels = ["Chat with me one-to-one", "與我一對一聊天"]
    assert button["title"] == " / ".join(labels if installer == "en-US" else labels[::-1])


@pytest.mark.parametrize(
    ("where", "locale", "typed", "note", "intro"),
    [
        ("channel", "en-US", "status", "I've answered you in our one-to-one chat",
         "You wrote to me in a team channel: “status”."),
        ("channel", "zh-TW", "會員狀態", "我已在我們的一對一聊天中回覆您",
         "您在團隊頻道中對我說：「會員狀態」。"),
        ("group chat", "en-US", "status", "I've answered you in our one-to-one chat",
         "You wrote to me in a group chat: “status”."),
        ("group chat", "zh-TW", "會員狀態", "我已在我們的一對一聊天中回覆您",
         "您在群組聊天中對我說：「會員狀態」。"),
    ],
)  # fmt: skip
async def test_a_mention_in_a_channel_or_group_chat_is_answered_one_to_one_and_shows_no_data_there(
    http, demo_url, where, locale, typed, note, intro
):
    if where == "channel":
        conversation = {**CHANNEL, "id": f"19:{uuid.uuid4().hex}@thread.tacv2;messageid=1"}
    else:
        conversation = {**GROUP_CHAT, "id": f"19:{uuid.uuid4().hex}@thread.v2"}
    async with connector_stand_in() as connector:
        message = shared_message(conversation, typed, serviceUrl=connector.url, locale=locale)

        body = await post(http, demo_url, message)

    there = "\n".join(texts(body))
    assert len(texts(body)) == 1 and there.startswith(
        f"Mei Lin{'，' if locale == 'zh-TW' else ','}"
    )
    assert note in there
    for organization_data in ("Contoso", "4100001", "MPN", "What would you like", "您想做什麼"):
        assert organization_data not in there
    assert links(body) == [CHAT_LINK]
    [created] = connector.created
    assert created["members"] == [{"id": "29:mei"}] and created["isGroup"] is False
    assert created["channelData"]["tenant"]["id"] == TENANT and created["bot"]["id"] == BOT["id"]
    personal = connector.personal["29:mei"]
    assert {a["_conversation"] for a in connector.activities} == {personal}
    answered = "\n".join(said_in(connector, personal))
    assert answered.startswith(intro)
    assert "Contoso Taiwan Ltd." in answered  # the status card, for her eyes only


async def test_a_mention_is_answered_in_the_users_own_chat_where_their_journey_goes_on(
    http, demo_url
):
    async with connector_stand_in() as connector:
        chat = {"id": f"a:{uuid.uuid4().hex}", "conversationType": "personal"}
        connector.personal["29:mei"] = chat["id"]  # Teams gives back the chat they already have
        start = teams_activity("message", chat, text="Create the Partner Center account",
                               serviceUrl=connector.url)  # fmt: skip
        question = said((await post(http, demo_url, start))["activities"][-1:])
        team = {**CHANNEL, "id": f"19:{uuid.uuid4().hex}@thread.tacv2;messageid=7"}

        await post(http, demo_url, shared_message(team, "help", serviceUrl=connector.url))

        answered = said_in(connector, chat["id"])

    assert question.startswith("Creating the Partner Center account takes a few minutes")
    assert answered[0] == (
        "You wrote to me in a team channel: “help”. I answer you here, where only you can see it."
    )
    assert answered[1].startswith(
        "I guide Microsoft Partner Network members"
    )  # the mention is gone
    assert answered[2] == question  # the journey's question, asked again


@pytest.mark.parametrize(
    ("locale", "called", "welcome"),
    [
        ("en-US", "You called me in a group chat.", WELCOME),
        ("zh-TW", "您在群組聊天中呼叫了我。", "您好！我是 Microsoft 合作夥伴網路的會員小幫手。"),
    ],
)
async def test_a_bare_mention_opens_the_one_to_one_chat_with_the_welcome_and_the_menu(
    http, demo_url, locale, called, welcome
):
    conversation = {**GROUP_CHAT, "id": f"19:{uuid.uuid4().hex}@thread.v2"}
    async with connector_stand_in() as connector:
        await post(http, demo_url, shared_message(conversation, "", serviceUrl=connector.url,
                                                  locale=locale))  # fmt: skip

        answered = said_in(connector, connector.personal["29:mei"])

    assert answered[0].startswith(called)
    assert answered[1].startswith(welcome)
    assert len(answered) == 3  # and the menu


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
async def test_when_teams_will_not_let_the_bot_start_the_chat_the_user_is_asked_to_open_it(
    http, demo_url, locale
):
    conversation = {**GROUP_CHAT, "id": f"19:{uuid.uuid4().hex}@thread.v2"}
    async with connector_stand_in() as connector:
        connector.refused.add("29:mei")
        message = shared_message(conversation, "renew", serviceUrl=connector.url, locale=locale)

        body = await post(http, demo_url, message)

    there = "\n".join(texts(body))
    asked = (
        "Open our chat and ask me there."
        if locale == "en-US"
        else "請開啟我們的一對一聊天，在那裡問我。"
    )
    assert asked in there and "Contoso" not in there
    assert links(body) == [CHAT_LINK]
    assert connector.activities == []  # nothing said anywhere else


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


UNKNOWN_TENANT = "00000000-0000-4000-8000-00000000dead"
REFUSED = "I can't find you in your organization's directory, so I can't look up its membership."
PAGE_HINT = "(On the local chat page, pick a demo user at the top.)"


async def test_a_teams_user_of_an_unknown_tenant_is_refused_without_the_local_pages_hint(
    http, base_url
):
    conversation = {"id": f"a:{uuid.uuid4().hex}", "conversationType": "personal"}
    message = teams_activity("message", conversation, text="status")
    message["conversation"]["tenantId"] = UNKNOWN_TENANT
    message["channelData"] = {"tenant": {"id": UNKNOWN_TENANT}}

    replies = texts(await post(http, base_url, message))

    assert replies[0] == REFUSED


@pytest.mark.parametrize("teams", [False, True])
async def test_on_the_local_chat_page_an_unknown_user_is_told_to_pick_a_demo_user(
    http, base_url, teams
):
    opened = await http.post(
        f"{base_url}/v3/directline/conversations",
        json={"user": {"id": "dl_8f2a", "name": "You"}, "locale": "en-US", "teams": teams},
    )
    conversation = await opened.json()
    headers = {"Authorization": f"Bearer {conversation['token']}"}
    activities = (
        f"{base_url}/v3/directline/conversations/{conversation['conversationId']}/activities"
    )

    sent = await http.post(activities, headers=headers, json={"type": "message", "text": "status"})
    assert sent.status == 200
    async with http.get(activities, headers=headers) as response:
        logged = (await response.json())["activities"]

    said = [
        check(a.get("text") or "", "en-US")
        for a in logged
        if a.get("from", {}).get("role") == "bot"
    ]
    assert f"{REFUSED} {PAGE_HINT}" in said
