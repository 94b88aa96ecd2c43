"""Renewal reminders on each real database: schedule, preferences, quiet hours, exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, update

from services import db
from services.clock import FixedClock
from services.conversations import SqlConversationReferences, StoredReference
from services.demo_data import load_demo
from services.emails import EmailComposer
from services.handoff import HandoffService, Ticket, TicketReason
from services.membership import Actor, MembershipService
from services.outbox import read_message
from services.reminders import (
    HANDOFF_HOLD,
    Channel,
    EmailReminderChannel,
    Failed,
    FakeReminderChannel,
    Gone,
    Member,
    ReminderRunner,
    ReminderStatus,
    RetryAfter,
    SqlReminders,
    next_window,
)
from services.tables import (
    EmailOutboxRow,
    MembershipRow,
    PrimaryContactRow,
    ReminderDeliveryRow,
)
from services.unit_of_work import UnitOfWorkFactory

EXPIRY = date(2027, 3, 3)  # a Wednesday: the 60-day reminder falls on a Saturday
TAIPEI, LOS_ANGELES = "Asia/Taipei", "America/Los_Angeles"


def at(day: date, hour: int = 2, minute: int = 0) -> datetime:
    """A UTC moment; 02:00 UTC is 10:00 in Taipei and the evening before in Los Angeles."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture
async def units(database_url):
    engine = db.create_engine(database_url)
    yield UnitOfWorkFactory(engine)
    await engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(at(EXPIRY - timedelta(days=95)))


async def expiring(units, clock, on: date = EXPIRY) -> None:
    """The demo data, with Northwind's (Partner Center) membership expiring ``on``.

    Without the demo's primary contact: the tests that remind a contact give their own.
    """
    await load_demo(units, clock)
    async with units() as unit:
        await unit.session.execute(
            update(MembershipRow)
            .where(MembershipRow.organization_id == "northwind")
            .values(expiry_date=on)
        )
        await unit.session.execute(
            delete(PrimaryContactRow).where(PrimaryContactRow.organization_id == "northwind")
        )
        await unit.commit()


async def admin(units, clock, user_id: str = "mei", *, zone: str | None = TAIPEI, **fields):
    """A global administrator of Northwind who chatted with the bot (from ``zone``)."""
    values = {"display_name": "Mei Lin", "email": f"{user_id}@northwind.example"} | fields
    await SqlReminders(units, clock).record_member(
        Member(organization_id="northwind", user_id=user_id, global_admin=True, **values)
    )
    if zone is not None:
        await SqlConversationReferences(units, clock).remember(
            StoredReference(
                user_id=user_id, conversation_id=f"a:{user_id}", service_url="https://smba.test/",
                locale="zh-TW", timezone=zone, document={"conversation": {"id": f"a:{user_id}"}},
            )
        )  # fmt: skip


def runner(units, clock, channel: FakeReminderChannel, **options) -> ReminderRunner:
    emails = EmailReminderChannel(
        EmailComposer("membership-bot@bot.example.test", "Partner membership assistant")
    )
    return ReminderRunner(units, clock, channel, emails, **options)


async def claims(units) -> list[ReminderDeliveryRow]:
    async with units() as unit:
        found = list(
            await unit.session.scalars(select(ReminderDeliveryRow).order_by(ReminderDeliveryRow.id))
        )
        unit.session.expunge_all()
        return found


async def outbox(units) -> list[EmailOutboxRow]:
    async with units() as unit:
        found = list(await unit.session.scalars(select(EmailOutboxRow).order_by(EmailOutboxRow.id)))
        unit.session.expunge_all()
        return found


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


async def test_walking_from_95_days_before_to_10_after_sends_each_threshold_once(units, clock):
    await expiring(units, clock)
    await admin(units, clock)
    channel = FakeReminderChannel()
    reminders = runner(units, clock, channel)

    while clock.today() <= EXPIRY + timedelta(days=10):
        await reminders.run_once()
        clock.at += timedelta(days=1)

    sent = [(reminder.threshold, reminder.days_left) for reminder in channel.delivered]
    # The 60-day one fell on a Saturday: it waited for Monday, two days later.
    assert sent == [(90, 90), (60, 58), (30, 30), (7, 7), (1, 1), (0, 0), (-7, -7)]
    assert {reminder.recipient.id for reminder in channel.delivered} == {"mei"}
    assert [(row.status, row.attempts, row.channel) for row in await claims(units)] == [
        (ReminderStatus.SENT, 1, Channel.CHAT)
    ] * 7


