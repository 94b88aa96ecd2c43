"""An async unit of work: one session, rolled back unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

__all__ = ["SqlAlchemyUnitOfWork", "UnitOfWork", "UnitOfWorkFactory"]


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
        await self.session.rollback()  # a no-op after commit
        await self.session.close()

    async def commit(self) -> None:
        """Commit the session's work."""
        await self.session.commit()


class UnitOfWorkFactory:
    """Makes a fresh unit of work per service call."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    def __call__(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self._sessions)
