"""Our reply serializer writes exactly what msrest writes, for every kind of reply we send."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import (
    ActionTypes,
    Activity,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    Entity,
    ExpectedReplies,
    HeroCard,
    Mention,
    SuggestedActions,
)
from msrest.exceptions import DeserializationError
from msrest.serialization import Model

from bot.wire import dumps, from_wire, to_wire
from tests.support.chat import Chat

ADAPTIVE_CARD = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [{"type": "TextBlock", "text": "續約", "wrap": True}],
    "actions": [{"type": "Action.Submit", "title": "OK", "data": {"action": "renew", "n": 1.5}}],
}


def _corpus() -> list[Activity]:
    hero = HeroCard(
        text="Pick one", buttons=[CardAction(type=ActionTypes.im_back, title="說明", value="說明")]
    )
    mention = Mention(
        mentioned=ChannelAccount(id="29:1", name="Mei"), text="<at>Mei</at>", type="mention"
    )
    return [
        MessageFactory.text("hello", input_hint="expectingInput"),
        MessageFactory.attachment(CardFactory.hero_card(hero)),
        MessageFactory.attachment(CardFactory.adaptive_card(ADAPTIVE_CARD)),
        MessageFactory.suggested_actions(
            [CardAction(type=ActionTypes.im_back, title="English", value="English")], "Language?"
        ),
        Activity(
            type="message",
            text="<at>Mei</at> hi",
            entities=[mention, Entity(type="clientInfo")],
            timestamp=datetime(2026, 11, 24, 9, 30, 1, 120000, tzinfo=UTC),
            channel_data={"tenant": {"id": "t-1"}, "notification": {"alert": True}},
            from_property=ChannelAccount(id="28:bot", name="bot", role="bot"),
            conversation=ConversationAccount(
                id="a:1", tenant_id="t-1", conversation_type="personal"
            ),
            suggested_actions=SuggestedActions(to=["29:1"], actions=[]),
            value={"when": "2026-11-24", "nested": [1, {"x": None}]},
        ),
        Activity(type="trace", name="x", value=3, label="l", value_type="v"),
        Activity(type="event", name="handoff.initiate", value={"reason": "asked"}),
        # Inside plain content: a model, a date, a value JSON has no form for, an empty list.
        Activity(
            type="event",
            value={
                "card": HeroCard(title="t"),
                "at": [datetime(2026, 11, 24, 9, 30, tzinfo=UTC)],
                "raw": b"bytes",
                "empty": [],
            },
        ),
    ]


@pytest.mark.parametrize("activity", _corpus(), ids=lambda a: a.type)
def test_each_kind_of_activity_serializes_exactly_as_msrest_does(activity):
    assert to_wire(activity) == activity.serialize()
    # The response's own encoding, which leaves plain data to the C encoder, writes the same.
    assert json.loads(dumps(activity)) == json.loads(json.dumps(activity.serialize()))


async def test_the_bots_real_replies_serialize_exactly_as_msrest_does(journey_services):
    from botbuilder.core import MemoryStorage

    chat = Chat(MemoryStorage(), journey_services, locale="zh-TW")
    await chat.join()
    await chat.adapter.receive_activity(
        Activity(type="message", text="2", from_property=chat.user, conversation=chat.conversation)
    )
    replies = []
    while (reply := chat.adapter.get_next_activity()) is not None:
        replies.append(reply)

    assert replies
    expected = ExpectedReplies(activities=replies).serialize()
    assert {"activities": [to_wire(a) for a in replies]} == expected
    assert json.loads(dumps({"activities": replies})) == json.loads(json.dumps(expected))


def _nested(depth: int) -> object:
    value: object = "bottom"
    for _ in range(depth):
        value = {"inner": [value]}
    return value


@pytest.mark.parametrize(
    "value",
    [
        {"activities": [{"value": {1: "one", 2.5: "two and a half", None: "none"}}]},
        {"activities": [{"value": {"big": 2**70, "small": -(2**70)}}]},
        {"activities": [{"value": _nested(300)}]},
    ],
    ids=["keys that are not text", "integers beyond 64 bits", "deeper than 254"],
)
def test_what_the_fast_encoder_refuses_is_written_as_json_writes_it(value):
    assert json.loads(dumps(value)) == json.loads(json.dumps(value))


def test_the_reply_body_is_utf8_with_the_text_as_written():
    body = dumps({"activities": [MessageFactory.text("續約成功")]})

    assert "續約成功" in body.decode("utf-8")
    assert json.loads(body)["activities"][0]["text"] == "續約成功"


# The way in: what channels send, read exactly as msrest reads it.

_TEAMS_USER = {"id": "29:1abc", "name": "Mei Lin", "aadObjectId": "mei.lin"}
_BOT = {"id": "28:membership-bot", "name": "membership-bot"}
_INCOMING: list[dict[str, object]] = [
    {
        "type": "message", "id": "1700000000001", "text": "status", "textFormat": "plain",
        "timestamp": "2026-11-24T09:00:00.123Z", "localTimestamp": "2026-11-24T17:00:00.123+08:00",
        "localTimezone": "Asia/Taipei", "channelId": "msteams",
        "serviceUrl": "https://smba.trafficmanager.net/apac/", "from": _TEAMS_USER,
        "recipient": _BOT, "locale": "zh-TW", "deliveryMode": "expectReplies",
        "conversation": {"id": "a:1xyz", "conversationType": "personal", "tenantId": "t-1"},
        "channelData": {"tenant": {"id": "t-1"}, "source": {"name": "message"}, "n": [1, None]},
        "entities": [{"type": "clientInfo", "locale": "zh-TW", "country": "TW",
                      "platform": "Web", "timezone": "Asia/Taipei"}],
    },
    {
        "type": "conversationUpdate", "id": "f:2", "channelId": "msteams",
        "serviceUrl": "http://127.0.0.1:9/", "from": _TEAMS_USER, "recipient": _BOT,
        "conversation": {"id": "a:1xyz", "isGroup": False},
        "membersAdded": [_TEAMS_USER, _BOT], "membersRemoved": [],
    },
    {
        "type": "installationUpdate", "action": "add", "channelId": "msteams",
        "serviceUrl": "http://127.0.0.1:9/", "from": _TEAMS_USER, "recipient": _BOT,
        "conversation": {"id": "19:channel@thread.tacv2", "conversationType": "channel",
                         "isGroup": True, "name": "General"},
        "channelData": {"team": {"id": "19:team", "name": "Partners"},
                        "eventType": "teamMemberAdded"},
    },
    {
        "type": "invoke", "name": "adaptiveCard/action", "channelId": "msteams",
        "serviceUrl": "http://127.0.0.1:9/", "from": _TEAMS_USER, "recipient": _BOT,
        "conversation": {"id": "a:1xyz"}, "replyToId": "1700000000001",
        "value": {"action": {"type": "Action.Execute", "verb": "renew",
                             "data": {"action": "renew.yes", "n": 1.5, "ok": True}}},
    },
    {
        "type": "message", "text": "<at>membership-bot</at> help", "channelId": "msteams",
        "serviceUrl": "http://127.0.0.1:9/", "from": {**_TEAMS_USER, "role": "user"},
        "recipient": _BOT, "conversation": {"id": "19:c", "conversationType": "channel"},
        "entities": [{"type": "mention", "text": "<at>membership-bot</at>", "mentioned": _BOT}],
        "attachments": [{"contentType": "text/html", "content": "<div>help</div>"}],
        "value": {"action": "menu.status"}, "relatesTo": {"activityId": "9", "channelId": "msteams",
        "conversation": {"id": "19:c"}, "serviceUrl": "http://127.0.0.1:9/"},
        "suggestedActions": {"to": ["29:1"], "actions": [{"type": "imBack", "title": "OK",
                             "value": "OK"}]},
        "textHighlights": [{"text": "help", "occurrence": 1}], "listenFor": ["yes"],
        "reactionsAdded": [{"type": "like"}], "expiration": "2026-11-25T00:00:00Z",
        "importance": "high", "semanticAction": {"id": "s", "state": "start", "entities": {
            "e": {"type": "x", "extra": 1}}},
    },
    # Keys no attribute maps to are kept as additional properties, on nested models too.
    {
        "type": "event", "name": "handoff.status", "channelId": "directline",
        "serviceUrl": "http://127.0.0.1:9/", "from": {"id": "u", "unknown": {"a": 1}},
        "conversation": {"id": "c"}, "somethingNew": [1, "two", None],
    },
    # What the fast path is not sure about goes to msrest, which gives its own answer.
    {"type": "message", "id": 42, "conversation": {"id": 7}, "channelId": "msteams"},
    {"type": "message", "conversation": {"id": "c"}, "entities": "not a list"},
    {"type": "message", "conversation": {"id": "c"}, "from": "not an object"},
    {"type": "message", "conversation": {"id": "c", "isGroup": "true"}},
]  # fmt: skip


def _plain(value: object) -> object:
    """A model as its class and attributes, all the way down, for comparing readings."""
    if isinstance(value, Model):
        return (type(value).__name__, {k: _plain(v) for k, v in sorted(vars(value).items())})
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize("body", _INCOMING, ids=lambda body: str(body.get("type")))
def test_each_kind_of_incoming_activity_reads_exactly_as_msrest_reads_it(body):
    try:
        expected = Activity().deserialize(copy.deepcopy(body))
    except DeserializationError as refused:  # and what msrest refuses is refused alike
        with pytest.raises(type(refused)):
            from_wire(Activity, copy.deepcopy(body))
        return

    read = from_wire(Activity, copy.deepcopy(body))

    assert _plain(read) == _plain(expected)
    assert to_wire(read) == to_wire(expected)


def test_a_date_msrest_cannot_read_is_refused_alike():
    body = {"type": "message", "conversation": {"id": "c"}, "timestamp": "not a date"}
    with pytest.raises(DeserializationError):
        Activity().deserialize(dict(body))
    with pytest.raises(DeserializationError):
        from_wire(Activity, dict(body))