async def test_a_membership_first_seen_20_days_before_expiry_gets_only_the_30_day_reminder(
    units, clock
):
    clock.at = at(EXPIRY - timedelta(days=20))  # a Thursday
    await expiring(units, clock)
    await admin(units, clock)
    channel = FakeReminderChannel()
    reminders = runner(units, clock, channel)

    first = await reminders.run_once()
    again = await reminders.run_once()

    assert (first.scheduled, first.sent, again.scheduled, again.sent) == (1, 1, 0, 0)
    [reminder] = channel.delivered
    assert (reminder.threshold, reminder.days_left, reminder.legal_name) == (
        30, 20, "Northwind Traders Inc.",
    )  # fmt: skip
    assert (reminder.legacy, reminder.view_only) == (False, False)
    # Without a primary contact (``expiring``), the profile is to be given, as the status says.
    assert [step.value for step in reminder.pending_steps] == [
        "legal_profile",
        "contact_verification",
        "admin_agent",
    ]
    assert (reminder.recipient.locale, reminder.recipient.timezone) == ("zh-TW", TAIPEI)


async def test_a_snoozed_reminder_comes_again_three_days_later_and_not_before(units, clock):
    clock.at = at(EXPIRY - timedelta(days=28))  # a Wednesday
    await expiring(units, clock)
    await admin(units, clock)
    channel = FakeReminderChannel()
    reminders = runner(units, clock, channel)
    await reminders.run_once()

    until = await SqlReminders(units, clock).snooze("mei", "northwind")
    clock.at += timedelta(days=1)
    await reminders.run_once()
    clock.at = until - timedelta(minutes=1)
    await reminders.run_once()
    assert [reminder.threshold for reminder in channel.delivered] == [30]

    clock.at = until
    await reminders.run_once()
    await reminders.run_once()

    assert until == at(EXPIRY - timedelta(days=25))  # a Saturday: it waits for Monday
    assert [reminder.threshold for reminder in channel.delivered] == [30]
    clock.at = at(EXPIRY - timedelta(days=23))  # Monday, 10:00 in Taipei
    await reminders.run_once()
    assert [reminder.threshold for reminder in channel.delivered] == [30, 30]
    assert (await SqlReminders(units, clock).preference("mei", "northwind")).snoozed_until == until


async def test_a_stopped_recipient_gets_nothing_until_they_turn_reminders_back_on(units, clock):
    clock.at = at(EXPIRY - timedelta(days=30))  # a Monday
    await expiring(units, clock)
    await admin(units, clock)
    await admin(units, clock, "sam", display_name="Sam Lee")
    preferences = SqlReminders(units, clock)
    await preferences.stop("mei", "northwind")
    channel = FakeReminderChannel()
    reminders = runner(units, clock, channel)

    await reminders.run_once()
    clock.at = at(EXPIRY - timedelta(days=7))
    await reminders.run_once()
    assert [(r.recipient.id, r.threshold) for r in channel.delivered] == [("sam", 30), ("sam", 7)]
    assert (await preferences.preference("mei", "northwind")).stopped

    await preferences.resume("mei", "northwind")
    await reminders.run_once()

    assert [(r.recipient.id, r.threshold) for r in channel.delivered][2:] == [("mei", 7)]


async def test_stopping_cancels_a_reminder_waiting_for_working_hours(units, clock):
    clock.at = at(EXPIRY - timedelta(days=25))  # a Saturday
    await expiring(units, clock)
    await admin(units, clock)
    channel = FakeReminderChannel()
    reminders = runner(units, clock, channel)
    await reminders.run_once()

    await SqlReminders(units, clock).stop("mei", "northwind")
    clock.at = at(EXPIRY - timedelta(days=23))  # Monday
    await reminders.run_once()

    assert channel.delivered == []
    [row] = await claims(units)
    assert (row.status, row.threshold) == (ReminderStatus.CANCELLED, 30)


