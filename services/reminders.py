"""Renewal reminders: who is reminded of a membership's expiry, when, and exactly once.

**Schedule.** A reminder falls due ``threshold`` days before the membership's expiry date
(negative: after it), for each of ``thresholds`` (``DEFAULT_THRESHOLDS``), on the UTC calendar.
Only the latest threshold due is sent: a membership first seen 20 days before expiry gets the
30-day reminder, not the 90-, 60- and 30-day ones. The *term* is the membership's expiry date,
so a renewal (a new expiry date) leaves the old term's reminders behind (those not sent yet are
cancelled) and the new term starts over.

**Recipients.** The organization's global administrators the bot has met
(``organization_members``, recorded by ``Reminders.record_member``) and its primary contact
(``primary_contacts``). The contact is the member with the same email address when there is
one, else a recipient of their own, ``contact:<email>``, reached by email. A recipient is
reached in their latest active conversation with the bot, else by email; their time zone and
locale come from that conversation's reference, else from the runner's defaults
(``default_timezone``, the deployment's ``REMINDER_DEFAULT_TIMEZONE``, "UTC" unless set).

**Preferences.** "Remind me later" snoozes a recipient's reminders of an organization for
``SNOOZE`` (the reminder last sent comes again then); "Stop these reminders" stops them until
``resume``, which brings back the current one if it was stopped before it went out.

**Quiet hours.** A reminder goes out on a working day (Monday to Friday; public holidays are
not known) between 09:00 and 17:00 in the recipient's time zone. The scan claims a reminder as
soon as it is due, with ``next_attempt_at`` at the next such moment; the sender checks the
window again when it takes the claim (the recipient's zone may have changed) and puts it back
until then if needed. A deferral is not an attempt.

**A person has the chat.** While a help-desk agent has a recipient's request (a claimed
ticket), a chat reminder would land in the middle of their conversation with the agent: it is
held, ``HANDOFF_HOLD`` at a time, and goes out once the chat is handed back.

**Exactly once.** Each (organization, term, threshold, recipient) is a row of
``reminder_deliveries`` under a unique key, inserted with ``INSERT … ON CONFLICT DO NOTHING``,
so two instances scanning at once schedule it once. A sender then takes one due row at a time
with a lease, exactly like ``services/outbox.py`` (a guarded UPDATE checked by its row count,
``FOR UPDATE SKIP LOCKED`` on PostgreSQL); a sender that dies after claiming leaves a lease
that runs out, and the row is due again. A chat message cannot be taken back, so a sender that
dies *after* the channel accepted a message and before recording it sends it again once its
lease runs out: the window is one round trip. Email has no such window: the email is queued in
the outbox in the same transaction that marks the claim sent.

**Delivery.** ``ReminderChannel.deliver`` (the bot's chat adapter) answers ``Sent``,
``RetryAfter`` (HTTP 429: not tried again before then), ``Gone`` (403/404: the conversation is
marked inactive and the same claim goes by email at once) or ``Failed`` (permanent: recorded,
not retried; otherwise tried again with an exponential back-off, until ``max_attempts``). Each
attempt is counted on the claim with its last error (no personal data).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from enum import StrEnum
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict
from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import Clock
from services.conversations import (
    ConversationReferences,
    SqlConversationReferences,
    StoredReference,
)
from services.emails import EmailComposer, RenewalReminderEmail
from services.handoff import TicketStatus
from services.handoff_tables import HandoffTicketRow
from services.i18n import Locale, normalize_locale
from services.leases import claim_next, rowcount
from services.membership import Source, Step, StepState, checklist
from services.outbox import EmailKind, enqueue
from services.profile import person_name
from services.tables import (
    ChecklistEntryRow,
    ConversationReferenceRow,
    MembershipRow,
    OrganizationMemberRow,
    OrganizationRow,
    PrimaryContactRow,
    ReminderDeliveryRow,
    ReminderPreferenceRow,
)
from services.unit_of_work import UnitOfWork, insert_for, rows

__all__ = [
    "DEFAULT_THRESHOLDS",
    "HANDOFF_HOLD",
    "SNOOZE",
    "Channel",
    "DeliveryResult",
    "DueReminder",
    "EmailReminderChannel",
    "Failed",
    "FakeReminderChannel",
    "Gone",
    "Member",
    "PlannedReminder",
    "Recipient",
    "ReminderChannel",
    "ReminderPreference",
    "ReminderRunner",
    "ReminderStatus",
    "Reminders",
    "RetryAfter",
    "RunReport",
    "Sent",
    "SqlReminders",
    "latest_due_threshold",
    "next_window",
]

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLDS: tuple[int, ...] = (90, 60, 30, 7, 1, 0, -7)
SNOOZE = timedelta(days=3)
HANDOFF_HOLD = timedelta(minutes=1)  # a chat reminder waits this long, again, while a person helps
WORKDAY_START = time(9)
WORKDAY_END = time(17)
CONTACT_PREFIX = "contact:"

_ERROR_LENGTH = 500
_SCAN_SLICE = 1_000  # organizations per statement in the scan (parameter limits)
# The status card's read, built once (``services.unit_of_work.rows``).
_PREFERENCE = select(ReminderPreferenceRow.stopped, ReminderPreferenceRow.snoozed_until).where(
    ReminderPreferenceRow.organization_id == bindparam("organization_id"),
    ReminderPreferenceRow.user_id == bindparam("user_id"),
)


class ReminderStatus(StrEnum):
    """Where a reminder claim stands."""

    PENDING = "pending"  # due at next_attempt_at
    SENDING = "sending"  # claimed by a sender until leased_until
    SENT = "sent"
    FAILED = "failed"  # given up: last_error says why
    CANCELLED = "cancelled"  # not to be sent: renewed, stopped, or a later one superseded it


class Channel(StrEnum):
    """How a reminder reaches its recipient."""

    CHAT = "chat"
    EMAIL = "email"


class _Cancel(StrEnum):
    """Why a claim was cancelled (kept in ``last_error``)."""

    RENEWED = "cancelled: the membership's term changed"
    STOPPED = "cancelled: the recipient stopped these reminders"
    SUPERSEDED = "cancelled: a later reminder superseded it"
    NOT_RECIPIENT = "cancelled: no longer a recipient"


class Member(BaseModel):
    """A user of an organization the bot met, as a journey resolved them."""

    model_config = ConfigDict(frozen=True)

    organization_id: str
    user_id: str
    display_name: str
    email: str | None = None
    global_admin: bool = False


class ReminderPreference(BaseModel):
    """A recipient's choice about an organization's reminders."""

    stopped: bool = False
    snoozed_until: datetime | None = None


class Recipient(BaseModel):
    """Someone a reminder goes to, and how to reach them."""

    model_config = ConfigDict(frozen=True)

    id: str  # a directory user id, or ``contact:<email>`` for a primary contact not met
    name: str
    email: str | None
    locale: Locale
    timezone: str  # IANA name
    reference: StoredReference | None = None  # their latest active conversation with the bot


class DueReminder(BaseModel):
    """One reminder to deliver now, with what its message says."""

    claim_id: int  # the card's "Remind me later" / "Stop" actions may carry it
    organization_id: str
    legal_name: str
    recipient: Recipient
    channel: Channel
    threshold: int
    expiry_date: date
    days_left: int  # negative once expired
    legacy: bool  # kept in the legacy Partner Membership Center
    view_only: bool  # legacy and expired: nothing can be renewed before the account exists
    pending_steps: list[Step]  # the account-creation steps not done yet


@dataclass(frozen=True)
class Sent:
    """The channel accepted the reminder."""


@dataclass(frozen=True)
class RetryAfter:
    """The channel is throttling (HTTP 429): try again no sooner than ``seconds`` from now."""

    seconds: float


@dataclass(frozen=True)
class Gone:
    """The conversation is gone (HTTP 403/404): the bot was removed or the user blocked it."""


@dataclass(frozen=True)
class Failed:
    """The channel refused or failed; ``reason`` holds no personal data."""

    reason: str
    permanent: bool = False


DeliveryResult = Sent | RetryAfter | Gone | Failed


class ReminderChannel(Protocol):
    """Posts a reminder into the recipient's conversation (``reminder.recipient.reference``)."""

    async def deliver(self, reminder: DueReminder) -> DeliveryResult:
        """Post the reminder; say how it went (never raise for a channel's refusal)."""
        ...


