"""The email outbox: messages written in the caller's transaction, sent in the background.

A service ``enqueue``s a rendered message in the same transaction as the change that calls
for it, so that both happen or neither does. ``OutboxSender`` claims one due row at a time
with a lease: an UPDATE guarded by the row's state (pending and due, or sending with a lease
that ran out), checked by its row count, so two senders (two bot instances) never both claim
it; on PostgreSQL the candidate is also selected ``FOR UPDATE SKIP LOCKED`` so that they pass
each other instead of queueing. Then it sends and records the outcome:

- sent: ``sent_at`` and the transport's delivery id;
- a temporary failure: tried again after an exponential back-off (``base_delay`` doubling up
  to ``max_delay``, and never sooner than the server's Retry-After), until ``max_attempts``;
- a permanent failure, or the last attempt: failed, with the reason.

A sender that stops between claim and send (a crash) leaves a lease that runs out: the row is
due again. The lease must outlast a send (the transports time out well before it does).

Once a row is settled (sent or failed) its message is emptied: a message may carry a live
link (a verification token), which the database should hold no longer than it must.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from services.clock import Clock
from services.errors import MailDeliveryError
from services.leases import claim_next, rowcount
from services.mailer import Mailer
from services.tables import EmailOutboxRow
from services.unit_of_work import UnitOfWork

__all__ = ["EmailKind", "OutboxSender", "OutboxStatus", "enqueue", "read_message"]

logger = logging.getLogger(__name__)

_ERROR_LENGTH = 500


class OutboxStatus(StrEnum):
    """Where an outbox row stands."""

    PENDING = "pending"  # due at next_attempt_at
    SENDING = "sending"  # claimed by a sender until leased_until
    SENT = "sent"
    FAILED = "failed"  # given up: last_error says why


class EmailKind(StrEnum):
    """What an email is for."""

    CONTACT_VERIFICATION = "contact_verification"
    RENEWAL_REMINDER = "renewal_reminder"


async def enqueue(
    session: AsyncSession,
    message: EmailMessage,
    *,
    kind: EmailKind,
    now: datetime,
    organization_id: str | None = None,
) -> EmailOutboxRow:
    """Add ``message`` to the outbox in the caller's transaction, due now; return its row."""
    row = EmailOutboxRow(
        kind=kind.value,
        organization_id=organization_id,
        message=message.as_bytes(policy=policy.SMTP),
        status=OutboxStatus.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    await session.flush()  # the caller may link to its id
    return row


def read_message(data: bytes) -> EmailMessage:
    """The message an outbox row holds."""
    return BytesParser(policy=policy.default).parsebytes(data)


@dataclass(frozen=True)
class _Claim:
    id: int
    lease_id: str
    attempts: int  # including this one
    message: bytes
    kind: str


class OutboxSender:
    """Send what the outbox holds, one claimed row at a time."""

    def __init__(
        self,
        units: Callable[[], UnitOfWork],
        mailer: Mailer,
        clock: Clock,
        *,
        max_attempts: int = 8,
        base_delay: timedelta = timedelta(seconds=30),
        max_delay: timedelta = timedelta(hours=2),
        lease: timedelta = timedelta(minutes=5),
        batch: int = 50,
    ) -> None:
        self._units = units
        self._mailer = mailer
        self._clock = clock
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._lease = lease
        self._batch = batch

    async def run_once(self) -> int:
        """Send the rows due now (at most ``batch``); return how many were sent."""
        sent = 0
        for _ in range(self._batch):
            claim = await self._claim()
            if claim is None:
                break
            sent += await self._deliver(claim)
        return sent

    async def run(self, stop: asyncio.Event, wake: asyncio.Event, interval: float = 30.0) -> None:
        """Send until ``stop`` is set: every ``interval`` seconds, and whenever ``wake`` is."""
        while not stop.is_set():
            wake.clear()  # a wake set during the pass makes another pass
            try:
                await self.run_once()
            except Exception:  # the database may be away for a while; keep the loop alive
                logger.exception("outbox pass failed; trying again later")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await _first_of(stop, wake)

    async def _claim(self) -> _Claim | None:
        taken = await claim_next(
            self._units, self._clock.now, EmailOutboxRow, self._lease,
            EmailOutboxRow.message, EmailOutboxRow.kind,
        )  # fmt: skip
        if taken is None:
            return None
        row_id, lease_id, row = taken
        return _Claim(row_id, lease_id, row.attempts, bytes(row.message), row.kind)

    async def _deliver(self, claim: _Claim) -> bool:
        log = {"outbox_id": claim.id, "kind": claim.kind, "attempt": claim.attempts}
        try:
            delivery_id = await self._mailer.send(read_message(claim.message))
        except MailDeliveryError as error:
            await self._failed(claim, error, log)
            return False
        except Exception as error:  # a transport bug must not leave the row claimed
            logger.exception("mail transport failed unexpectedly", extra=log)
            await self._failed(
                claim, MailDeliveryError(f"unexpected {type(error).__name__}", permanent=False), log
            )
            return False
        await self._settle(
            claim,
            status=OutboxStatus.SENT.value,
            sent_at=self._clock.now(),
            delivery_id=delivery_id[:500],
            last_error=None,
            message=b"",
        )
        logger.info("email sent", extra=log)
        return True

    async def _failed(self, claim: _Claim, error: MailDeliveryError, log: dict[str, Any]) -> None:
        reason = error.reason[:_ERROR_LENGTH]
        if error.permanent or claim.attempts >= self._max_attempts:
            if not error.permanent:
                reason = f"gave up after {claim.attempts} attempts: {reason}"[:_ERROR_LENGTH]
            await self._settle(
                claim, status=OutboxStatus.FAILED.value, last_error=reason, message=b""
            )
            logger.error("email not delivered: %s", reason, extra=log)
            return
        delay = min(self._max_delay, self._base_delay * 2 ** (claim.attempts - 1))
        if error.retry_after is not None:
            delay = max(delay, timedelta(seconds=error.retry_after))
        await self._settle(
            claim,
            status=OutboxStatus.PENDING.value,
            next_attempt_at=self._clock.now() + delay,
            last_error=reason,
        )
        logger.warning(
            "email not delivered yet, retrying in %ds: %s", delay.total_seconds(), reason, extra=log
        )

    async def _settle(self, claim: _Claim, **values: Any) -> None:
        """Record the outcome, if this sender still holds the row's lease."""
        async with self._units() as unit:
            result = await unit.session.execute(
                update(EmailOutboxRow)
                .where(EmailOutboxRow.id == claim.id, EmailOutboxRow.lease_id == claim.lease_id)
                .values(lease_id=None, leased_until=None, **values)
                .execution_options(synchronize_session=False)
            )
            await unit.commit()
        if rowcount(result) != 1:
            # The lease ran out during the send and another sender took the row.
            logger.warning("outbox lease lost while sending", extra={"outbox_id": claim.id})


async def _first_of(*events: asyncio.Event) -> None:
    """Wait until one of ``events`` is set."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