async def test_renewing_cancels_what_is_left_of_the_term_and_the_new_term_starts_over(units, clock):
    clock.at = at(EXPIRY - timedelta(days=20))
    await expiring(units, clock)
    await admin(units, clock)
    await _the_admin_is_the_primary_contact(units, clock)  # the profile given: renewal may go
    channel = FakeReminderChannel()
    reminders = runner(units, clock, channel)
    await reminders.run_once()  # the 30-day reminder
    clock.at = at(EXPIRY - timedelta(days=4))  # a Saturday: the 7-day one waits for Monday
    await reminders.run_once()

    renewed = await MembershipService(units, clock).renew("northwind", Actor(id="mei", name="Mei"))
    clock.at = at(EXPIRY - timedelta(days=2))  # Monday
    await reminders.run_once()
    while clock.today() < renewed.expiry_date - timedelta(days=85):
        await reminders.run_once()
        clock.at += timedelta(days=1)

    assert renewed.expiry_date == date(2028, 3, 3)
    # 90 days before the new expiry is a Saturday: the reminder comes on Monday.
    assert [(r.threshold, r.days_left, r.expiry_date) for r in channel.delivered] == [
        (30, 20, EXPIRY), (90, 88, date(2028, 3, 3)),
    ]  # fmt: skip
    assert [(row.term, row.threshold, row.status) for row in await claims(units)] == [
        (EXPIRY, 30, ReminderStatus.SENT),
        (EXPIRY, 7, ReminderStatus.CANCELLED),
        (date(2028, 3, 3), 90, ReminderStatus.SENT),
    ]


async def _the_admin_is_the_primary_contact(units, clock) -> None:
    async with units() as unit:
        unit.session.add(
            PrimaryContactRow(
                organization_id="northwind", first_name="Mei", last_name="Lin",
                email="mei@northwind.example", phone="+85223456789", updated_at=clock.now(),
            )
        )  # fmt: skip
        await unit.commit()


def test_working_hours_are_each_recipients_own():
    tuesday_2am = at(date(2026, 12, 1))  # 10:00 Tuesday in Taipei, 18:00 Monday in Los Angeles
    saturday_2am = at(date(2026, 12, 5))

    assert next_window(tuesday_2am, ZoneInfo(TAIPEI)) == tuesday_2am
    assert next_window(tuesday_2am, ZoneInfo(LOS_ANGELES)) == at(date(2026, 12, 1), 17)
    assert next_window(saturday_2am, ZoneInfo(TAIPEI)) == at(date(2026, 12, 7), 1)
    assert next_window(saturday_2am, ZoneInfo(LOS_ANGELES)) == at(date(2026, 12, 7), 17)


async def test_the_same_moment_reaches_taipei_now_and_los_angeles_in_its_morning(units, clock):
    clock.at = at(EXPIRY - timedelta(days=29))  # Tuesday 02:00 UTC
    await expiring(units, clock)
    await admin(units, clock)
    await admin(units, clock, "sam", display_name="Sam Lee", zone=LOS_ANGELES)
    channel = FakeReminderChannel()
    reminders = runner(units, clock, channel)

    await reminders.run_once()
    assert [reminder.recipient.id for reminder in channel.delivered] == ["mei"]
    clock.at = at(clock.today(), 16, 59)  # 08:59 in Los Angeles
    await reminders.run_once()
    assert len(channel.delivered) == 1
    clock.at = at(clock.today(), 17)
    await reminders.run_once()

    assert [reminder.recipient.id for reminder in channel.delivered] == ["mei", "sam"]
    assert {row.attempts for row in await claims(units)} == {1}  # waiting is not an attempt


async def test_on_a_weekend_nothing_goes_out_until_monday_in_each_zone(units, clock):
    clock.at = at(EXPIRY - timedelta(days=25))  # Saturday 02:00 UTC
    await expiring(units, clock)
    await admin(units, clock)
    await admin(units, clock, "sam", display_name="Sam Lee", zone=LOS_ANGELES)
    channel = FakeReminderChannel()
    reminders = runner(units, clock, channel)

    await reminders.run_once()
    waiting = {row.recipient_id: utc(row.next_attempt_at) for row in await claims(units)}
    clock.at = at(EXPIRY - timedelta(days=23), 1)  # Monday 09:00 in Taipei
    await reminders.run_once()

    assert waiting == {"mei": clock.at, "sam": at(EXPIRY - timedelta(days=23), 17)}
    assert [reminder.recipient.id for reminder in channel.delivered] == ["mei"]