class FakeReminderChannel:
    """A ``ReminderChannel`` that records what it delivers and answers what it is told to."""

    def __init__(self) -> None:
        self.delivered: list[DueReminder] = []  # accepted ones only
        self.attempts: list[DueReminder] = []
        self._answers: list[DeliveryResult] = []

    def answer(self, *results: DeliveryResult) -> None:
        """Answer the next deliveries with ``results``, in turn (then ``Sent``)."""
        self._answers.extend(results)

    async def deliver(self, reminder: DueReminder) -> DeliveryResult:
        """Record the reminder and answer."""
        self.attempts.append(reminder)
        result = self._answers.pop(0) if self._answers else Sent()
        if isinstance(result, Sent):
            self.delivered.append(reminder)
        return result


class EmailReminderChannel:
    """Reminder emails, in the recipient's language.

    The runner queues the message in the outbox itself, in the transaction that marks the
    claim sent, so an email reminder is queued exactly once.
    """

    def __init__(self, composer: EmailComposer) -> None:
        self._composer = composer

    def message(self, reminder: DueReminder, *, now: datetime) -> EmailMessage:
        """The email for ``reminder`` (its recipient has an email address)."""
        recipient = reminder.recipient
        if recipient.email is None:
            raise ValueError("the recipient has no email address")
        return self._composer.renewal_reminder(
            RenewalReminderEmail(
                recipient_name=recipient.name,
                recipient_email=recipient.email,
                organization=reminder.legal_name,
                expiry_date=reminder.expiry_date,
                days_left=reminder.days_left,
                legacy=reminder.legacy,
                view_only=reminder.view_only,
                pending_steps=reminder.pending_steps,
            ),
            recipient.locale,
            now=now,
        )


