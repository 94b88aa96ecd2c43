"""Replies are addressed to the conversation without touching the activity the bot built."""

from __future__ import annotations

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    DeliveryModes,
    HeroCard,
)

from bot.turn_context import MembershipTurnContext


def _incoming(delivery_mode: str = DeliveryModes.normal) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        id="incoming-1",
        text="menu",
        channel_id="msteams",
        service_url="https://smba.example/",
        conversation=ConversationAccount(id="conversation-1"),
        from_property=ChannelAccount(id="user-1"),
        recipient=ChannelAccount(id="bot-1"),
        locale="zh-TW",
        delivery_mode=delivery_mode,
    )


def _menu_card() -> Activity:
    card = HeroCard(text="Menu", buttons=[CardAction(type="imBack", title="Renew", value="Renew")])
    return MessageFactory.attachment(CardFactory.hero_card(card))


async def test_expect_replies_buffers_addressed_copies_and_leaves_the_original_alone():
    context = MembershipTurnContext(TestAdapter(), _incoming(DeliveryModes.expect_replies))
    card = _menu_card()

    await context.send_activity(card)
    await context.send_activity(card)  # the same object again: a prompt re-sent

    replies = context.buffered_reply_activities
    assert len(replies) == 2
    assert replies[0] is not replies[1]
    for reply in replies:
        assert reply.conversation.id == "conversation-1"
        assert reply.recipient.id == "user-1"
        assert reply.from_property.id == "bot-1"
        assert reply.reply_to_id == "incoming-1"
        assert reply.input_hint == "acceptingInput"
        assert reply.attachments[0].content.buttons[0].value == "Renew"
    assert card.conversation is None and card.recipient is None and card.reply_to_id is None
    assert context.responded


async def test_a_normal_turn_sends_through_the_adapter():
    adapter = TestAdapter()
    context = MembershipTurnContext(adapter, _incoming())

    response = await context.send_activity("hello")

    assert response is not None
    sent = adapter.activity_buffer
    assert [a.text for a in sent] == ["hello"]
    assert sent[0].reply_to_id == "incoming-1" and sent[0].locale == "zh-TW"
    assert context.responded


async def test_a_trace_alone_does_not_count_as_a_reply():
    context = MembershipTurnContext(TestAdapter(), _incoming(DeliveryModes.expect_replies))

    await context.send_activity(Activity(type=ActivityTypes.trace, name="debug"))

    assert not context.responded