async def test_two_instances_at_once_send_every_reminder_exactly_once(postgres_url, clock):
    clock.at = at(EXPIRY - timedelta(days=29))
    engines = [db.create_engine(postgres_url) for _ in range(2)]
    try:
        units = [UnitOfWorkFactory(engine) for engine in engines]
        await expiring(units[0], clock)
        for number in range(12):
            await admin(units[0], clock, f"admin-{number:02}", display_name=f"Admin {number}")
        channels = [FakeReminderChannel(), FakeReminderChannel()]
        runners = [
            runner(unit, clock, channel) for unit, channel in zip(units, channels, strict=True)
        ]

        reports = await asyncio.gather(*(each.run_once() for each in runners))
        reports += await asyncio.gather(*(each.run_once() for each in runners))

        sent = sorted(r.recipient.id for channel in channels for r in channel.delivered)
        assert sent == [f"admin-{number:02}" for number in range(12)]
        assert sum(report.scheduled for report in reports) == 12
        assert {row.status for row in await claims(units[0])} == {ReminderStatus.SENT}
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_reminder_claimed_by_a_runner_that_crashed_is_sent_once_its_lease_runs_out(
    units, clock
):
    clock.at = at(EXPIRY - timedelta(days=25))  # Saturday: claimed, waiting for Monday
    await expiring(units, clock)
    await admin(units, clock)
    channel = FakeReminderChannel()
    reminders = runner(units, clock, channel, lease=timedelta(minutes=5))
    await reminders.run_once()
    monday = at(EXPIRY - timedelta(days=23))
    async with units() as unit:  # what a runner leaves when it dies after claiming
        await unit.session.execute(
            update(ReminderDeliveryRow).values(
                status=ReminderStatus.SENDING.value, lease_id="crashed", attempts=1,
                leased_until=monday + timedelta(minutes=5),
            )
        )  # fmt: skip
        await unit.commit()

    clock.at = monday
    await reminders.run_once()
    assert channel.delivered == []  # the lease still holds
    clock.at += timedelta(minutes=5)
    await reminders.run_once()
    await reminders.run_once()

    assert [reminder.threshold for reminder in channel.delivered] == [30]
    [row] = await claims(units)
    assert (row.status, row.attempts, row.lease_id) == (ReminderStatus.SENT, 2, None)


async def test_a_throttled_reminder_is_not_tried_again_before_retry_after(units, clock):
    clock.at = at(EXPIRY - timedelta(days=29))
    await expiring(units, clock)
    await admin(units, clock)
    channel = FakeReminderChannel()
    channel.answer(RetryAfter(600))
    reminders = runner(units, clock, channel, base_delay=timedelta(seconds=30))
    start = clock.now()

    report = await reminders.run_once()
    [waiting] = await claims(units)
    clock.at = start + timedelta(seconds=599)
    await reminders.run_once()
    assert (len(channel.attempts), channel.delivered) == (1, [])
    clock.at = start + timedelta(seconds=600)
    await reminders.run_once()

    assert report.retrying == 1
    assert (waiting.status, utc(waiting.next_attempt_at)) == (
        ReminderStatus.PENDING, start + timedelta(seconds=600),
    )  # fmt: skip
    assert waiting.last_error == "throttled for 600s"
    assert len(channel.delivered) == 1
    [row] = await claims(units)
    assert (row.status, row.attempts) == (ReminderStatus.SENT, 2)


async def test_other_failures_are_retried_with_a_growing_delay(units, clock):
    clock.at = at(EXPIRY - timedelta(days=29))
    await expiring(units, clock)
    await admin(units, clock)
    channel = FakeReminderChannel()
    channel.answer(Failed("HTTP 502"), Failed("HTTP 502"))
    reminders = runner(units, clock, channel, base_delay=timedelta(seconds=30))
    start = clock.now()

    await reminders.run_once()
    first = utc((await claims(units))[0].next_attempt_at)
    clock.at = first
    await reminders.run_once()
    second = utc((await claims(units))[0].next_attempt_at)
    clock.at = second
    await reminders.run_once()

    assert (first - start, second - first) == (timedelta(seconds=30), timedelta(seconds=60))
    [row] = await claims(units)
    assert (row.status, row.attempts, len(channel.delivered)) == (ReminderStatus.SENT, 3, 1)