def latest_due_threshold(thresholds: Iterable[int], days_left: int) -> int | None:
    """The latest threshold reached with ``days_left`` days to expiry, if any is."""
    return min((threshold for threshold in thresholds if threshold >= days_left), default=None)


def next_window(moment: datetime, zone: ZoneInfo) -> datetime:
    """The first instant from ``moment`` on a working day between 09:00 and 17:00 in ``zone``."""
    local = moment.astimezone(zone)
    day = local.date()
    for _ in range(8):
        if day.weekday() < 5:
            start = datetime.combine(day, WORKDAY_START, zone)
            if local < datetime.combine(day, WORKDAY_END, zone):
                return max(local, start).astimezone(UTC)
        day += timedelta(days=1)
    raise AssertionError("a week always has a working day")  # pragma: no cover


def _zone(name: str | None, default: str) -> ZoneInfo:
    for candidate in (name, default):
        if candidate:
            with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
                return ZoneInfo(candidate)
    return ZoneInfo("UTC")


async def _with_a_person(session: AsyncSession, user_id: str) -> bool:
    """Whether a help-desk agent has ``user_id``'s request now (their chat is with a person)."""
    claimed = await session.scalar(
        select(HandoffTicketRow.id).where(
            HandoffTicketRow.active_requester == user_id,
            HandoffTicketRow.status == TicketStatus.CLAIMED.value,
        )
    )
    return claimed is not None


def _utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; everything stored is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


async def _term(session: AsyncSession, organization_id: str) -> date | None:
    return cast(
        date | None,
        await session.scalar(
            select(MembershipRow.expiry_date).where(
                MembershipRow.organization_id == organization_id
            )
        ),
    )


class Reminders(Protocol):
    """What the bot records for reminders: who may be reminded, and their choices."""

    async def record_member(self, member: Member) -> None:
        """Add or refresh a user of an organization (seen now)."""
        ...

    async def preference(self, user_id: str, organization_id: str) -> ReminderPreference:
        """The recipient's choice about the organization's reminders."""
        ...

    async def snooze(self, user_id: str, organization_id: str) -> datetime:
        """ "Remind me later": the current reminder comes again after ``SNOOZE``; return when."""
        ...

    async def stop(self, user_id: str, organization_id: str) -> None:
        """ "Stop these reminders" for this recipient and organization."""
        ...

    async def resume(self, user_id: str, organization_id: str) -> None:
        """Turn the reminders back on (the current one comes if it was stopped unsent)."""
        ...


