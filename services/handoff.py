"""Help-desk handoff: a person takes over a user's chat, then hands it back.

**Tickets.** A user's request for a person (they asked, a step failed validation twice, or a
turn failed unexpectedly) is a ticket: ``open`` → ``claimed`` → ``resolved`` | ``abandoned``.
A requester has at most one open or claimed ticket: a second request gives back the one they
have (the unique ``active_requester`` column settles two requests at once). The ticket keeps
the last turns of the conversation, redacted exactly like the logs (``services.logs.redact``:
email addresses and phone numbers), and the messages relayed while it is claimed, bounded.

**Who may act.** Only help-desk agents claim or resolve; whether someone is one is known to
the bot (the Teams team's roster), so it comes in as ``is_agent``. A claim is a guarded UPDATE
(``WHERE status = 'open'``), so of two agents pressing Claim at once one wins and the other is
told who did. Only the requester rates a ticket, 1 to 5, once it is resolved.

**Waiting.** The queue is the open tickets by creation time. An open ticket is raised again in
the help-desk channel every ``reraise_after`` until someone claims it: ``due_for_reraise``
claims the due tickets with a short lease (an UPDATE guarded by the due condition, ``FOR
UPDATE SKIP LOCKED`` on PostgreSQL, as ``services/reminders.py`` does), so two instances never
take the same ticket; ``reraised`` records that the card went out (``raised_at`` is then now,
``raise_count`` one more). An instance that dies between the two leaves a lease that runs out,
and the ticket is due again.

A ticket made while no channel is named waits without a card: once one is named,
``due_for_posting`` gives it (leased the same way) for its card to be posted.

**The help desk channel** is one row, named by an operator command or a setting; the bot posts
ticket cards there, and the card's activity id and thread are kept on the ticket so the card is
updated in place and the agents' replies in the thread find their ticket.

Errors (all ``ServiceError``; an unknown ticket is ``NotFound``)::

    HandoffError
    ├── NotAnAgent        the caller is not a member of the help-desk team
    ├── TicketClosed      the ticket was already resolved or abandoned
    ├── AlreadyClaimed    another agent claimed it first (carries their name, ``by``)
    ├── NotTheRequester   only the person who asked may rate the help they had
    └── NotResolved       a ticket is rated once it is resolved
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import Clock
from services.errors import NotFound, ServiceError
from services.handoff_tables import HandoffTicketRow, HelpDeskChannelRow
from services.i18n import DEFAULT_LOCALE, Locale, normalize_locale
from services.leases import rowcount
from services.logs import redact
from services.tables import TeamChannelRow
from services.unit_of_work import UnitOfWork, insert_for

__all__ = [
    "AlreadyClaimed",
    "HandoffError",
    "HandoffService",
    "HelpDeskChannel",
    "HelpDeskChannelStore",
    "NotAnAgent",
    "NotResolved",
    "NotTheRequester",
    "Ticket",
    "TicketClosed",
    "TicketReason",
    "TicketStatus",
    "TranscriptLine",
]

logger = logging.getLogger(__name__)

_LINE_LENGTH = 2_000  # characters kept of one transcript line
_HELP_DESK_ROW = 1


class TicketStatus(StrEnum):
    """Where a ticket stands."""

    OPEN = "open"  # waiting in the queue
    CLAIMED = "claimed"  # an agent is talking with the user
    RESOLVED = "resolved"
    ABANDONED = "abandoned"  # the user cancelled their request


_ACTIVE = (TicketStatus.OPEN.value, TicketStatus.CLAIMED.value)


class TicketReason(StrEnum):
    """Why the user was handed to a person."""

    ASKED = "asked"
    VALIDATION = "validation"  # a step failed validation twice in a row
    ERROR = "error"  # a turn failed unexpectedly


class HandoffError(ServiceError):
    """Base of the help desk's refusals."""


