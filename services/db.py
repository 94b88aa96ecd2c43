"""The database engine, the schema's migrations, and the readiness probe.

SQLite is the embedded default and PostgreSQL the production store. SQLite runs in WAL mode
behind a single pooled connection: every statement of the process goes through that one
writer, in turn, so concurrent turns queue for a few microseconds instead of failing with
"database is locked" (see docs/decisions/0002-state-storage.md). Its statements run on the
event loop's thread (``services/sqlite_driver.py``, decision 0006).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import QueuePool
from sqlalchemy.util import greenlet_spawn

from services import sqlite_driver

__all__ = [
    "alembic_config",
    "connect",
    "create_engine",
    "is_sqlite",
    "ping",
    "run_sync",
    "upgrade",
    "upgrade_async",
    "waiting_sqlite",
]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def is_sqlite(url: str) -> bool:
    """Tell whether ``url`` names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


# PostgreSQL connections kept open, by default: above the turns a busy instance has in flight
# (the benchmark's 16), so that they are not opened and closed again with every burst.
POOL_SIZE = 20
# Opened beyond the pool for a burst, and closed when given back.
POOL_OVERFLOW = 10


def create_engine(url: str, *, echo: bool = False, pool_size: int = POOL_SIZE) -> AsyncEngine:
    """Build the process's engine for ``url`` (create the SQLite file's folder if needed).

    Every SQLite URL (``sqlite://``, ``sqlite+aiosqlite://``, …) runs on the in-loop driver of
    ``services/sqlite_driver.py``, on its one connection; PostgreSQL URLs use their own driver
    (asyncpg) and keep ``pool_size`` connections open. A connection opened beyond them costs
    10-25 ms and starts with no prepared statements, and is closed as soon as it is given
    back: with fewer kept than the turns in flight, every burst paid that again (issue 9,
    decision 0011).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=POOL_OVERFLOW)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    sqlite_driver.register()
    engine = create_async_engine(
        parsed.set(drivername=f"sqlite+{sqlite_driver.DRIVER}"),
        echo=echo,
        pool_size=1,
        max_overflow=0,
        pool_timeout=60,
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    _Waiting(engine)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Another process (a migration, a second CLI command) may hold the write lock briefly.
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class _Waiting:
    """Which SQLite connection waits in the pool, told by the pool's own events: the one
    given back (``checkin``) until it is taken again, or closed, or invalidated."""

    _of: ClassVar[WeakKeyDictionary[Engine, _Waiting]] = WeakKeyDictionary()

    def __init__(self, engine: AsyncEngine) -> None:
        self.connection: Any = None  # the driver's connection (``sqlite_driver._Connection``)
        sync = engine.sync_engine
        event.listen(sync, "checkin", self._given_back)
        for taken in ("checkout", "close", "detach", "invalidate", "soft_invalidate"):
            event.listen(sync, taken, self._taken)
        _Waiting._of[sync] = self

    def _given_back(self, dbapi_connection: Any, _record: object) -> None:
        self.connection = getattr(dbapi_connection, "_connection", None)

    def _taken(self, *_: object) -> None:
        self.connection = None


def waiting_sqlite(engine: AsyncEngine) -> Any:
    """The SQLite engine's one connection (``sqlite_driver``'s, ``.sqlite`` the ``sqlite3``
    one) while it waits in the pool, else None (taken, not opened yet, or not SQLite).

    Synchronous work that leaves it as it found it (no transaction open) may use it in
    place of a checkout: the inline driver never gives up the event loop, so nothing can
    take the connection meanwhile, and a checkout and its return, with the pool's events and
    reset, cost more than a state read (issue 9, decision 0011 lever 23).
    """
    waiting = _Waiting._of.get(engine.sync_engine)
    if waiting is None or waiting.connection is None:
        return None
    pool = engine.sync_engine.pool
    return waiting.connection if isinstance(pool, QueuePool) and pool.checkedin() else None


@asynccontextmanager
async def connect(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection from ``engine``'s pool, given back in the calling task.

    Use this, not ``async with engine.connect()``: SQLAlchemy 2.1's context managers close in
    a task of their own (so that a cancellation cannot interrupt the close), which keeps the
    connection checked out for one more turn of the event loop after the work is done. Behind
    SQLite's single pooled connection, every turn's state read and write then queued behind
    the others' pending closes, and a turn in twenty waited hundreds of milliseconds for the
    connection (issue 9, decision 0011). ``SqlAlchemyUnitOfWork`` closes its session the
    same way, and the state repository gives its raw connection back before it returns. A
    close is only interrupted by a cancellation while it awaits the database, which on SQLite
    it never does.
    """
    connection = await engine.connect()
    try:
        yield connection
    finally:
        await connection.close()


async def run_sync(
    on: AsyncEngine | AsyncSession | Connection, work: Callable[..., _T], *args: Any
) -> _T:
    """Run synchronous SQLAlchemy ``work(*args)`` on ``on``'s connection, from async code.

    ``on`` is the engine ``work`` checks a connection out of, the session it works in, or a
    (sync) connection the caller holds.

    SQLAlchemy's asyncio layer runs such work in a greenlet, so that the driver's awaits can
    reach the event loop. The inline SQLite driver never awaits (``services/sqlite_driver.py``):
    the only thing there that would is a checkout waiting for the process's one connection
    (or opening it: its first-connect hooks take an async lock). So on that driver, when the
    caller already holds the connection or the pool has it waiting, ``work`` runs right
    here. A greenlet costs about 7 µs, more under load (each maps and unmaps a stack for its
    frames), and a status turn made ten (issue 9, decision 0011). Everywhere else
    (PostgreSQL, or a checkout that may wait) ``work`` runs in a greenlet.
    """
    if isinstance(on, Connection):
        engine, holding = on.engine, not on.closed
    elif isinstance(on, AsyncSession):
        engine = on.sync_session.get_bind().engine
        began = on.sync_session.get_transaction()
        holding = began is not None and began.is_active and bool(began.connections)
    else:
        engine, holding = on.sync_engine, False
    if engine.dialect.driver == sqlite_driver.DRIVER:
        pool = engine.pool
        if holding or (isinstance(pool, QueuePool) and pool.checkedin()):  # no wait possible
            return work(*args)
    return await greenlet_spawn(work, *args)


async def ping(engine: AsyncEngine) -> bool:
    """Tell whether the database answers a trivial query."""
    try:
        async with connect(engine) as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        logger.warning("database ping failed", exc_info=True)
        return False
    return True


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` that needs no alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply the schema's migrations to ``url`` (call with no event loop running)."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """Apply the migrations from async code (Alembic runs its own loop in a worker thread)."""
    await asyncio.to_thread(upgrade, url, revision)
