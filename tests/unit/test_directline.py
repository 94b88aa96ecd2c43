"""The Direct Line emulation on its own, with a recording fake bot that replies like a real one."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot import directline
from bot.directline import setup_directline


class EchoBot:
    """Records what it is given and answers through the connector route, as the SDK does."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def deliver(self, activity: dict[str, Any]) -> None:
        self.received.append(activity)
        if activity["type"] != "message":
            return
        conversation = activity["conversation"]["id"]
        url = f"{activity['serviceUrl']}v3/conversations/{conversation}/activities/{activity['id']}"
        async with aiohttp.ClientSession() as session:
            reply = {
                "type": "message",
                "text": f"echo: {activity['text']}",
                "replyToId": activity["id"],
            }
            async with session.post(url, json=reply) as response:
                assert response.status == 200


@pytest.fixture
def bot() -> EchoBot:
    return EchoBot()


@pytest.fixture
async def client(bot, tmp_path):
    webchat = tmp_path / "webchat.js"
    webchat.write_text("window.WebChat = {};")
    app = web.Application()
    setup_directline(app, deliver=bot.deliver, webchat_js=webchat)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


async def _start(client: TestClient, locale: str = "zh-TW") -> tuple[str, dict[str, str]]:
    generated = await client.post(
        "/v3/directline/tokens/generate",
        json={"user": {"id": "dl_1", "name": "Mei"}, "locale": locale},
    )
    token = (await generated.json())["token"]
    headers = {"Authorization": f"Bearer {token}"}
    started = await client.post("/v3/directline/conversations", headers=headers)
    assert started.status == 201
    return (await started.json())["conversationId"], headers


async def test_starting_a_conversation_tells_the_bot_who_joined_in_which_language(client, bot):
    await _start(client, locale="zh-TW")

    update = bot.received[0]
    assert update["type"] == "conversationUpdate"
    assert [m["id"] for m in update["membersAdded"]] == ["dl_1", directline.BOT_ACCOUNT["id"]]
    assert update["locale"] == "zh-TW"


async def test_a_users_message_reaches_the_bot_and_its_reply_comes_back_after_the_watermark(
    client, bot
):
    conversation, headers = await _start(client)
    url = f"/v3/directline/conversations/{conversation}/activities"

    posted = await client.post(
        url, json={"type": "message", "text": "說明", "from": {"id": "dl_1"}}, headers=headers
    )
    first = await (await client.get(url, headers=headers)).json()
    again = await (
        await client.get(f"{url}?watermark={first['watermark']}", headers=headers)
    ).json()

    assert posted.status == 200
    assert bot.received[-1]["text"] == "說明"
    assert bot.received[-1]["channelId"] == "webchat"
    assert [a["text"] for a in first["activities"]] == ["說明", "echo: 說明"]
    assert first["activities"][1]["replyToId"] == (await posted.json())["id"]
    assert again["activities"] == []


async def test_another_conversations_token_is_refused(client):
    conversation, _ = await _start(client)
    _, other_headers = await _start(client)

    response = await client.get(
        f"/v3/directline/conversations/{conversation}/activities", headers=other_headers
    )

    assert response.status == 401


@pytest.mark.parametrize(
    "path", ["/v3/directline/conversations/nope/activities", "/v3/conversations/nope/activities"]
)
async def test_an_unknown_conversation_is_a_404(client, path):
    response = await client.post(path, json={"type": "message"})

    assert response.status == 404


async def test_malformed_activities_and_watermarks_are_400s_not_500s(client):
    conversation, headers = await _start(client)
    url = f"/v3/directline/conversations/{conversation}/activities"

    not_json = await client.post(url, data=b"{oops", headers=headers)
    no_type = await client.post(url, json={"text": "hi"}, headers=headers)
    bad_watermark = await client.get(f"{url}?watermark=abc", headers=headers)

    assert (not_json.status, no_type.status, bad_watermark.status) == (400, 400, 400)


async def test_a_conversation_started_without_a_token_hands_one_out_and_greets(client, bot):
    started = await client.post(
        "/v3/directline/conversations", json={"user": {"id": "dl_2"}, "locale": "en-US"}
    )
    body = await started.json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    url = f"/v3/directline/conversations/{body['conversationId']}"

    resumed = await client.post("/v3/directline/conversations", headers=headers)
    reconnected = await client.get(url, headers=headers)

    assert started.status == 201 and body["expires_in"] > 0
    assert (resumed.status, reconnected.status) == (201, 200)
    assert (await resumed.json())["conversationId"] == body["conversationId"]
    assert [a["type"] for a in bot.received] == ["conversationUpdate"]  # greeted once
    assert bot.received[0]["membersAdded"][0]["id"] == "dl_2"


async def test_a_token_that_opens_no_conversation_is_refused(client):
    bogus = {"Authorization": "Bearer not-a-token"}

    started = await client.post("/v3/directline/conversations", headers=bogus)
    refreshed = await client.post("/v3/directline/tokens/refresh", headers=bogus)

    assert (started.status, refreshed.status) == (401, 401)