class NotAnAgent(HandoffError):
    """Only members of the help-desk team claim or resolve tickets."""


class TicketClosed(HandoffError):
    """The ticket was resolved or abandoned already."""


class AlreadyClaimed(HandoffError):
    """Another agent claimed the ticket first."""

    def __init__(self, by: str) -> None:
        super().__init__(f"the ticket was claimed by {by}")
        self.by = by


class NotTheRequester(HandoffError):
    """Only the person who asked for help rates it."""


class NotResolved(HandoffError):
    """A ticket is rated once it is resolved, not before."""


class TranscriptLine(BaseModel):
    """One line of the conversation kept on a ticket (redacted when stored)."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    sender: Literal["user", "bot", "agent"]
    text: str


class Ticket(BaseModel):
    """A request for a person, as the help desk and the bot see it."""

    id: int
    number: str  # what people say: "HD-0042"
    organization_id: str | None
    requester_id: str
    requester_name: str
    conversation_id: str  # the user's conversation with the bot
    journey: str | None
    step: str | None
    reason: TicketReason
    locale: Locale
    status: TicketStatus
    agent_id: str | None
    agent_name: str | None
    created_at: datetime
    claimed_at: datetime | None
    resolved_at: datetime | None  # when it ended: resolved, or abandoned by the user
    raised_at: datetime  # when its card was last posted or raised in the channel
    raise_count: int  # how many times it was raised again
    csat: int | None
    transcript: list[TranscriptLine]
    channel_message_id: str | None  # the help-desk card's activity id, to update it in place
    thread_id: str | None  # the channel thread the card started

    @property
    def active(self) -> bool:
        """Open or claimed: the user is still with the help desk."""
        return self.status in (TicketStatus.OPEN, TicketStatus.CLAIMED)


class HelpDeskChannel(BaseModel):
    """The team channel that is the help desk, and how to post into it."""

    team_id: str
    channel_id: str  # the channel's conversation id
    service_url: str
    tenant_id: str | None
    set_by: str
    set_at: datetime
    # The channel's serialized ConversationReference when the bot recorded its install
    # (``team_channels``); None if the channel was named before the bot met it.
    document: dict[str, Any] | None = None


def ticket_number(ticket_id: int) -> str:
    """The short id people quote for a ticket."""
    return f"HD-{ticket_id:04d}"


def _utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; everything stored is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _maybe_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else _utc(moment)


def _redacted(line: TranscriptLine) -> dict[str, Any]:
    text = redact(line.text)[:_LINE_LENGTH]
    return line.model_copy(update={"text": text}).model_dump(mode="json")


def _ticket(row: HandoffTicketRow) -> Ticket:
    return Ticket(
        id=row.id,
        number=ticket_number(row.id),
        organization_id=row.organization_id,
        requester_id=row.requester_id,
        requester_name=row.requester_name,
        conversation_id=row.conversation_id,
        journey=row.journey,
        step=row.step,
        reason=TicketReason(row.reason),
        locale=Locale(row.locale),
        status=TicketStatus(row.status),
        agent_id=row.agent_id,
        agent_name=row.agent_name,
        created_at=_utc(row.created_at),
        claimed_at=_maybe_utc(row.claimed_at),
        resolved_at=_maybe_utc(row.resolved_at),
        raised_at=_utc(row.raised_at),
        raise_count=row.raise_count,
        csat=row.csat,
        transcript=[TranscriptLine.model_validate(line) for line in row.transcript],
        channel_message_id=row.channel_message_id,
        thread_id=row.thread_id,
    )


class HelpDeskChannelStore:
    """The help-desk channel setting, in SQL (one row)."""

    def __init__(self, units: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._units = units
        self._clock = clock

    async def set_help_desk(
        self,
        team_id: str,
        channel_id: str,
        service_url: str,
        tenant_id: str | None,
        set_by: str,
    ) -> HelpDeskChannel:
        """Name the help-desk channel (replacing the one named before)."""
        values = {
            "id": _HELP_DESK_ROW,
            "team_id": team_id,
            "channel_id": channel_id,
            "service_url": service_url,
            "tenant_id": tenant_id,
            "set_by": set_by,
            "set_at": self._clock.now(),
        }
        async with self._units() as unit:
            insert = insert_for(unit.session)
            statement = insert(HelpDeskChannelRow).values(values)
            statement = statement.on_conflict_do_update(
                index_elements=["id"],
                set_={key: statement.excluded[key] for key in values if key != "id"},
            )
            await unit.session.execute(statement)
            await unit.commit()
        logger.info("help-desk channel set", extra={"team_id": team_id, "set_by": set_by})
        found = await self.help_desk()
        assert found is not None  # just written
        return found

    async def help_desk(self) -> HelpDeskChannel | None:
        """The help-desk channel, if one was named."""
        async with self._units() as unit:
            row = await unit.session.get(HelpDeskChannelRow, _HELP_DESK_ROW)
            if row is None:
                return None
            installed = await unit.session.get(TeamChannelRow, row.channel_id)
            return HelpDeskChannel(
                team_id=row.team_id,
                channel_id=row.channel_id,
                service_url=row.service_url,
                tenant_id=row.tenant_id,
                set_by=row.set_by,
                set_at=_utc(row.set_at),
                document=(
                    dict(installed.document) if installed is not None and installed.active else None
                ),
            )


class HandoffService:
    """Help-desk tickets in SQL; each call one transaction.

    ``transcript_turns`` lines of the conversation are kept when a ticket opens, and at most
    ``transcript_limit`` lines in all once relayed messages are added (the oldest go first).
    ``reraise_lease`` is how long an instance holds a ticket it is re-raising.
    """

    def __init__(
        self,
        units: Callable[[], UnitOfWork],
        clock: Clock,
        *,
        reraise_after: timedelta,
        transcript_turns: int = 10,
        transcript_limit: int = 200,
        reraise_lease: timedelta = timedelta(minutes=2),
    ) -> None:
        if reraise_after <= timedelta(0):
            raise ValueError("reraise_after must be positive")
        self._units = units
        self._clock = clock
        self._reraise_after = reraise_after
        self._transcript_turns = transcript_turns
        self._transcript_limit = max(transcript_limit, transcript_turns)
        self._reraise_lease = reraise_lease
        self.channels = HelpDeskChannelStore(units, clock)

    async def open(
        self,
        requester_id: str,
        requester_name: str,
        conversation_id: str,
        organization_id: str | None,
        journey: str | None,
        step: str | None,
        reason: TicketReason,
        locale: str | None,
        transcript: Sequence[TranscriptLine],
    ) -> tuple[Ticket, bool]:
        """Open a ticket for the requester; or give back the one they have (and False)."""
        existing = await self.active_for(requester_id)
        if existing is not None:
            return existing, False
        now = self._clock.now()
        lines = list(transcript)[-self._transcript_turns :] if self._transcript_turns else []
        row = HandoffTicketRow(
            organization_id=organization_id,
            requester_id=requester_id,
            requester_name=requester_name,
            active_requester=requester_id,
            conversation_id=conversation_id,
            journey=journey,
            step=step,
            reason=TicketReason(reason).value,
            locale=(normalize_locale(locale) or DEFAULT_LOCALE).value,
            status=TicketStatus.OPEN.value,
            created_at=now,
            raised_at=now,
            raise_count=0,
            transcript=[_redacted(line) for line in lines],
            updated_at=now,
        )
        try:
            async with self._units() as unit:
                unit.session.add(row)
                await unit.session.flush()
                ticket = _ticket(row)
                await unit.commit()
        except IntegrityError:
            # Another turn of the same requester opened one between our check and insert.
            existing = await self.active_for(requester_id)
            if existing is None:
                raise
            return existing, False
        logger.info(
            "help-desk ticket opened",
            extra={"ticket": ticket.number, "reason": ticket.reason.value},
        )
        return ticket, True

    async def get(self, ticket_id: int) -> Ticket:
        """The ticket, or ``NotFound``."""
        async with self._units() as unit:
            return _ticket(await self._row(unit.session, ticket_id))

    async def active_for(self, requester_id: str) -> Ticket | None:
        """The requester's open or claimed ticket, if they have one."""
        async with self._units() as unit:
            row = await unit.session.scalar(
                select(HandoffTicketRow).where(HandoffTicketRow.active_requester == requester_id)
            )
            return None if row is None else _ticket(row)

    async def by_thread(self, thread_id: str) -> Ticket | None:
        """The ticket whose card started the channel thread ``thread_id`` (the latest)."""
        async with self._units() as unit:
            row = await unit.session.scalar(
                select(HandoffTicketRow)
                .where(HandoffTicketRow.thread_id == thread_id)
                .order_by(HandoffTicketRow.created_at.desc(), HandoffTicketRow.id.desc())
                .limit(1)
            )
            return None if row is None else _ticket(row)

    async def position(self, ticket_id: int) -> int:
        """The ticket's place in the queue of open tickets, from 1; 0 when it is not waiting."""
        async with self._units() as unit:
            row = await self._row(unit.session, ticket_id)
            if row.status != TicketStatus.OPEN:
                return 0
            ahead = await unit.session.scalar(
                select(func.count())
                .select_from(HandoffTicketRow)
                .where(
                    HandoffTicketRow.status == TicketStatus.OPEN.value,
                    or_(
                        HandoffTicketRow.created_at < row.created_at,
                        and_(
                            HandoffTicketRow.created_at == row.created_at,
                            HandoffTicketRow.id < row.id,
                        ),
                    ),
                )
            )
            return int(ahead or 0) + 1

    async def queue(self) -> list[Ticket]:
        """The open tickets, first come first."""
        async with self._units() as unit:
            rows = await unit.session.scalars(
                select(HandoffTicketRow)
                .where(HandoffTicketRow.status == TicketStatus.OPEN.value)
                .order_by(HandoffTicketRow.created_at, HandoffTicketRow.id)
            )
            return [_ticket(row) for row in rows]

    async def posted(
        self, ticket_id: int, channel_message_id: str, thread_id: str | None
    ) -> Ticket:
        """Record where the ticket's card is in the help-desk channel (raised there now)."""
        now = self._clock.now()
        async with self._units() as unit:
            row = await self._row(unit.session, ticket_id)
            row.channel_message_id = channel_message_id
            row.thread_id = thread_id
            row.raised_at = now  # the agents see it from now: its wait to be raised again starts
            row.reraise_leased_until = None
            row.updated_at = now
            ticket = _ticket(row)
            await unit.commit()
        return ticket

    async def claim(
        self, ticket_id: int, agent_id: str, agent_name: str, *, is_agent: bool
    ) -> Ticket:
        """The agent takes the ticket; the first of two agents wins, the other is told who."""
        if not is_agent:
            raise NotAnAgent("only the help-desk team claims tickets")
        now = self._clock.now()
        async with self._units() as unit:
            claimed = await unit.session.execute(
                update(HandoffTicketRow)
                .where(
                    HandoffTicketRow.id == ticket_id,
                    HandoffTicketRow.status == TicketStatus.OPEN.value,
                )
                .values(
                    status=TicketStatus.CLAIMED.value,
                    agent_id=agent_id,
                    agent_name=agent_name,
                    claimed_at=now,
                    reraise_leased_until=None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            row = await self._row(unit.session, ticket_id, fresh=True)
            await unit.commit()
        ticket = _ticket(row)
        if rowcount(claimed) == 1:
            logger.info("help-desk ticket claimed", extra={"ticket": ticket.number})
            return ticket
        if ticket.status is TicketStatus.CLAIMED:
            if ticket.agent_id == agent_id:
                return ticket  # pressed Claim twice
            raise AlreadyClaimed(by=ticket.agent_name or ticket.agent_id or "another agent")
        raise TicketClosed(f"{ticket.number} is {ticket.status.value}")

    async def resolve(
        self, ticket_id: int, agent_id: str, *, is_agent: bool, agent_name: str | None = None
    ) -> Ticket:
        """The help is over: the user's journey resumes and they are asked for a rating.

        Any agent may resolve (a colleague may close a ticket someone left claimed); a ticket
        resolved without a claim records the resolving agent. Resolving twice is a no-op.
        """
        if not is_agent:
            raise NotAnAgent("only the help-desk team resolves tickets")
        now = self._clock.now()
        async with self._units() as unit:
            row = await self._row(unit.session, ticket_id, lock=True)
            if row.status == TicketStatus.RESOLVED:
                return _ticket(row)
            if row.status == TicketStatus.ABANDONED:
                raise TicketClosed(f"{ticket_number(row.id)} was cancelled by the user")
            if row.agent_id is None:
                row.agent_id = agent_id
                row.agent_name = agent_name or agent_id
            row.status = TicketStatus.RESOLVED.value
            row.active_requester = None
            row.resolved_at = now
            row.reraise_leased_until = None
            row.updated_at = now
            ticket = _ticket(row)
            await unit.commit()
        logger.info("help-desk ticket resolved", extra={"ticket": ticket.number})
        return ticket

    async def cancel(self, requester_id: str) -> Ticket | None:
        """The user withdraws their request (waiting or talking): the ticket is abandoned."""
        now = self._clock.now()
        async with self._units() as unit:
            row = await unit.session.scalar(
                select(HandoffTicketRow)
                .where(HandoffTicketRow.active_requester == requester_id)
                .with_for_update()
            )
            if row is None:
                return None
            row.status = TicketStatus.ABANDONED.value
            row.active_requester = None
            row.resolved_at = now
            row.reraise_leased_until = None
            row.updated_at = now
            ticket = _ticket(row)
            await unit.commit()
        logger.info("help-desk ticket cancelled by the user", extra={"ticket": ticket.number})
        return ticket

    async def rate(self, ticket_id: int, requester_id: str, score: int) -> Ticket:
        """Record the requester's 1-to-5 rating of a resolved ticket (a new one replaces it)."""
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise ValueError("a rating is a whole number from 1 to 5")
        async with self._units() as unit:
            row = await self._row(unit.session, ticket_id, lock=True)
            if row.requester_id != requester_id:
                raise NotTheRequester("only the person who asked rates the help")
            if row.status != TicketStatus.RESOLVED:
                raise NotResolved(f"{ticket_number(row.id)} is {row.status}")
            row.csat = score
            row.updated_at = self._clock.now()
            ticket = _ticket(row)
            await unit.commit()
        return ticket

    async def append(self, ticket_id: int, line: TranscriptLine) -> Ticket:
        """Keep a relayed message on the ticket, redacted; the oldest lines go past the limit."""
        async with self._units() as unit:
            row = await self._row(unit.session, ticket_id, lock=True)
            if row.status not in _ACTIVE:
                raise TicketClosed(f"{ticket_number(row.id)} is {row.status}")
            # A new list, so that SQLAlchemy sees the JSON column change.
            row.transcript = [*row.transcript, _redacted(line)][-self._transcript_limit :]
            row.updated_at = self._clock.now()
            ticket = _ticket(row)
            await unit.commit()
        return ticket

    async def due_for_reraise(self) -> list[Ticket]:
        """Claim the open tickets unclaimed for ``reraise_after`` since last raised.

        Each is leased to this instance for ``reraise_lease``: raise it in the channel, tell
        the user, then call ``reraised``. Another instance gets none of them meanwhile.
        """
        now = self._clock.now()
        due = and_(
            HandoffTicketRow.status == TicketStatus.OPEN.value,
            HandoffTicketRow.raised_at <= now - self._reraise_after,
            or_(
                HandoffTicketRow.reraise_leased_until.is_(None),
                HandoffTicketRow.reraise_leased_until <= now,
            ),
        )
        return await self._lease(due, now)

    async def _lease(self, due: ColumnElement[bool], now: datetime) -> list[Ticket]:
        """Lease the tickets ``due`` to this instance for ``reraise_lease``, oldest first."""
        async with self._units() as unit:
            candidates = (
                select(HandoffTicketRow.id)
                .where(due)
                .order_by(HandoffTicketRow.created_at, HandoffTicketRow.id)
                .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer
            )
            claimed = await unit.session.scalars(
                update(HandoffTicketRow)
                .where(HandoffTicketRow.id.in_(candidates), due)
                .values(reraise_leased_until=now + self._reraise_lease)
                .returning(HandoffTicketRow.id)
                .execution_options(synchronize_session=False)
            )
            ids = list(claimed)
            rows = await unit.session.scalars(
                select(HandoffTicketRow)
                .where(HandoffTicketRow.id.in_(ids))
                .order_by(HandoffTicketRow.created_at, HandoffTicketRow.id)
            )
            tickets = [_ticket(row) for row in rows]
            await unit.commit()
        return tickets

    async def due_for_posting(self) -> list[Ticket]:
        """Claim the open tickets whose card is not in the help-desk channel yet.

        They were made while no channel was set (or their card could not be posted): post each
        card, then call ``posted``. Leased like ``due_for_reraise``, so that two instances never
        post the same card; a failed post is tried again once the lease runs out.
        """
        now = self._clock.now()
        due = and_(
            HandoffTicketRow.status == TicketStatus.OPEN.value,
            HandoffTicketRow.channel_message_id.is_(None),
            or_(
                HandoffTicketRow.reraise_leased_until.is_(None),
                HandoffTicketRow.reraise_leased_until <= now,
            ),
        )
        return await self._lease(due, now)

    async def reraised(self, ticket_id: int) -> Ticket | None:
        """Record that the ticket was raised again now; None if it was claimed or closed since."""
        now = self._clock.now()
        async with self._units() as unit:
            result = await unit.session.execute(
                update(HandoffTicketRow)
                .where(
                    HandoffTicketRow.id == ticket_id,
                    HandoffTicketRow.status == TicketStatus.OPEN.value,
                )
                .values(
                    raised_at=now,
                    raise_count=HandoffTicketRow.raise_count + 1,
                    reraise_leased_until=None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if rowcount(result) != 1:
                return None
            row = await self._row(unit.session, ticket_id, fresh=True)
            await unit.commit()
        return _ticket(row)

    async def set_help_desk(
        self,
        team_id: str,
        channel_id: str,
        service_url: str,
        tenant_id: str | None,
        set_by: str,
    ) -> HelpDeskChannel:
        """Name the help-desk channel (see ``HelpDeskChannelStore``)."""
        return await self.channels.set_help_desk(
            team_id, channel_id, service_url, tenant_id, set_by
        )

    async def help_desk(self) -> HelpDeskChannel | None:
        """The help-desk channel, if one was named."""
        return await self.channels.help_desk()

    @staticmethod
    async def _row(
        session: AsyncSession, ticket_id: int, *, lock: bool = False, fresh: bool = False
    ) -> HandoffTicketRow:
        query = select(HandoffTicketRow).where(HandoffTicketRow.id == ticket_id)
        if lock:
            query = query.with_for_update()  # PostgreSQL; SQLite has one writer
        if fresh:
            query = query.execution_options(populate_existing=True)
        row = await session.scalar(query)
        if row is None:
            raise NotFound(f"no help-desk ticket {ticket_id}")
        return row