async def test_a_conversation_gone_is_marked_inactive_and_the_reminder_goes_by_email_once(
    units, clock
):
    clock.at = at(EXPIRY - timedelta(days=29))
    await expiring(units, clock)
    await admin(units, clock)
    channel = FakeReminderChannel()
    channel.answer(Gone())
    reminders = runner(units, clock, channel)

    report = await reminders.run_once()
    clock.at += timedelta(hours=1)
    again = await reminders.run_once()

    assert (report.sent, report.emailed, again.sent) == (1, 1, 0)
    assert await SqlConversationReferences(units, clock).latest_for("mei") is None
    [email] = await outbox(units)
    message = read_message(email.message)
    assert (email.kind, email.organization_id, message["To"]) == (
        "renewal_reminder", "northwind", "Mei Lin <mei@northwind.example>",
    )  # fmt: skip
    assert message["Subject"] == "Northwind Traders Inc. 的會員資格將於 2027年3月3日 到期"
    [row] = await claims(units)
    assert (row.status, row.channel, row.attempts) == (ReminderStatus.SENT, Channel.EMAIL, 1)


async def test_a_permanent_failure_is_recorded_and_not_tried_again(units, clock):
    clock.at = at(EXPIRY - timedelta(days=29))
    await expiring(units, clock)
    await admin(units, clock)
    channel = FakeReminderChannel()
    channel.answer(Failed("HTTP 400 BadArgument", permanent=True))
    reminders = runner(units, clock, channel)

    report = await reminders.run_once()
    clock.at += timedelta(days=1)
    await reminders.run_once()

    assert (report.failed, len(channel.attempts), channel.delivered) == (1, 1, [])
    [row] = await claims(units)
    assert (row.status, row.attempts, row.last_error) == (
        ReminderStatus.FAILED, 1, "HTTP 400 BadArgument",
    )  # fmt: skip


async def test_the_primary_contact_who_never_chatted_is_reminded_by_email_in_working_hours(
    units, clock
):
    clock.at = at(EXPIRY - timedelta(days=29), 10)  # 10:00 UTC, the default zone
    await expiring(units, clock)
    await admin(units, clock, zone="Europe/London")
    async with units() as unit:
        unit.session.add(
            PrimaryContactRow(
                organization_id="northwind", first_name="Ada", last_name="Wong",
                email="Ada@Northwind.example", phone="+85212345678", updated_at=clock.now(),
            )
        )  # fmt: skip
        await unit.commit()
    channel = FakeReminderChannel()
    reminders = runner(units, clock, channel)

    await reminders.run_once()

    assert [reminder.recipient.id for reminder in channel.delivered] == ["mei"]
    [email] = await outbox(units)
    message = read_message(email.message)
    assert message["To"] == "Ada Wong <Ada@Northwind.example>"
    assert message["Subject"] == "The membership of Northwind Traders Inc. expires on March 3, 2027"
    assert sorted(row.recipient_id for row in await claims(units)) == [
        "contact:ada@northwind.example", "mei",
    ]  # fmt: skip


async def test_a_primary_contact_with_a_chinese_name_is_greeted_family_name_first(units, clock):
    clock.at = at(EXPIRY - timedelta(days=29), 10)
    await expiring(units, clock)
    async with units() as unit:
        unit.session.add(
            PrimaryContactRow(
                organization_id="northwind", first_name="美玲", last_name="林",
                email="mei.lin@northwind.example", phone="+85212345678", updated_at=clock.now(),
            )
        )  # fmt: skip
        await unit.commit()

    await runner(units, clock, FakeReminderChannel()).run_once()

    [email] = await outbox(units)
    message = read_message(email.message)
    assert message["To"].addresses[0].display_name == "林美玲"
    assert "Hello 林美玲," in message.get_body(("plain",)).get_content()


async def test_a_primary_contact_who_is_a_member_is_reminded_once_where_they_chat(units, clock):
    clock.at = at(EXPIRY - timedelta(days=29))
    await expiring(units, clock)
    await admin(units, clock)
    async with units() as unit:
        unit.session.add(
            PrimaryContactRow(
                organization_id="northwind", first_name="Mei", last_name="Lin",
                email="MEI@northwind.example", phone="+85212345678", updated_at=clock.now(),
            )
        )  # fmt: skip
        await unit.commit()
    channel = FakeReminderChannel()

    await runner(units, clock, channel).run_once()

    assert [reminder.recipient.id for reminder in channel.delivered] == ["mei"]
    assert await outbox(units) == []


