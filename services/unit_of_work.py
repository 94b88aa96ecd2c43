"""An async unit of work: one session, rolled back unless committed.

``shared_unit()`` lets the reads of one step share a single unit of work: inside it, every
``UnitOfWorkFactory`` over the same engine hands out units on the same connection, so a step
that asks four services for what one card shows checks out one connection instead of four,
and ``rows()`` reads on it without a session at all (issue 9, decision 0011). The services
do not change: each still opens its unit of work. The shared unit only reads: a write inside
it is refused (``ReadOnlyUnit``), which lets it run on PostgreSQL without a transaction, so
without the BEGIN and ROLLBACK round trips.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Select, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import await_

from services import db, sqlite_driver

__all__ = [
    "ReadOnlyUnit",
    "SqlAlchemyUnitOfWork",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "insert_for",
    "rows",
    "shared_unit",
]


_R = TypeVar("_R")


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
    unit: UnitOfWork, statement: Select[*tuple[Any, ...]], parameters: Mapping[str, Any]
) -> list[Any]:
    """The rows of a Core ``select`` built once (module level, ``bindparam``s), on the unit's
    connection, past SQLAlchemy's execution layer.

    For the reads a turn makes: building a ``select()`` and computing its cache key on every
    call, then the ORM's and Core's execution layers, cost about three times the statement's
    run (issue 9, decision 0011). The statement is compiled once per database; each call
    hands the driver its SQL and the parameters, converted as SQLAlchemy would convert them,
    and converts the results back the same way. Each row is a named tuple of the selected
    columns. The read sees what the unit wrote on its connection, as any statement would.
    """

    def run(connection: Connection) -> list[Any]:
        plan = _plan(statement, connection.dialect)
        if plan is None:  # a construct the plan does not cover: SQLAlchemy runs it
            return list(connection.execute(statement, parameters).all())
        return plan.run(connection.connection.driver_connection, parameters)

    if isinstance(unit, _SharedUnitOfWork):
        return await unit.shared.rows(run)
    return await _on_connection_of(unit.session, run)


async def _on_connection_of(session: AsyncSession, run: Callable[[Connection], _R]) -> _R:
    """``run`` on the session's connection (checked out if it has none yet)."""
    return await db.run_sync(session, lambda: run(session.sync_session.connection()))


@dataclass(frozen=True, slots=True)
class _Plan:
    """A ``select`` compiled for one database, with SQLAlchemy's value conversions."""

    sql: str
    postgres: bool
    binds: tuple[tuple[str, Callable[[Any], Any] | None], ...]  # in the SQL's order
    results: tuple[Callable[[Any], Any] | None, ...]  # a column's, or None: as it comes
    row: Callable[..., Any]
    literals: dict[str, Any] | None  # the statement's own values (a LIMIT's), None: none

    def run(self, driver: Any, parameters: Mapping[str, Any]) -> list[Any]:
        values = {**self.literals, **parameters} if self.literals else parameters
        arguments = [
            values[name] if bind is None else bind(values[name]) for name, bind in self.binds
        ]
        if self.postgres:
            found = await_(driver.fetch(self.sql, *arguments))  # prepared once per connection
        else:
            found = driver.sqlite.execute(self.sql, arguments).fetchall()
        if not any(self.results):
            return [self.row(*row) for row in found]
        return [self.row(*map(_convert, self.results, row)) for row in found]


def _convert(convert: Callable[[Any], Any] | None, value: Any) -> Any:
    return value if convert is None else convert(value)


# The drivers a plan knows how to call: asyncpg, and services/sqlite_driver.py's sqlite3.
_DRIVERS = {("postgresql", "asyncpg"), ("sqlite", sqlite_driver.DRIVER)}

# Per statement (weakly: a statement built per call leaves with its plan), per database.
_plans: WeakKeyDictionary[Select[*tuple[Any, ...]], dict[str, _Plan | None]] = WeakKeyDictionary()


def _plan(statement: Select[*tuple[Any, ...]], dialect: Dialect) -> _Plan | None:
    known = _plans.setdefault(statement, {})
    if dialect.name in known:
        return known[dialect.name]
    compiled = statement.compile(dialect=dialect)
    columns = compiled._result_columns
    names = [column[0] for column in columns]
    plan = None
    if (
        statement.is_select
        and (dialect.name, dialect.driver) in _DRIVERS
        and "POSTCOMPILE" not in compiled.string
        and compiled.positiontup is not None
        and all(name.isidentifier() and not name.startswith("_") for name in names)
        and len(set(names)) == len(names)
        and all(callable(bind) for bind in compiled._bind_processors.values())
        and all(bind.callable is None for bind in compiled.binds.values())  # values per call
    ):
        processors: dict[str, Any] = dict(compiled._bind_processors)
        plan = _Plan(
            sql=compiled.string,
            postgres=dialect.name == "postgresql",
            binds=tuple((name, processors.get(name)) for name in compiled.positiontup),
            results=tuple(column[3]._cached_result_processor(dialect, None) for column in columns),
            row=namedtuple("Row", names),
            literals=_literals(compiled),
        )
    known[dialect.name] = plan
    return plan


def _literals(compiled: SQLCompiler) -> dict[str, Any] | None:
    """The values a statement carries itself (a LIMIT's), what ``construct_params`` would add to
    the caller's on every call; the caller gives the others (``bindparam`` with no value)."""
    given = {compiled.bind_names[bind] for bind in compiled.binds.values() if bind.required}
    values = compiled.construct_params(_check=False) or {}
    return {name: value for name, value in values.items() if name not in given} or None


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
        await _end(self.session)

    async def commit(self) -> None:
        """Commit the session's work."""
        await db.run_sync(self.session, self.session.sync_session.commit)