class SqlReminders:
    """``Reminders`` in SQL; each call one transaction."""

    def __init__(self, units: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._units = units
        self._clock = clock

    async def record_member(self, member: Member) -> None:
        """Upsert the member by (organization, user)."""
        values = member.model_dump() | {"last_seen_at": self._clock.now()}
        async with self._units() as unit:
            statement = insert_for(unit.session)(OrganizationMemberRow).values(values)
            statement = statement.on_conflict_do_update(
                index_elements=["organization_id", "user_id"],
                set_={key: statement.excluded[key] for key in values
                      if key not in ("organization_id", "user_id")},
            )  # fmt: skip
            await unit.session.execute(statement)
            await unit.commit()

    async def preference(self, user_id: str, organization_id: str) -> ReminderPreference:
        """The stored choice, or the default (reminded)."""
        async with self._units() as unit:
            found = await rows(
                unit, _PREFERENCE, {"organization_id": organization_id, "user_id": user_id}
            )
            if not found:
                return ReminderPreference()
            row = found[0]
            snoozed = None if row.snoozed_until is None else _utc(row.snoozed_until)
            return ReminderPreference(stopped=row.stopped, snoozed_until=snoozed)

    async def snooze(self, user_id: str, organization_id: str) -> datetime:
        """Hold the recipient's reminders until ``SNOOZE`` from now; the last sent comes again."""
        until = self._clock.now() + SNOOZE
        async with self._units() as unit:
            await self._prefer(unit.session, user_id, organization_id, snoozed_until=until)
            term = await _term(unit.session, organization_id)
            latest = await unit.session.scalar(
                select(ReminderDeliveryRow)
                .where(
                    ReminderDeliveryRow.organization_id == organization_id,
                    ReminderDeliveryRow.term == term,
                    ReminderDeliveryRow.recipient_id == user_id,
                    ReminderDeliveryRow.status != ReminderStatus.CANCELLED.value,
                )
                .order_by(ReminderDeliveryRow.threshold)
                .limit(1)
            )
            if latest is not None and latest.status == ReminderStatus.SENT:
                latest.status, latest.next_attempt_at = ReminderStatus.PENDING.value, until
            await unit.commit()
        return until

    async def stop(self, user_id: str, organization_id: str) -> None:
        """Stop the recipient's reminders; those waiting are cancelled."""
        async with self._units() as unit:
            await self._prefer(unit.session, user_id, organization_id, stopped=True)
            await unit.session.execute(
                update(ReminderDeliveryRow)
                .where(
                    ReminderDeliveryRow.organization_id == organization_id,
                    ReminderDeliveryRow.recipient_id == user_id,
                    ReminderDeliveryRow.status == ReminderStatus.PENDING.value,
                )
                .values(status=ReminderStatus.CANCELLED.value, last_error=_Cancel.STOPPED.value)
            )
            await unit.commit()

    async def resume(self, user_id: str, organization_id: str) -> None:
        """Remind the recipient again; what stopping cancelled of this term is due again."""
        now = self._clock.now()
        async with self._units() as unit:
            await self._prefer(
                unit.session, user_id, organization_id, stopped=False, snoozed_until=None
            )
            term = await _term(unit.session, organization_id)
            # Only the latest of them goes: the sender cancels the ones it supersedes.
            await unit.session.execute(
                update(ReminderDeliveryRow)
                .where(
                    ReminderDeliveryRow.organization_id == organization_id,
                    ReminderDeliveryRow.term == term,
                    ReminderDeliveryRow.recipient_id == user_id,
                    ReminderDeliveryRow.status == ReminderStatus.CANCELLED.value,
                    ReminderDeliveryRow.last_error == _Cancel.STOPPED.value,
                )
                .values(status=ReminderStatus.PENDING.value, next_attempt_at=now, last_error=None)
            )
            await unit.commit()

    async def _prefer(
        self, session: AsyncSession, user_id: str, organization_id: str, **changes: Any
    ) -> None:
        values = {
            "organization_id": organization_id,
            "user_id": user_id,
            "stopped": False,
            "snoozed_until": None,
            **changes,
            "updated_at": self._clock.now(),
        }
        statement = insert_for(session)(ReminderPreferenceRow).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["organization_id", "user_id"],
            set_={key: statement.excluded[key] for key in (*changes, "updated_at")},
        )
        await session.execute(statement)


@dataclass(frozen=True)
class PlannedReminder:
    """A reminder a scan would claim (what a dry run lists)."""

    organization_id: str
    term: date
    threshold: int
    recipient_id: str
    channel: Channel
    not_before: datetime  # the start of the recipient's next working hours, or now


@dataclass
class RunReport:
    """What one pass did."""

    scheduled: int = 0  # claims the scan added
    sent: int = 0  # of which ``emailed`` by email
    emailed: int = 0
    retrying: int = 0
    deferred: int = 0  # outside working hours or snoozed: put back until then
    failed: int = 0
    cancelled: int = 0
    planned: list[PlannedReminder] = field(default_factory=list)  # a dry run's


@dataclass(frozen=True)
class _Claim:
    id: int
    lease_id: str
    attempts: int  # including this one
    organization_id: str
    term: date
    threshold: int
    recipient_id: str


class _Outcome(StrEnum):
    SENT = "sent"
    EMAILED = "emailed"
    RETRYING = "retrying"
    DEFERRED = "deferred"
    FAILED = "failed"
    CANCELLED = "cancelled"
    LOST = "lost"  # the lease ran out and another sender took the row


