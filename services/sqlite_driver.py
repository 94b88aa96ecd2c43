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

Nothing in it awaits, either: SQLAlchemy's sync code over it never needs the greenlet its
asyncio layer runs such code in, and ``services.db.run_sync`` skips that greenlet when a
checkout cannot wait (issue 9, decision 0011). Inside a greenlet a statement still awaits
once, on nothing, as ``AsyncConnection.execute`` requires of a driver.

Use it through ``services.db.create_engine``, which picks it for every SQLite URL.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

from sqlalchemy import util
from sqlalchemy.connectors.asyncio import (
    AsyncAdapt_dbapi_connection,
    AsyncAdapt_dbapi_cursor,
    AsyncAdapt_dbapi_module,
)
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.util.concurrency import await_, in_greenlet

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


async def _finished() -> None:
    return None


def _awaited() -> None:
    """Inside SQLAlchemy's greenlet, await once, on nothing.

    ``AsyncConnection.execute`` refuses a statement during which the driver never awaited
    (``AwaitRequired``: its guard against a synchronous driver used by mistake). Outside a
    greenlet, where ``services.db.run_sync`` runs work on this driver, there is nothing to
    satisfy, and nothing to switch to.
    """
    if in_greenlet():
        await_(_finished())


class _Cursor(AsyncAdapt_dbapi_cursor):
    """SQLAlchemy's async cursor adapter, calling ``sqlite3`` directly: it never awaits.

    The async adapter awaits the driver for every cursor, execute and close, and each await
    is a switch out of the greenlet SQLAlchemy's asyncio layer runs sync work in, and back.
    Here nothing awaits, so this code (and all of SQLAlchemy's sync code above it) can also
    run outside a greenlet: see ``services.db.run_sync``.
    """

    __slots__ = ()
    _awaitable_cursor_close = False
    _cursor: Any

    def _make_new_cursor(self, connection: Any) -> Any:
        return connection.sqlite.cursor()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        cursor = self._cursor
        try:
            result = cursor.execute(operation, () if parameters is None else parameters)
            if cursor.description:
                self._rows = collections.deque(cursor.fetchall())
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        _awaited()
        return result

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            result = self._cursor.executemany(operation, seq_of_parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        _awaited()
        return result

    def nextset(self) -> None:
        return None

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None


class _Connection:
    """The driver connection SQLAlchemy hands out: ``sqlite3.Connection`` as ``.sqlite``."""

    __slots__ = ("sqlite",)

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.sqlite = connection


class _AdaptedConnection(AsyncAdapt_dbapi_connection):
    """SQLAlchemy's async DBAPI connection adapter over ``_Connection``, never awaiting."""

    __slots__ = ()
    _cursor_cls = _Cursor
    _ss_cursor_cls = _Cursor  # type: ignore[assignment]  # SQLite has no server-side cursors
    _connection: Any

    def commit(self) -> None:
        try:
            self._connection.sqlite.commit()
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        try:
            self._connection.sqlite.rollback()
        except Exception as error:
            self._handle_exception(error)

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
