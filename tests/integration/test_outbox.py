"""The email outbox on each real database, with a real SMTP server where delivery matters."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import select, update

from services import db
from services.mailer import FakeMailer, SmtpMailer
from services.outbox import EmailKind, OutboxSender, OutboxStatus, enqueue
from services.settings import SmtpSecurity
from services.tables import EmailOutboxRow
from services.unit_of_work import UnitOfWorkFactory
from tests.conftest import free_port
from tests.support.smtp import smtp_server


@pytest.fixture
async def units(database_url):
    engine = db.create_engine(database_url)
    yield UnitOfWorkFactory(engine)
    await engine.dispose()


def email(number: int) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"Message {number}"
    message["From"] = "membership-bot@bot.example.test"
    message["To"] = f"contact{number}@contoso.example"
    message["Message-ID"] = make_msgid(domain="bot.example.test")
    message.set_content(f"Body {number}")
    return message


async def queue(units, clock, count: int = 1) -> None:
    """Queue ``count`` emails in one transaction."""
    async with units() as unit:
        for number in range(1, count + 1):
            await enqueue(
                unit.session, email(number), kind=EmailKind.CONTACT_VERIFICATION, now=clock.now()
            )
        await unit.commit()


async def rows(units) -> list[EmailOutboxRow]:
    """The outbox as it stands (detached: the unit's rollback would expire them)."""
    async with units() as unit:
        found = list(await unit.session.scalars(select(EmailOutboxRow).order_by(EmailOutboxRow.id)))
        unit.session.expunge_all()
        return found


def smtp_to(port: int) -> SmtpMailer:
    return SmtpMailer("127.0.0.1", port, security=SmtpSecurity.NONE, timeout=5)


async def test_a_queued_email_is_sent_once(units, clock):
    await queue(units, clock)
    port = free_port()
    sender = OutboxSender(units, smtp_to(port), clock)

    with smtp_server(port) as sink:
        assert await sender.run_once() == 1
        assert await sender.run_once() == 0

    assert [message["Subject"] for message in sink.messages] == ["Message 1"]
    [row] = await rows(units)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 1, None)
    assert row.sent_at is not None and row.delivery_id == sink.messages[0]["Message-ID"]


async def test_while_the_smtp_server_is_down_the_email_waits_and_goes_once_it_is_back(units, clock):
    await queue(units, clock)
    port = free_port()
    sender = OutboxSender(units, smtp_to(port), clock, base_delay=timedelta(seconds=30))

    assert await sender.run_once() == 0
    [waiting] = await rows(units)
    assert (waiting.status, waiting.attempts) == (OutboxStatus.PENDING, 1)
    assert waiting.last_error and waiting.last_error.startswith("SMTP")
    with smtp_server(port) as sink:
        assert await sender.run_once() == 0  # not due for another 30 seconds
        clock.at += timedelta(seconds=30)
        assert await sender.run_once() == 1
        assert await sender.run_once() == 0

    assert len(sink.messages) == 1
    [sent] = await rows(units)
    assert (sent.status, sent.attempts) == (OutboxStatus.SENT, 2)


async def test_retries_back_off_exponentially_and_no_sooner_than_the_server_asks(units, clock):
    await queue(units, clock)
    mailer = FakeMailer()
    sender = OutboxSender(units, mailer, clock, base_delay=timedelta(seconds=30))
    start = clock.now()

    mailer.fail(2)
    await sender.run_once()
    first = (await rows(units))[0].next_attempt_at
    clock.at += timedelta(seconds=30)
    await sender.run_once()
    second = (await rows(units))[0].next_attempt_at
    clock.at += timedelta(seconds=60)
    mailer.fail(1, retry_after=600)
    await sender.run_once()
    third = (await rows(units))[0].next_attempt_at

    as_offsets = [
        (moment.replace(tzinfo=None) - start.replace(tzinfo=None)).total_seconds()
        for moment in (first, second, third)
    ]
    assert as_offsets == [30, 30 + 60, 30 + 60 + 600]  # 30 s, then 60 s, then Retry-After
    assert mailer.sent == []


