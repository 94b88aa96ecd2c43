"""The reminder card posted through the real adapter to a connector stand-in on loopback."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount

from bot.adapter import create_adapter
from bot.proactive import ReferenceKeeper
from bot.reminders import ChatReminderChannel
from dialogs.texts import LOCALE_KEY
from services import db
from services.conversations import SqlConversationReferences
from services.demo_data import load_demo
from services.emails import EmailComposer
from services.i18n import Locale
from services.membership import Step
from services.reminders import (
    Channel,
    DueReminder,
    EmailReminderChannel,
    Failed,
    Gone,
    Member,
    Recipient,
    ReminderRunner,
    RetryAfter,
    Sent,
    SqlReminders,
)
from services.unit_of_work import UnitOfWorkFactory
from tests.conftest import free_port, make_settings
from tests.support.chat import card_parts
from tests.support.connector import ConnectorStandIn, connector_stand_in


@pytest.fixture
async def units(sqlite_url):
    engine = db.create_engine(sqlite_url)
    yield UnitOfWorkFactory(engine)
    await engine.dispose()


@pytest.fixture
def references(units, clock) -> SqlConversationReferences:
    return SqlConversationReferences(units, clock)


def _turn(service_url: str, conversation: str, locale: Locale) -> TurnContext:
    """A turn of Ana's in Teams, as the keeper sees it."""
    activity = Activity(
        type=ActivityTypes.message, text="hi", channel_id="msteams", service_url=service_url,
        from_property=ChannelAccount(id="29:ana", aad_object_id="ana.silva"),
        recipient=ChannelAccount(id="28:bot"), conversation=ConversationAccount(id=conversation),
    )  # fmt: skip
    context = TurnContext(TestAdapter(), activity)
    context.turn_state[LOCALE_KEY] = locale
    return context


async def _reminder(
    keeper: ReferenceKeeper, connector: ConnectorStandIn, conversation: str, locale: Locale
) -> DueReminder:
    await keeper.keep(_turn(connector.url, conversation, locale))
    reference = await keeper.references.latest_for("ana.silva")
    assert reference is not None
    return DueReminder(
        claim_id=1, organization_id="northwind", legal_name="Northwind Traders Inc.",
        recipient=Recipient(id="ana.silva", name="Ana Silva", email="ana.silva@northwind.example",
                            locale=locale, timezone="UTC", reference=reference),
        channel=Channel.CHAT, threshold=30, expiry_date=date(2026, 12, 14), days_left=20,
        legacy=False, view_only=False, pending_steps=[Step.ADMIN_AGENT],
    )  # fmt: skip


def _channel(sqlite_url: str, keeper: ReferenceKeeper) -> ChatReminderChannel:
    return ChatReminderChannel(create_adapter(make_settings(sqlite_url)), "", keeper)


@pytest.mark.parametrize(
    ("locale", "title", "snooze"),
    [
        (Locale.EN_US, "Renewal reminder: Northwind Traders Inc.", "Remind me later"),
        (Locale.ZH_TW, "續約提醒：Northwind Traders Inc.", "稍後再提醒我"),
    ],
)
async def test_the_reminder_card_arrives_in_the_recipients_conversation_in_their_language(
    references, sqlite_url, locale, title, snooze
):
    async with connector_stand_in() as connector:
        keeper = ReferenceKeeper(references)
        reminder = await _reminder(keeper, connector, "a:ana", locale)

        result = await _channel(sqlite_url, keeper).deliver(reminder)

        [posted] = await connector.wait_for(1)
    assert result == Sent()
    assert posted["_conversation"] == "a:ana"
    assert posted["recipient"]["aadObjectId"] == "ana.silva"
    texts, buttons = card_parts(posted["attachments"][0]["content"])
    assert texts[0] == title
    assert [b["data"]["action"] for b in buttons] == ["renew", "reminders.snooze", "reminders.stop"]
    assert buttons[1]["title"] == snooze
    assert buttons[1]["data"]["organization_id"] == "northwind"


