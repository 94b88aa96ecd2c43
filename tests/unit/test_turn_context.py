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
    # The addresses are copies: a reply's accounts are not the incoming activity's.
    incoming = context.activity
    assert replies[0].recipient is not incoming.from_property
    assert replies[0].conversation is not incoming.conversation
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


async def test_send_handlers_run_in_order_each_passing_on_to_the_next_then_the_send():
    context = MembershipTurnContext(TestAdapter(), _incoming(DeliveryModes.expect_replies))
    seen: list[str] = []

    async def first(_context, activities, send):
        seen.append(f"first saw {activities[0].text}")
        activities[0].text = "changed by first"  # what is sent is what the handlers leave
        return await send()

    async def second(handler_context, activities, send):
        assert handler_context is context
        seen.append(f"second saw {activities[0].text}")
        return await send()

    context.on_send_activities(first)
    context.on_send_activities(second)
    await context.send_activity("hello")

    assert seen == ["first saw hello", "second saw changed by first"]
    assert [a.text for a in context.buffered_reply_activities] == ["changed by first"]


async def test_as_in_the_sdk_the_send_happens_even_when_a_handler_does_not_pass_on():
    context = MembershipTurnContext(TestAdapter(), _incoming(DeliveryModes.expect_replies))
    later: list[str] = []

    async def stops(_context, _activities, _send):
        return None

    async def never_reached(_context, activities, send):
        later.append(activities[0].text)
        return await send()

    context.on_send_activities(stops)
    context.on_send_activities(never_reached)
    await context.send_activity("hello")

    assert later == []
    assert [a.text for a in context.buffered_reply_activities] == ["hello"]


async def test_update_handlers_run_through_the_same_chain():
    adapter = TestAdapter()
    context = MembershipTurnContext(adapter, _incoming())
    seen: list[str] = []

    async def on_update(_context, activity, send):
        seen.append(activity.text)
        return await send()

    context.on_update_activity(on_update)
    await context.update_activity(Activity(type=ActivityTypes.message, id="1", text="edited"))

    assert seen == ["edited"]
    assert [a.text for a in adapter.updated_activities] == ["edited"]


async def test_a_released_context_holds_nothing_of_its_turn():
    context = MembershipTurnContext(TestAdapter(), _incoming(DeliveryModes.expect_replies))
    context.turn_state["something"] = object()

    async def handler(_context, _activities, send):
        return await send()

    context.on_send_activities(handler)
    await context.send_activity("hello")
    context.release()

    assert context.turn_state == {}
    assert context.buffered_reply_activities == []
    assert context._on_send_activities == []
    assert context.activity is None