class ReminderRunner:
    """Schedule the reminders due and deliver them, one claimed row at a time."""

    def __init__(
        self,
        units: Callable[[], UnitOfWork],
        clock: Clock,
        channel: ReminderChannel,
        email_channel: EmailReminderChannel,
        *,
        thresholds: Sequence[int] = DEFAULT_THRESHOLDS,
        default_timezone: str = "UTC",
        default_locale: Locale = Locale.EN_US,
        references: ConversationReferences | None = None,
        lease: timedelta = timedelta(minutes=5),
        max_attempts: int = 8,
        base_delay: timedelta = timedelta(minutes=1),
        max_delay: timedelta = timedelta(hours=2),
        catch_up_days: int = 3,
        batch: int = 100,
    ) -> None:
        if not thresholds:
            raise ValueError("at least one threshold is needed")
        self._units = units
        self._clock = clock
        self._channel = channel
        self._email = email_channel
        self._thresholds = tuple(sorted(set(thresholds), reverse=True))
        self._default_timezone = default_timezone
        self._default_locale = default_locale
        self._references = references or SqlConversationReferences(units, clock)
        self._lease = lease
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._catch_up = catch_up_days  # a scan missed for a day or two still sends the last one
        self._batch = batch

    async def run_once(self, *, dry_run: bool = False) -> RunReport:
        """Claim the reminders due and send those due now (a dry run only lists the claims)."""
        if dry_run:
            async with self._units() as unit:
                return RunReport(planned=await self._plan(unit.session))
        report = RunReport(scheduled=await self._schedule())
        for _ in range(self._batch):
            claim = await self._claim()
            if claim is None:
                break
            outcome = await self._process(claim)
            if outcome in (_Outcome.SENT, _Outcome.EMAILED):
                report.sent += 1
                report.emailed += outcome is _Outcome.EMAILED
            elif outcome is not _Outcome.LOST:
                setattr(report, outcome.value, getattr(report, outcome.value) + 1)
        return report

    async def run(self, stop: asyncio.Event, interval: float = 300.0) -> None:
        """Run a pass every ``interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # the database may be away for a while; keep the loop alive
                logger.exception("reminder pass failed; trying again later")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await stop.wait()

    # The scan

    async def _plan(self, session: AsyncSession) -> list[PlannedReminder]:
        """The claims missing today, from the memberships whose expiry is in range."""
        now, today = self._clock.now(), self._clock.today()
        earliest = today + timedelta(days=self._thresholds[-1] - self._catch_up)
        latest = today + timedelta(days=self._thresholds[0])
        memberships = (
            await session.execute(
                select(MembershipRow.organization_id, MembershipRow.expiry_date)
                .where(MembershipRow.expiry_date.between(earliest, latest))  # the index
                .order_by(MembershipRow.organization_id)
            )
        ).all()
        due = {
            row.organization_id: (row.expiry_date, threshold)
            for row in memberships
            if (threshold := latest_due_threshold(self._thresholds, (row.expiry_date - today).days))
            is not None
        }
        planned: list[PlannedReminder] = []
        organizations = sorted(due)
        # In slices: one statement may carry at most 32,767 parameters on PostgreSQL.
        for start in range(0, len(organizations), _SCAN_SLICE):
            some = {key: due[key] for key in organizations[start : start + _SCAN_SLICE]}
            planned += await self._plan_slice(session, now, some)
        return sorted(planned, key=lambda plan: (plan.organization_id, plan.recipient_id))

    async def _plan_slice(
        self, session: AsyncSession, now: datetime, due: dict[str, tuple[date, int]]
    ) -> list[PlannedReminder]:
        """The claims missing for these organizations (term and threshold due for each)."""
        recipients = await self._recipients(session, list(due))
        preferences = {
            (row.organization_id, row.user_id): row
            for row in await session.scalars(
                select(ReminderPreferenceRow).where(ReminderPreferenceRow.organization_id.in_(due))
            )
        }
        claimed = {
            (row.organization_id, row.term, row.threshold, row.recipient_id)
            for row in await session.execute(
                select(
                    ReminderDeliveryRow.organization_id,
                    ReminderDeliveryRow.term,
                    ReminderDeliveryRow.threshold,
                    ReminderDeliveryRow.recipient_id,
                ).where(ReminderDeliveryRow.organization_id.in_(due))
            )
        }
        planned = []
        for organization_id, (term, threshold) in due.items():
            for recipient in recipients.get(organization_id, []):
                if (organization_id, term, threshold, recipient.id) in claimed:
                    continue
                preference = preferences.get((organization_id, recipient.id))
                if preference is not None and preference.stopped:
                    continue
                start = now
                if preference is not None and preference.snoozed_until is not None:
                    start = max(now, _utc(preference.snoozed_until))
                zone = _zone(recipient.timezone, self._default_timezone)
                planned.append(
                    PlannedReminder(
                        organization_id=organization_id,
                        term=term,
                        threshold=threshold,
                        recipient_id=recipient.id,
                        channel=Channel.CHAT if recipient.reference else Channel.EMAIL,
                        not_before=next_window(start, zone),
                    )
                )
        return planned

    async def _schedule(self) -> int:
        """Insert the missing claims; cancel what a later one or a new term left behind."""
        now = self._clock.now()
        added = 0
        async with self._units() as unit:
            session = unit.session
            await session.execute(
                update(ReminderDeliveryRow)
                .where(
                    ReminderDeliveryRow.status == ReminderStatus.PENDING.value,
                    ~exists().where(
                        MembershipRow.organization_id == ReminderDeliveryRow.organization_id,
                        MembershipRow.expiry_date == ReminderDeliveryRow.term,
                    ),
                )
                .values(status=ReminderStatus.CANCELLED.value, last_error=_Cancel.RENEWED.value)
                .execution_options(synchronize_session=False)
            )
            # In key order: two instances inserting the same rows wait for each other in turn.
            for plan in await self._plan(session):
                statement = (
                    insert_for(session)(ReminderDeliveryRow)
                    .values(
                        organization_id=plan.organization_id,
                        term=plan.term,
                        threshold=plan.threshold,
                        recipient_id=plan.recipient_id,
                        status=ReminderStatus.PENDING.value,
                        attempts=0,
                        next_attempt_at=plan.not_before,
                        created_at=now,
                    )
                    .on_conflict_do_nothing(
                        index_elements=["organization_id", "term", "threshold", "recipient_id"]
                    )
                )
                added += rowcount(await session.execute(statement))
                await session.execute(
                    update(ReminderDeliveryRow)
                    .where(
                        ReminderDeliveryRow.organization_id == plan.organization_id,
                        ReminderDeliveryRow.term == plan.term,
                        ReminderDeliveryRow.recipient_id == plan.recipient_id,
                        ReminderDeliveryRow.threshold > plan.threshold,
                        ReminderDeliveryRow.status == ReminderStatus.PENDING.value,
                    )
                    .values(
                        status=ReminderStatus.CANCELLED.value, last_error=_Cancel.SUPERSEDED.value
                    )
                    .execution_options(synchronize_session=False)
                )
            await unit.commit()
        return added

    async def _recipients(
        self, session: AsyncSession, organization_ids: Sequence[str]
    ) -> dict[str, list[Recipient]]:
        """Each organization's recipients: its global administrators and primary contact."""
        members: dict[str, list[OrganizationMemberRow]] = {}
        for member in await session.scalars(
            select(OrganizationMemberRow)
            .where(OrganizationMemberRow.organization_id.in_(organization_ids))
            .order_by(OrganizationMemberRow.user_id)
        ):
            members.setdefault(member.organization_id, []).append(member)
        contacts = {
            contact.organization_id: contact
            for contact in await session.scalars(
                select(PrimaryContactRow).where(
                    PrimaryContactRow.organization_id.in_(organization_ids)
                )
            )
        }
        user_ids = {member.user_id for found in members.values() for member in found}
        references: dict[str, ConversationReferenceRow] = {}
        if user_ids:
            # Only each user's latest active conversation, ranked in the database: loading
            # every conversation of a user who has many took memory in proportion (the
            # benchmark's memory section found it).
            latest = (
                select(
                    ConversationReferenceRow.user_id,
                    ConversationReferenceRow.conversation_id,
                    func.row_number()
                    .over(
                        partition_by=ConversationReferenceRow.user_id,
                        order_by=ConversationReferenceRow.updated_at.desc(),
                    )
                    .label("rank"),
                )
                .where(
                    ConversationReferenceRow.user_id.in_(user_ids),
                    ConversationReferenceRow.active.is_(True),
                )
                .subquery()
            )
            for reference in await session.scalars(
                select(ConversationReferenceRow).join(
                    latest,
                    (ConversationReferenceRow.user_id == latest.c.user_id)
                    & (ConversationReferenceRow.conversation_id == latest.c.conversation_id)
                    & (latest.c.rank == 1),
                )
            ):
                references[reference.user_id] = reference

        def of_member(member: OrganizationMemberRow) -> Recipient:
            row = references.get(member.user_id)
            reference = None if row is None else StoredReference(
                user_id=row.user_id, conversation_id=row.conversation_id,
                service_url=row.service_url, locale=row.locale, timezone=row.timezone,
                document=dict(row.document), active=row.active, updated_at=row.updated_at,
            )  # fmt: skip
            return Recipient(
                id=member.user_id,
                name=member.display_name,
                email=member.email,
                locale=normalize_locale(row.locale if row else None) or self._default_locale,
                timezone=(row.timezone if row else None) or self._default_timezone,
                reference=reference,
            )

        found: dict[str, list[Recipient]] = {}
        for organization_id in organization_ids:
            chosen = {
                member.user_id: of_member(member)
                for member in members.get(organization_id, [])
                if member.global_admin
            }
            contact = contacts.get(organization_id)
            if contact is not None and contact.email:
                address = contact.email.lower()
                same = next(
                    (m for m in members.get(organization_id, [])
                     if m.email and m.email.lower() == address),
                    None,
                )  # fmt: skip
                if same is not None:
                    chosen.setdefault(same.user_id, of_member(same))
                else:
                    chosen[CONTACT_PREFIX + address] = Recipient(
                        id=CONTACT_PREFIX + address,
                        name=person_name(contact.first_name, contact.last_name),
                        email=contact.email,
                        locale=self._default_locale,
                        timezone=self._default_timezone,
                    )
            found[organization_id] = [
                recipient
                for recipient in chosen.values()
                if recipient.reference is not None or recipient.email
            ]
        return found

    # The sender

    async def _claim(self) -> _Claim | None:
        taken = await claim_next(
            self._units, self._clock.now, ReminderDeliveryRow, self._lease,
            ReminderDeliveryRow.organization_id, ReminderDeliveryRow.term,
            ReminderDeliveryRow.threshold, ReminderDeliveryRow.recipient_id,
        )  # fmt: skip
        if taken is None:
            return None
        row_id, lease_id, row = taken
        return _Claim(
            row_id, lease_id, row.attempts, row.organization_id, row.term, row.threshold,
            row.recipient_id,
        )  # fmt: skip

    async def _process(self, claim: _Claim) -> _Outcome:
        """Check the claim still stands, then deliver it, or put it back, or cancel it."""
        now = self._clock.now()
        async with self._units() as unit:
            checked = await self._check(unit.session, claim, now)
        if isinstance(checked, _Cancel):
            return await self._cancel(claim, checked)
        if isinstance(checked, datetime):
            settled = await self._settle(
                claim, status=ReminderStatus.PENDING.value, next_attempt_at=checked,
                attempts=claim.attempts - 1,  # a deferral is not an attempt
            )  # fmt: skip
            return _Outcome.DEFERRED if settled else _Outcome.LOST
        reminder = checked
        log = {
            "reminder_id": claim.id,
            "organization_id": claim.organization_id,
            "threshold": claim.threshold,
            "attempt": claim.attempts,
        }
        if reminder.channel is Channel.EMAIL:
            return await self._send_email(claim, reminder, log)
        try:
            result = await self._channel.deliver(reminder)
        except Exception as error:  # a channel bug must not leave the row claimed
            logger.exception("reminder channel failed unexpectedly", extra=log)
            result = Failed(f"unexpected {type(error).__name__}")
        match result:
            case Sent():
                settled = await self._settle(
                    claim, status=ReminderStatus.SENT.value, channel=Channel.CHAT.value,
                    sent_at=self._clock.now(), last_error=None,
                )  # fmt: skip
                logger.info("renewal reminder sent", extra=log | {"channel": "chat"})
                return _Outcome.SENT if settled else _Outcome.LOST
            case Gone():
                reference = reminder.recipient.reference
                assert reference is not None  # a chat delivery has one
                await self._references.forget(reference.user_id, reference.conversation_id)
                logger.warning("conversation gone; reminding by email instead", extra=log)
                if not reminder.recipient.email:
                    return await self._give_up(claim, "conversation gone and no email address")
                email = reminder.model_copy(update={"channel": Channel.EMAIL})
                return await self._send_email(claim, email, log)
            case RetryAfter(seconds=seconds):
                return await self._retry(claim, f"throttled for {seconds:g}s", seconds, log)
            case Failed(reason=reason, permanent=True):
                return await self._give_up(claim, reason)
            case Failed(reason=reason):
                return await self._retry(claim, reason, None, log)
        raise AssertionError(f"unknown delivery result {result!r}")  # pragma: no cover

    async def _check(
        self, session: AsyncSession, claim: _Claim, now: datetime
    ) -> DueReminder | _Cancel | datetime:
        """The reminder to deliver now; or why to cancel it; or when it may go."""
        found = (
            await session.execute(
                select(
                    OrganizationRow.legal_name,
                    MembershipRow.expiry_date,
                    MembershipRow.source,
                )
                .join(MembershipRow, MembershipRow.organization_id == OrganizationRow.id)
                .where(OrganizationRow.id == claim.organization_id)
            )
        ).first()
        if found is None or found.expiry_date != claim.term:
            return _Cancel.RENEWED
        recipient = next(
            (
                recipient
                for recipient in (await self._recipients(session, [claim.organization_id])).get(
                    claim.organization_id, []
                )
                if recipient.id == claim.recipient_id
            ),
            None,
        )
        if recipient is None:
            return _Cancel.NOT_RECIPIENT
        preference = await session.get(
            ReminderPreferenceRow, (claim.organization_id, claim.recipient_id)
        )
        if preference is not None and preference.stopped:
            return _Cancel.STOPPED
        later = await session.scalar(
            select(ReminderDeliveryRow.id).where(
                ReminderDeliveryRow.organization_id == claim.organization_id,
                ReminderDeliveryRow.term == claim.term,
                ReminderDeliveryRow.recipient_id == claim.recipient_id,
                ReminderDeliveryRow.threshold < claim.threshold,
                ReminderDeliveryRow.status.in_(
                    [ReminderStatus.PENDING, ReminderStatus.SENDING, ReminderStatus.SENT]
                ),
            )
        )
        if later is not None:
            return _Cancel.SUPERSEDED
        zone = _zone(recipient.timezone, self._default_timezone)
        start = now
        if preference is not None and preference.snoozed_until is not None:
            start = max(now, _utc(preference.snoozed_until))
        window = next_window(start, zone)
        if window > now:
            return window
        if recipient.reference is not None and await _with_a_person(session, recipient.id):
            return now + HANDOFF_HOLD
        recorded = {
            row.step: row
            for row in await session.scalars(
                select(ChecklistEntryRow).where(
                    ChecklistEntryRow.organization_id == claim.organization_id
                )
            )
        }
        contact = await session.get(PrimaryContactRow, claim.organization_id)
        steps = checklist(
            recorded, contact.email if contact else None, contact.verification if contact else None
        )
        legacy = found.source == Source.LEGACY
        days_left = (claim.term - self._clock.today()).days
        return DueReminder(
            claim_id=claim.id,
            organization_id=claim.organization_id,
            legal_name=found.legal_name,
            recipient=recipient,
            channel=Channel.CHAT if recipient.reference is not None else Channel.EMAIL,
            threshold=claim.threshold,
            expiry_date=claim.term,
            days_left=days_left,
            legacy=legacy,
            view_only=legacy and days_left < 0,
            pending_steps=[item.step for item in steps if item.state is not StepState.DONE],
        )

    async def _send_email(
        self, claim: _Claim, reminder: DueReminder, log: dict[str, Any]
    ) -> _Outcome:
        """Queue the email in the outbox in the transaction that marks the claim sent."""
        now = self._clock.now()
        message = self._email.message(reminder, now=now)
        async with self._units() as unit:
            settled = await unit.session.execute(
                self._settlement(
                    claim, status=ReminderStatus.SENT.value, channel=Channel.EMAIL.value,
                    sent_at=now, last_error=None,
                )
            )  # fmt: skip
            if rowcount(settled) != 1:
                logger.warning("reminder lease lost while sending", extra=log)
                return _Outcome.LOST
            await enqueue(
                unit.session,
                message,
                kind=EmailKind.RENEWAL_REMINDER,
                now=now,
                organization_id=claim.organization_id,
            )
            await unit.commit()
        logger.info("renewal reminder queued by email", extra=log | {"channel": "email"})
        return _Outcome.EMAILED

    async def _retry(
        self, claim: _Claim, reason: str, retry_after: float | None, log: dict[str, Any]
    ) -> _Outcome:
        if claim.attempts >= self._max_attempts:
            return await self._give_up(claim, f"gave up after {claim.attempts} attempts: {reason}")
        delay = min(self._max_delay, self._base_delay * 2 ** (claim.attempts - 1))
        if retry_after is not None:
            delay = max(delay, timedelta(seconds=retry_after))
        settled = await self._settle(
            claim, status=ReminderStatus.PENDING.value,
            next_attempt_at=self._clock.now() + delay, last_error=reason[:_ERROR_LENGTH],
        )  # fmt: skip
        logger.warning(
            "reminder not delivered yet, retrying in %ds: %s", delay.total_seconds(), reason,
            extra=log,
        )  # fmt: skip
        return _Outcome.RETRYING if settled else _Outcome.LOST

    async def _give_up(self, claim: _Claim, reason: str) -> _Outcome:
        settled = await self._settle(
            claim, status=ReminderStatus.FAILED.value, last_error=reason[:_ERROR_LENGTH]
        )
        logger.error("renewal reminder not delivered: %s", reason, extra={"reminder_id": claim.id})
        return _Outcome.FAILED if settled else _Outcome.LOST

    async def _cancel(self, claim: _Claim, why: _Cancel) -> _Outcome:
        settled = await self._settle(
            claim, status=ReminderStatus.CANCELLED.value, last_error=why.value,
            attempts=claim.attempts - 1,
        )  # fmt: skip
        return _Outcome.CANCELLED if settled else _Outcome.LOST

    def _settlement(self, claim: _Claim, **values: Any) -> Any:
        return (
            update(ReminderDeliveryRow)
            .where(
                ReminderDeliveryRow.id == claim.id,
                ReminderDeliveryRow.lease_id == claim.lease_id,
            )
            .values(lease_id=None, leased_until=None, **values)
            .execution_options(synchronize_session=False)
        )

    async def _settle(self, claim: _Claim, **values: Any) -> bool:
        """Record the outcome, if this sender still holds the row's lease."""
        async with self._units() as unit:
            result = await unit.session.execute(self._settlement(claim, **values))
            await unit.commit()
        if rowcount(result) != 1:
            # The lease ran out during the send and another sender took the row.
            logger.warning("reminder lease lost while sending", extra={"reminder_id": claim.id})
            return False
        return True