class ReadOnlyUnit(RuntimeError):
    """A service tried to write inside ``shared_unit()``, which only reads."""

    def __init__(self) -> None:
        super().__init__("shared_unit() only reads; write in the service's own unit of work")


class _Shared:
    """One engine's part of a ``shared_unit()`` block: one connection, whoever asks first.

    ``rows()`` reads on a connection of its own: an ORM session, with its transaction objects
    and events, cost more than the status card's six statements together (issue 9, decision
    0011). A service that works through ``unit.session`` gets one session for the block,
    bound to that connection when ``rows()`` has it already, else checking one out itself;
    ``rows()`` then reads through the session. Either way the block uses one connection.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine  # the reading view (``_reading``)
        self._connection: Connection | None = None
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        """The block's session (made on first use, on the block's connection if it has one)."""
        if self._session is None:
            bind: AsyncEngine | AsyncConnection = self._engine
            if self._connection is not None:
                bind = AsyncConnection(self._engine, self._connection)
            self._session = AsyncSession(bind=bind, expire_on_commit=False)
        return self._session

    async def rows(self, run: Callable[[Connection], list[Any]]) -> list[Any]:
        """``run`` on the block's connection: the session's, if it has one."""
        if self._session is not None:
            return await _on_connection_of(self._session, run)
        if self._connection is None:
            self._connection = await db.run_sync(self._engine, self._engine.sync_engine.connect)
        return await db.run_sync(self._connection, run, self._connection)

    async def roll_back(self) -> None:
        """Undo what the block began, so that the next statement starts afresh."""
        if self._session is not None:
            await db.run_sync(self._session, self._session.sync_session.rollback)
        if self._connection is not None:
            await db.run_sync(self._connection, self._connection.rollback)

    async def end(self) -> None:
        """Close the session and give the connection back (in the calling task)."""
        await self.roll_back()
        if self._session is not None:
            await db.run_sync(self._session, self._session.sync_session.close)
        if self._connection is not None:
            await db.run_sync(self._connection, self._connection.close)


class _SharedUnitOfWork:
    """A service's view of the block's connection: ending it leaves the connection held.

    An error rolls back what the block began (on SQLite, its transaction; on PostgreSQL
    there is none), as the service's own unit of work would have, and the next statement
    starts afresh. Committing is refused: nothing was written.
    """

    def __init__(self, shared: _Shared) -> None:
        self.shared = shared

    @property
    def session(self) -> AsyncSession:
        """The block's session."""
        return self.shared.session

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if error is not None:
            await self.shared.roll_back()

    async def commit(self) -> None:
        """Refuse: a shared unit only reads, and a service that commits has written."""
        raise ReadOnlyUnit


_sharing: ContextVar[dict[AsyncEngine, _Shared] | None] = ContextVar("shared_unit", default=None)


@asynccontextmanager
async def shared_unit() -> AsyncIterator[None]:
    """Inside the block, units of work over one engine share one connection (given back at
    the end).

    For the reads of one step. A statement that writes (INSERT, UPDATE, DELETE) or a commit
    raises ``ReadOnlyUnit`` and changes nothing. On PostgreSQL the connection runs without a
    transaction: under READ COMMITTED each statement sees its own snapshot anyway, so the
    reads see what they would inside one, for two round trips fewer. The block holds the
    connection until it ends (on SQLite, the process's only one), so nothing inside may wait
    on anything but this database. Nested blocks join the outer one.
    """
    if _sharing.get() is not None:
        yield
        return
    shares: dict[AsyncEngine, _Shared] = {}
    token = _sharing.set(shares)
    try:
        yield
    finally:
        _sharing.reset(token)
        for shared in shares.values():
            await shared.end()


async def _end(session: AsyncSession) -> None:
    """Roll back what the session has not committed (a no-op after commit), and close it."""
    sync = session.sync_session
    await db.run_sync(session, sync.rollback)
    await db.run_sync(session, sync.close)


class UnitOfWorkFactory:
    """Makes a fresh unit of work per service call (the shared one inside ``shared_unit``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._reading = _reading(engine)

    def __call__(self) -> SqlAlchemyUnitOfWork | _SharedUnitOfWork:
        sharing = _sharing.get()
        if sharing is None:
            return SqlAlchemyUnitOfWork(self._sessions)
        shared = sharing.get(self._engine)
        if shared is None:
            shared = sharing[self._engine] = _Shared(self._reading)
        return _SharedUnitOfWork(shared)


def _reading(engine: AsyncEngine) -> AsyncEngine:
    """A view of ``engine`` (same pool) whose connections refuse to write; on PostgreSQL they
    run each statement on its own, outside a transaction."""
    if engine.dialect.name == "postgresql":
        view = engine.execution_options(isolation_level="AUTOCOMMIT")
    else:  # SQLite: the reads run one by one on the process's single connection
        view = engine.execution_options(shared_unit=True)
    event.listen(view.sync_engine, "before_cursor_execute", _refuse_writes)
    return view


def _refuse_writes(
    _connection: object,
    _cursor: object,
    _statement: str,
    _parameters: object,
    context: Any,
    _executemany: bool,
) -> None:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        raise ReadOnlyUnit