async def test_a_refused_mailbox_fails_the_email_with_the_reason_and_it_is_not_tried_again(
    units, clock
):
    await queue(units, clock)
    port = free_port()
    sender = OutboxSender(units, smtp_to(port), clock)

    with smtp_server(port) as sink:
        sink.rcpt_reply = "550 5.1.1 <contact1@contoso.example>: mailbox unavailable"
        assert await sender.run_once() == 0
        clock.at += timedelta(days=1)
        assert await sender.run_once() == 0

    [row] = await rows(units)
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 1)
    assert row.last_error is not None and "550" in row.last_error
    assert "contoso.example" not in row.last_error  # no personal data in the error
    assert row.message == b""  # a settled message is not kept: it may hold a live link


async def test_an_email_that_keeps_failing_is_given_up_after_the_last_attempt(units, clock):
    await queue(units, clock)
    mailer = FakeMailer()
    mailer.fail(10, reason="SMTP SMTPConnectError: connection refused")
    sender = OutboxSender(units, mailer, clock, max_attempts=3, max_delay=timedelta(minutes=5))

    for _ in range(5):
        await sender.run_once()
        clock.at += timedelta(minutes=5)

    [row] = await rows(units)
    assert (row.status, row.attempts, mailer.attempts) == (OutboxStatus.FAILED, 3, 3)
    assert row.last_error == "gave up after 3 attempts: SMTP SMTPConnectError: connection refused"


async def test_two_senders_racing_send_each_email_exactly_once(units, clock):
    await queue(units, clock, count=20)
    mailers = [FakeMailer(), FakeMailer()]
    senders = [OutboxSender(units, mailer, clock) for mailer in mailers]

    counts = await asyncio.gather(*(sender.run_once() for sender in senders))

    subjects = [message["Subject"] for mailer in mailers for message in mailer.sent]
    assert sum(counts) == 20
    assert sorted(subjects) == sorted(f"Message {number}" for number in range(1, 21))
    assert {row.status for row in await rows(units)} == {OutboxStatus.SENT}


async def test_an_email_claimed_by_a_sender_that_crashed_is_sent_once_its_lease_runs_out(
    units, clock
):
    await queue(units, clock)
    async with units() as unit:  # what a sender leaves when it dies after claiming
        await unit.session.execute(
            update(EmailOutboxRow).values(
                status=OutboxStatus.SENDING.value, lease_id="crashed", attempts=1,
                leased_until=clock.now() + timedelta(minutes=5),
            )
        )  # fmt: skip
        await unit.commit()
    mailer = FakeMailer()
    sender = OutboxSender(units, mailer, clock, lease=timedelta(minutes=5))

    assert await sender.run_once() == 0  # the lease still holds
    clock.at += timedelta(minutes=5)
    assert await sender.run_once() == 1
    assert await sender.run_once() == 0

    assert [message["Subject"] for message in mailer.sent] == ["Message 1"]
    [row] = await rows(units)
    assert (row.status, row.attempts, row.lease_id) == (OutboxStatus.SENT, 2, None)


class CountingMailer(FakeMailer):
    """A fake mailer that says when it has sent ``expected`` messages."""

    def __init__(self, expected: int) -> None:
        super().__init__()
        self.done = asyncio.Event()
        self._expected = expected

    async def send(self, message: EmailMessage) -> str:
        delivery_id = await super().send(message)
        if len(self.sent) >= self._expected:
            self.done.set()
        return delivery_id


async def test_the_background_loop_sends_when_woken_and_stops_when_asked(units, clock):
    mailer = CountingMailer(expected=2)
    sender = OutboxSender(units, mailer, clock)
    stop, wake = asyncio.Event(), asyncio.Event()
    loop = asyncio.create_task(sender.run(stop, wake, interval=3600))

    await queue(units, clock, count=2)
    wake.set()
    async with asyncio.timeout(5):
        await mailer.done.wait()
    stop.set()
    async with asyncio.timeout(5):
        await loop

    assert sorted(message["Subject"] for message in mailer.sent) == ["Message 1", "Message 2"]