async def test_a_throttled_post_asks_to_retry_after_the_seconds_the_connector_said(
    references, sqlite_url
):
    async with connector_stand_in() as connector:
        keeper = ReferenceKeeper(references)
        reminder = await _reminder(keeper, connector, "a:ana", Locale.EN_US)
        connector.throttle["a:ana"] = 42

        result = await _channel(sqlite_url, keeper).deliver(reminder)

    assert result == RetryAfter(42)
    assert connector.activities == []


@pytest.mark.parametrize("refusal", ["forbidden", "gone"])
async def test_a_conversation_the_bot_was_removed_from_or_that_is_gone_is_gone(
    references, sqlite_url, refusal
):
    async with connector_stand_in() as connector:
        keeper = ReferenceKeeper(references)
        reminder = await _reminder(keeper, connector, "a:ana", Locale.EN_US)
        getattr(connector, refusal).add("a:ana")

        result = await _channel(sqlite_url, keeper).deliver(reminder)

        assert result == Gone()
        assert await references.latest_for("ana.silva") is None
        # Once Ana talks there again, the keeper stores the conversation again at once.
        getattr(connector, refusal).clear()
        await keeper.keep(_turn(connector.url, "a:ana", Locale.EN_US))
        assert await references.latest_for("ana.silva") is not None


async def test_a_connector_that_cannot_be_reached_is_a_failure_to_try_again(references, sqlite_url):
    async with connector_stand_in() as connector:
        keeper = ReferenceKeeper(references)
        reminder = await _reminder(keeper, connector, "a:ana", Locale.EN_US)
    stored = reminder.recipient.reference
    assert stored is not None
    away = f"http://127.0.0.1:{free_port()}/"
    document = stored.document | {"serviceUrl": away}
    recipient = reminder.recipient.model_copy(
        update={"reference": stored.model_copy(update={"document": document})}
    )

    result = await _channel(sqlite_url, keeper).deliver(
        reminder.model_copy(update={"recipient": recipient})
    )

    assert isinstance(result, Failed) and not result.permanent
    assert "ana" not in result.reason and "northwind" not in result.reason.lower()
    assert await references.latest_for("ana.silva") is not None  # kept: it may come back


async def test_a_due_reminder_posts_once_and_after_a_429_arrives_once_later(
    units, references, sqlite_url, clock
):
    await load_demo(units, clock)  # Northwind expires in 20 days: the 30-day reminder is due
    await SqlReminders(units, clock).record_member(
        Member(organization_id="northwind", user_id="ana.silva", display_name="Ana Silva",
               email="ana.silva@northwind.example", global_admin=True)
    )  # fmt: skip
    emails = EmailReminderChannel(
        EmailComposer("membership-bot@bot.example.test", "Partner membership assistant")
    )
    async with connector_stand_in() as connector:
        keeper = ReferenceKeeper(references)
        await keeper.keep(_turn(connector.url, "a:ana", Locale.EN_US))
        runner = ReminderRunner(
            units, clock, _channel(sqlite_url, keeper), emails, references=references
        )
        connector.throttle["a:ana"] = 600

        first = await runner.run_once()
        clock.at += timedelta(minutes=5)  # before Retry-After: nothing goes
        early = await runner.run_once()
        clock.at += timedelta(minutes=6)
        later = await runner.run_once()
        clock.at += timedelta(hours=1)
        again = await runner.run_once()

        await connector.wait_for(1)
    assert (first.retrying, first.sent) == (1, 0)
    assert early.sent == 0
    assert later.sent == 1
    assert again.sent == 0
    [posted] = [a for a in connector.activities if a["_conversation"] == "a:ana"]
    assert card_parts(posted["attachments"][0]["content"])[0][0] == (
        "Renewal reminder: Northwind Traders Inc."
    )
