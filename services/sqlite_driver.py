"""SQLite for SQLAlchemy's async engine, with statements run on the event loop's own thread.

SQLAlchemy's stock async SQLite driver, aiosqlite, runs every call on a worker thread: each
cursor, execute, fetch, commit and close is a queue hand-off to that thread and a wake-up of
the event loop when it answers, about ten of them per statement. For the small, indexed
statements a bot turn makes (tens of microseconds each in SQLite itself), those hops cost a
hundred times the work: a status turn spent about 5 ms of CPU on them (decision 0006).

This driver gives SQLAlchemy's async layer the same interface, backed by the standard
library's ``sqlite3`` called directly. Each statement blocks the loop for as long as SQLite
takes, which is microseconds for what the service runs; the process has a single SQLite
connection anyway (``services/db.py``), so statements never ran in parallel. What it gives up:
when another process holds SQLite's write lock, a write waits for it (``busy_timeout``) with
the loop blocked instead of queued. Long scans belong in batches.

Use it through ``services.db.create_engine``, which picks it for every SQLite URL.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import util
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection, AsyncAdapt_dbapi_module
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite

__all__ = ["DRIVER", "SQLiteDialect_inline", "register"]

DRIVER = "inline"

# What SQLAlchemy's dialect reads off its DBAPI module.
_MODULE_ATTRIBUTES = (
    "DatabaseError",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "sqlite_version",
    "sqlite_version_info",
    "PARSE_COLNAMES",
    "PARSE_DECLTYPES",
    "Binary",
)


class _Cursor:
    """``sqlite3.Cursor`` behind the awaitable methods SQLAlchemy's async adapter calls."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def __aenter__(self) -> _Cursor:
        return self

    async def execute(self, operation: str, parameters: Any = ()) -> _Cursor:
        self._cursor.execute(operation, parameters)
        return self

    async def executemany(self, operation: str, parameters: Any) -> _Cursor:
        self._cursor.executemany(operation, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def nextset(self) -> None:
        return None

    async def close(self) -> None:
        self._cursor.close()


class _Connection:
    """``sqlite3.Connection`` behind awaitable transaction methods."""

    __slots__ = ("sqlite",)

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.sqlite = connection

    def cursor(self) -> _Cursor:
        return _Cursor(self.sqlite.cursor())

    async def commit(self) -> None:
        self.sqlite.commit()

    async def rollback(self) -> None:
        self.sqlite.rollback()

    async def close(self) -> None:
        self.sqlite.close()


class _AdaptedConnection(AsyncAdapt_dbapi_connection):
    """SQLAlchemy's async DBAPI connection adapter over ``_Connection``."""

    __slots__ = ()
    _connection: Any

    @property
    def isolation_level(self) -> str | None:
        level: str | None = self._connection.sqlite.isolation_level
        return level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._connection.sqlite.isolation_level = value

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._connection.sqlite.create_function(*args, **kwargs)

    def close(self) -> None:
        self._connection.sqlite.close()


class _InlineDbapi(AsyncAdapt_dbapi_module):
    """The DBAPI module SQLAlchemy's dialect sees: ``sqlite3``'s names, async connections."""

    def __init__(self) -> None:
        super().__init__(sqlite3, dbapi_module=sqlite3)
        self.sqlite = sqlite3
        self.paramstyle = "qmark"
        self.has_stop = False  # no worker thread to stop: SQLAlchemy then skips "terminate"
        for name in _MODULE_ATTRIBUTES:
            setattr(self, name, getattr(sqlite3, name))

    def connect(self, *args: Any, **kwargs: Any) -> _AdaptedConnection:
        kwargs.pop("async_creator_fn", None)
        connection: Any = _Connection(sqlite3.connect(*args, **kwargs))  # duck-typed for SQLAlchemy
        return _AdaptedConnection(self, connection)


class SQLiteDialect_inline(SQLiteDialect_aiosqlite):
    """SQLAlchemy's async SQLite dialect, minus the worker thread."""

    driver = DRIVER
    supports_statement_cache = True
    supports_server_side_cursors = False
    has_terminate = False

    @classmethod
    def import_dbapi(cls) -> Any:
        return _InlineDbapi()

    def retrieve_dbapi_version(self, dbapi: Any) -> Any:
        return util.parse_version_string(sqlite3.sqlite_version)


def register() -> None:
    """Make ``sqlite+inline://`` URLs known to SQLAlchemy (idempotent)."""
    registry.register(f"sqlite.{DRIVER}", __name__, SQLiteDialect_inline.__name__)