async def test_the_bot_edits_its_message_and_the_user_sees_the_new_text(client):
    conversation, headers = await _start(client)
    url = f"/v3/directline/conversations/{conversation}/activities"
    await client.post(url, json={"type": "message", "text": "hi"}, headers=headers)
    before = await (await client.get(url, headers=headers)).json()
    reply_id = before["activities"][1]["id"]

    edited = await client.put(
        f"/v3/conversations/{conversation}/activities/{reply_id}",
        json={"type": "message", "text": "edited"},
    )
    after = await (
        await client.get(f"{url}?watermark={before['watermark']}", headers=headers)
    ).json()
    everything = await (await client.get(url, headers=headers)).json()
    missing = await client.put(
        f"/v3/conversations/{conversation}/activities/nope", json={"type": "message"}
    )

    assert edited.status == 200 and (await edited.json())["id"] == reply_id
    assert [(a["id"], a["text"]) for a in after["activities"]] == [(reply_id, "edited")]
    assert "echo: hi" not in [a["text"] for a in everything["activities"]]
    assert missing.status == 404


async def test_the_log_is_bounded_and_watermarks_stay_valid(monkeypatch):
    monkeypatch.setattr(directline, "MAX_ACTIVITIES", 3)
    conversation = directline.DirectLineStore().create({"id": "u"}, "en-US")
    for n in range(5):
        conversation.append({"type": "message", "text": str(n)})

    activities, watermark = conversation.since(1)

    assert [a["text"] for a in activities] == ["2", "3", "4"]
    assert watermark == 5


async def test_the_store_forgets_the_oldest_conversation_beyond_its_bound(monkeypatch):
    monkeypatch.setattr(directline, "MAX_CONVERSATIONS", 2)
    store = directline.DirectLineStore()
    first = store.create({"id": "a"}, "en-US")
    store.create({"id": "b"}, "en-US")
    store.create({"id": "c"}, "en-US")

    assert store.by_id(first.id) is None and store.by_token(first.token) is None


async def test_the_page_and_the_web_chat_bundle_are_served(client):
    page = await client.get("/")
    bundle = await client.get("/webchat.js")

    assert page.status == 200 and "Membership bot — local chat" in await page.text()
    assert bundle.status == 200 and await bundle.text() == "window.WebChat = {};"


async def test_without_the_web_chat_bundle_the_page_says_how_to_get_it(bot, tmp_path):
    app = web.Application()
    setup_directline(app, deliver=bot.deliver, webchat_js=tmp_path / "missing.js")
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get("/webchat.js")

        assert response.status == 503
        assert "make webchat" in await response.text()


TENANT = "7f3c2a10-0000-4000-8000-000000c0de01"


@pytest.fixture
async def teams_client(bot, tmp_path):
    async def demo_users() -> list[dict[str, str | None]]:
        return [
            {"id": "mei.lin", "name": "Mei Lin", "tenantId": TENANT},
            {"id": "olivia.wang", "name": "Olivia Wang", "tenantId": None},
        ]

    app = web.Application()
    setup_directline(
        app, deliver=bot.deliver, webchat_js=tmp_path / "webchat.js", demo_users=demo_users
    )
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


async def _start_as_teams(client: TestClient, user: str) -> tuple[str, dict[str, str]]:
    generated = await client.post(
        "/v3/directline/tokens/generate",
        json={"user": {"id": user, "name": user}, "locale": "zh-TW", "teams": True},
    )
    token = (await generated.json())["token"]
    headers = {"Authorization": f"Bearer {token}"}
    started = await client.post("/v3/directline/conversations", headers=headers)
    return (await started.json())["conversationId"], headers


async def test_acting_as_teams_starts_with_an_installation_and_stamps_what_teams_sends(
    teams_client, bot
):
    conversation, headers = await _start_as_teams(teams_client, "mei.lin")
    await teams_client.post(
        f"/v3/directline/conversations/{conversation}/activities",
        json={"type": "message", "text": "hi", "from": {"id": "mei.lin", "role": "user"}},
        headers=headers,
    )

    installation, update, message = bot.received
    assert (installation["type"], installation["action"]) == ("installationUpdate", "add")
    assert update["type"] == "conversationUpdate"
    for activity in bot.received:
        assert activity["channelId"] == "msteams"
        assert activity["channelData"]["tenant"] == {"id": TENANT}
        assert activity["conversation"] == {
            "id": conversation, "tenantId": TENANT, "conversationType": "personal",
        }  # fmt: skip
        assert activity["from"]["aadObjectId"] == "mei.lin"
        assert activity["locale"] == "zh-TW"
    assert message["text"] == "hi"


async def test_acting_as_teams_a_demo_user_without_a_tenant_sends_none(teams_client, bot):
    await _start_as_teams(teams_client, "olivia.wang")

    assert [a["channelId"] for a in bot.received] == ["msteams", "msteams"]
    assert all("channelData" not in a and "tenantId" not in a["conversation"]
               for a in bot.received)  # fmt: skip


async def test_without_acting_as_teams_the_activities_are_web_chats(teams_client, bot):
    generated = await teams_client.post(
        "/v3/directline/tokens/generate", json={"user": {"id": "mei.lin"}}
    )
    token = (await generated.json())["token"]
    await teams_client.post(
        "/v3/directline/conversations", headers={"Authorization": f"Bearer {token}"}
    )

    [update] = bot.received
    assert update["channelId"] == "webchat" and "channelData" not in update
    assert update["conversation"] == {"id": update["conversation"]["id"]}
