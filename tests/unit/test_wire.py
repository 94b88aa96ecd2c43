"""Our reply serializer writes exactly what msrest writes, for every kind of reply we send."""

from __future__ import annotations

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

from bot.wire import to_wire
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
    ]


@pytest.mark.parametrize("activity", _corpus(), ids=lambda a: a.type)
def test_each_kind_of_activity_serializes_exactly_as_msrest_does(activity):
    assert to_wire(activity) == activity.serialize()


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
    assert {"activities": [to_wire(a) for a in replies]} == ExpectedReplies(
        activities=replies
    ).serialize()
