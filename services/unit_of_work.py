"""An async unit of work: one session, rolled back unless committed.

``shared_unit()`` lets the reads of one step share a single unit of work: inside it, every
``UnitOfWorkFactory`` over the same engine hands out the same session, so a step that asks
four services for what one card shows opens one session and one transaction instead of four
(issue 9, decision 0011). The services do not change: each still opens its unit of work and
commits its own writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Protocol, Self

from sqlalchemy import Row
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

__all__ = [
    "SqlAlchemyUnitOfWork",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "insert_for",
    "rows",
    "shared_unit",
]


class UnitOfWork(Protocol):
    """A transaction a service owns."""

    session: AsyncSession

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None:
        """Make the work durable."""
        ...


def insert_for(session: AsyncSession) -> Any:
    """The ``insert`` of the session's database, the one with ``on_conflict_do_*`` (upserts)."""
    name = session.bind.dialect.name if session.bind else "sqlite"
    return postgresql.insert if name == "postgresql" else sqlite.insert


async def rows(
    unit: UnitOfWork, statement: Executable, parameters: Mapping[str, Any]
) -> Sequence[Row[Any]]:
    """The rows of a Core ``statement`` built once (module level, ``bindparam``s), on the unit's
    connection, past the ORM.

    For the reads a turn makes: building a ``select()`` and computing its cache key on every
    call, then the ORM's execution layer, cost about twice the statement's run (issue 9).
    """

    def run(session: Session) -> Sequence[Row[Any]]:
        return session.connection().execute(statement, parameters).all()

    return await unit.session.run_sync(run)  # one greenlet hop for the whole statement


class SqlAlchemyUnitOfWork:
    """A unit of work over one ``AsyncSession``."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Closed here, in the calling task (see ``services.db.connect`` for why).
        await self.session.rollback()  # a no-op after commit
        await self.session.close()

    async def commit(self) -> None:
        """Commit the session's work."""
        await self.session.commit()


class _SharedUnitOfWork:
    """A service's view of the shared session: ending it leaves the session open.

    A commit commits the shared transaction (everything so far, which for reads is nothing);
    an error rolls it back, as the service's own unit of work would have, and the next
    statement begins a fresh transaction.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if error is not None:
            await self.session.rollback()

    async def commit(self) -> None:
        """Commit the shared session's work."""
        await self.session.commit()


class _Sharing:
    """The sessions opened inside one ``shared_unit()`` block, one per engine."""

    def __init__(self) -> None:
        self.sessions: dict[AsyncEngine, AsyncSession] = {}


_sharing: ContextVar[_Sharing | None] = ContextVar("shared_unit", default=None)


@asynccontextmanager
async def shared_unit() -> AsyncIterator[None]:
    """Inside the block, units of work over one engine share one session (closed at the end).

    Meant for steps that read: the block holds the session's connection until it ends (on
    SQLite, the process's only one), so nothing inside may wait on anything but this
    database. Nested blocks join the outer one.
    """
    if _sharing.get() is not None:
        yield
        return
    sharing = _Sharing()
    token = _sharing.set(sharing)
    try:
        yield
    finally:
        _sharing.reset(token)
        for session in sharing.sessions.values():
            await session.rollback()  # a no-op after commit
            await session.close()


class UnitOfWorkFactory:
    """Makes a fresh unit of work per service call (the shared one inside ``shared_unit``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    def __call__(self) -> SqlAlchemyUnitOfWork | _SharedUnitOfWork:
        sharing = _sharing.get()
        if sharing is None:
            return SqlAlchemyUnitOfWork(self._sessions)
        session = sharing.sessions.get(self._engine)
        if session is None:
            session = sharing.sessions[self._engine] = self._sessions()
        return _SharedUnitOfWork(session)
