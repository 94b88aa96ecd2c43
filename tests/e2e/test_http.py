"""The real aiohttp app over HTTP on loopback: expectReplies, bad requests, auth, probes."""

from __future__ import annotations

import asyncio
import gc
import uuid

import aiohttp
import pytest
from botbuilder.schema import Activity

from tests.conftest import free_port, make_settings
from tests.support.chat import card_parts


def activity(text: str | None = "hi", **fields: object) -> dict[str, object]:
    body: dict[str, object] = {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "from": {"id": "29:user-1", "name": "Mei Lin"},
        "recipient": {"id": "28:bot", "name": "Membership bot"},
        "conversation": {"id": f"a:{uuid.uuid4().hex}"},
        "locale": "en-US",
        "deliveryMode": "expectReplies",
    }
    if text is not None:
        body["text"] = text
    body.update(fields)
    return body


def texts_of(reply: dict[str, object]) -> list[str]:
    out = []
    for item in reply["activities"]:  # type: ignore[union-attr]
        out.append(item.get("text") or "")
        for attachment in item.get("attachments") or []:
            out += card_parts(attachment["content"])[0]  # an Adaptive Card's texts
    return [t for t in out if t]


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def base_url(serve_app, sqlite_url):
    return await serve_app(make_settings(sqlite_url))


async def test_expect_replies_returns_the_bots_answers_in_the_response(http, base_url):
    conversation = {"id": f"a:{uuid.uuid4().hex}"}
    async with http.post(
        f"{base_url}/api/messages", json=activity("hello", conversation=conversation)
    ) as response:
        assert response.status == 200
        first = await response.json()
    async with http.post(
        f"{base_url}/api/messages", json=activity("9", conversation=conversation)
    ) as response:
        second = await response.json()

    assert texts_of(first)[-1].startswith("What would you like to do?")
    assert texts_of(second)[0].startswith("I guide Microsoft Partner Network members")