async def test_a_dry_run_lists_what_would_be_sent_and_claims_nothing(units, clock):
    clock.at = at(EXPIRY - timedelta(days=25))  # Saturday
    await expiring(units, clock)
    await admin(units, clock)
    await admin(units, clock, "sam", display_name="Sam Lee", zone=None)
    channel = FakeReminderChannel()

    report = await runner(units, clock, channel).run_once(dry_run=True)

    assert [(p.recipient_id, p.threshold, p.channel, p.not_before) for p in report.planned] == [
        ("mei", 30, Channel.CHAT, at(EXPIRY - timedelta(days=23), 1)),  # Monday 09:00 Taipei
        ("sam", 30, Channel.EMAIL, at(EXPIRY - timedelta(days=23), 9)),  # Monday 09:00 UTC
    ]
    assert (report.scheduled, report.sent) == (0, 0)
    assert await claims(units) == []
    assert channel.attempts == []


class StoppingChannel(FakeReminderChannel):
    """A fake channel that asks the loop to stop once it has delivered a reminder."""

    def __init__(self, stop: asyncio.Event) -> None:
        super().__init__()
        self._stop = stop

    async def deliver(self, reminder):
        result = await super().deliver(reminder)
        self._stop.set()
        return result


async def test_the_background_loop_sends_what_is_due_and_stops_when_asked(units, clock):
    clock.at = at(EXPIRY - timedelta(days=29))
    await expiring(units, clock)
    await admin(units, clock)
    stop = asyncio.Event()
    channel = StoppingChannel(stop)

    async with asyncio.timeout(5):
        await runner(units, clock, channel).run(stop, interval=3600)

    assert [reminder.threshold for reminder in channel.delivered] == [30]


async def test_a_reminder_goes_to_the_users_latest_active_conversation_of_many(units, clock):
    # Read in the database, one per user: loading every conversation of a user who has many
    # took memory in proportion (the benchmark's memory section found it).
    await expiring(units, clock)
    clock.at = at(EXPIRY - timedelta(days=90))  # a Thursday, 10:00 in Taipei
    await admin(units, clock)  # a:mei
    references = SqlConversationReferences(units, clock)
    for name, active in [("a:older", True), ("a:newer", True), ("a:newest-gone", False)]:
        clock.at += timedelta(minutes=10)
        await references.remember(
            StoredReference(
                user_id="mei", conversation_id=name, service_url="https://smba.test/",
                locale="zh-TW", timezone=TAIPEI, document={"conversation": {"id": name}},
            )
        )  # fmt: skip
        if not active:
            await references.forget("mei", name)
    channel = FakeReminderChannel()

    await runner(units, clock, channel).run_once()

    [reminder] = channel.delivered
    assert reminder.recipient.reference is not None
    assert reminder.recipient.reference.conversation_id == "a:newer"


async def test_a_reminder_due_while_a_person_has_the_chat_waits_until_it_is_handed_back(
    units, clock
):
    clock.at = at(EXPIRY - timedelta(days=30))  # a Monday, 10:00 in Taipei
    await expiring(units, clock)
    await admin(units, clock)
    desk = HandoffService(units, clock, reraise_after=timedelta(minutes=15))
    ticket = await _claimed_request(desk, "mei")
    channel = FakeReminderChannel()
    reminders = runner(units, clock, channel)

    for _ in range(3):  # an hour with a person: nothing is posted into their conversation
        await reminders.run_once()
        clock.at += timedelta(minutes=20)
    held = list(channel.delivered)
    await desk.resolve(ticket.id, "29:kenji", is_agent=True)
    clock.at += HANDOFF_HOLD
    await reminders.run_once()

    assert held == []
    assert [reminder.threshold for reminder in channel.delivered] == [30]
    assert [(row.status, row.attempts) for row in await claims(units)] == [(ReminderStatus.SENT, 1)]


async def test_a_request_still_waiting_for_a_person_does_not_hold_the_reminder(units, clock):
    clock.at = at(EXPIRY - timedelta(days=30))
    await expiring(units, clock)
    await admin(units, clock)
    desk = HandoffService(units, clock, reraise_after=timedelta(minutes=15))
    await desk.open(
        "mei", "Mei Lin", "a:mei", "northwind", None, None, TicketReason.ASKED, "zh-TW", []
    )
    channel = FakeReminderChannel()

    await runner(units, clock, channel).run_once()

    assert [reminder.threshold for reminder in channel.delivered] == [30]


async def _claimed_request(desk: HandoffService, user_id: str) -> Ticket:
    ticket, _ = await desk.open(
        user_id, "Mei Lin", f"a:{user_id}", "northwind", "RenewDialog", "renew_confirm",
        TicketReason.ASKED, "zh-TW", [],
    )  # fmt: skip
    return await desk.claim(ticket.id, "29:kenji", "Kenji Sato", is_agent=True)
