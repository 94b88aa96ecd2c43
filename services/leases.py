"""Work rows taken with a lease, shared by the senders that run on several instances.

The email outbox and the renewal reminders each keep rows to deliver with ``status``
(``pending``, then ``sending`` while a sender holds it), ``next_attempt_at``, ``lease_id``,
``leased_until`` and ``attempts``. A sender takes the next due row, a pending one whose time has
come or one whose lease ran out (its sender died), with a guarded UPDATE, so two instances never
take the same row; on PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets them pass each other instead
of waiting. The sender then settles the row under its ``lease_id``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Row, and_, or_, select, update

from services.unit_of_work import UnitOfWork

__all__ = ["PENDING", "SENDING", "claim_next", "rowcount"]

PENDING = "pending"  # due at next_attempt_at
SENDING = "sending"  # held by a sender until leased_until

_TRIES = 3  # another sender may take the candidate between the select and the update


def rowcount(result: Any) -> int:
    """How many rows an UPDATE or INSERT changed (a guarded one: whether it won)."""
    return int(cast(CursorResult[Any], result).rowcount)


def _due(table: Any, now: datetime) -> Any:
    return or_(
        and_(table.status == PENDING, table.next_attempt_at <= now),
        and_(table.status == SENDING, table.leased_until <= now),
    )


async def claim_next(
    units: Callable[[], UnitOfWork],
    now: Callable[[], datetime],
    table: Any,
    lease: timedelta,
    *columns: Any,
) -> tuple[int, str, Row[Any]] | None:
    """Take the next due row of ``table`` for ``lease``: its id, the lease id, and its
    ``attempts`` (this one included) followed by ``columns``; None when nothing is due."""
    for _ in range(_TRIES):
        moment = now()
        async with units() as unit:
            candidate = await unit.session.scalar(
                select(table.id)
                .where(_due(table, moment))
                .order_by(table.next_attempt_at, table.id)
                .limit(1)
                .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer
            )
            if candidate is None:
                return None
            lease_id = uuid.uuid4().hex
            claimed = await unit.session.execute(
                update(table)
                .where(table.id == candidate, _due(table, moment))
                .values(
                    status=SENDING,
                    lease_id=lease_id,
                    leased_until=moment + lease,
                    attempts=table.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if rowcount(claimed) != 1:
                continue
            row = (
                await unit.session.execute(
                    select(table.attempts, *columns).where(table.id == candidate)
                )
            ).one()
            await unit.commit()
            return int(candidate), lease_id, row
    return None