async def test_expect_replies_speaks_the_activitys_locale(http, base_url):
    async with http.post(
        f"{base_url}/api/messages", json=activity("說明", locale="zh-tw")
    ) as response:
        body = await response.json()

    assert "在任何步驟中" in texts_of(body)[0]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not an activity"),
        (b'{"text": "no type"}', "not an activity"),
        (b'{"type": "message", "conversation": {"id": "c"}, "timestamp": "yesterday-ish"}',
         "wrong type"),
        (b'{"type": "message"}', "no conversation id"),
        ("\udcff".encode("utf-8", "surrogatepass"), "not valid JSON"),
    ],
)  # fmt: skip
async def test_a_malformed_body_is_a_400_that_says_what_is_wrong(http, base_url, payload, reason):
    async with http.post(
        f"{base_url}/api/messages", data=payload, headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
        assert reason in (await response.json())["reason"]


async def test_a_body_that_is_not_json_at_all_is_refused_as_unsupported(http, base_url):
    async with http.post(
        f"{base_url}/api/messages", data="hello", headers={"Content-Type": "text/plain"}
    ) as response:
        assert response.status == 415


async def test_an_oversized_body_is_a_413(http, base_url):
    huge = activity("x" * (300 * 1024))
    async with http.post(f"{base_url}/api/messages", json=huge) as response:
        assert response.status == 413


async def test_a_malformed_token_is_a_401_even_without_an_app_id(http, base_url):
    async with http.post(
        f"{base_url}/api/messages", json=activity(), headers={"Authorization": "Bearer garbage"}
    ) as response:
        assert response.status == 401


@pytest.fixture
async def secured_url(serve_app, sqlite_url):
    return await serve_app(
        make_settings(
            sqlite_url,
            microsoft_app_id="11111111-2222-3333-4444-555555555555",
            microsoft_app_password="not-a-real-secret",
        )
    )


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer garbage",
        # A well-formed JWT from an issuer the Bot Framework does not trust.
        "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2V2aWwuZXhhbXBsZSIs"
        "ImF1ZCI6IjExMTExMTExLTIyMjItMzMzMy00NDQ0LTU1NTU1NTU1NTU1NSJ9.c2lnbmF0dXJl",
    ],
)
async def test_with_an_app_id_a_missing_or_bad_token_is_a_401(http, secured_url, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    async with http.post(
        f"{secured_url}/api/messages", json=activity(), headers=headers
    ) as response:
        assert response.status == 401


async def test_with_an_app_id_there_is_no_local_chat_page(http, secured_url):
    async with http.get(f"{secured_url}/") as response:
        assert response.status == 404


async def test_healthz_and_readyz_answer_when_the_database_is_reachable(http, base_url):
    async with http.get(f"{base_url}/healthz") as health, http.get(f"{base_url}/readyz") as ready:
        assert (health.status, ready.status) == (200, 200)
        assert (await ready.json())["status"] == "ready"


async def test_readyz_is_503_while_the_database_is_unreachable_and_healthz_stays_up(
    http, serve_app
):
    unreachable = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres"
    base = await serve_app(make_settings(unreachable))

    async with http.get(f"{base}/readyz") as ready, http.get(f"{base}/healthz") as health:
        assert ready.status == 503
        assert health.status == 200


async def test_expect_replies_never_hands_out_debugging_traces(http, base_url):
    async with http.post(f"{base_url}/api/messages", json=activity("hello")) as response:
        body = await response.json()

    assert [item["type"] for item in body["activities"]] == ["message", "message"]


async def test_many_concurrent_turns_on_sqlite_all_succeed_without_database_is_locked(
    http, base_url
):
    conversations = [{"id": f"a:{uuid.uuid4().hex}"} for _ in range(48)]

    async def turn(conversation: dict[str, str], text: str) -> list[str]:
        payload = activity(text, conversation=conversation, **{"from": {"id": conversation["id"]}})
        async with http.post(f"{base_url}/api/messages", json=payload) as response:
            assert response.status == 200
            return texts_of(await response.json())

    first = await asyncio.gather(*(turn(c, "hello") for c in conversations))
    second = await asyncio.gather(*(turn(c, "9") for c in conversations))

    assert all(replies[0].startswith("Hello!") for replies in first)
    assert all(replies[0].startswith("I guide Microsoft Partner Network") for replies in second)


async def test_a_quick_double_message_in_one_conversation_is_answered_in_order(http, base_url):
    conversation = {"id": f"a:{uuid.uuid4().hex}"}
    async with http.post(
        f"{base_url}/api/messages", json=activity("hello", conversation=conversation)
    ):
        pass

    async def turn(text: str) -> list[str]:
        payload = activity(text, conversation=conversation)
        async with http.post(f"{base_url}/api/messages", json=payload) as response:
            return texts_of(await response.json())

    status, help_ = await asyncio.gather(turn("7"), turn("9"))

    # Neither message was lost to a race: both were answered as menu choices.
    assert status[0].startswith("I can't find you in your organization's directory")
    assert "At any step you can type" in help_[0]


async def test_a_finished_turn_is_freed_at_once_not_left_for_the_garbage_collector(http, base_url):
    # A turn left in a reference cycle waits for a full collection, which stalls every turn
    # in flight (issue 9, decision 0011): its activities must go as soon as it is answered.
    conversations = [{"id": f"a:{uuid.uuid4().hex}"} for _ in range(3)]

    async def turn(text: str, conversation: dict[str, str]) -> None:
        body = activity(text, conversation=conversation)
        async with http.post(f"{base_url}/api/messages", json=body) as response:
            assert response.status == 200
            assert (await response.json())["activities"]

    for conversation in conversations:
        await turn("hi", conversation)  # start each dialog; caches warm
    gc.collect()
    gc.disable()
    try:
        before = sum(isinstance(o, Activity) for o in gc.get_objects())
        for text in ("help", "menu", "7", "menu", "help"):
            for conversation in conversations:
                await turn(text, conversation)
        after = sum(isinstance(o, Activity) for o in gc.get_objects())
    finally:
        gc.enable()
    assert after - before < 3  # 15 turns, each with an incoming activity and its replies
