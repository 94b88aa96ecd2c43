"""Keyed state documents with optimistic concurrency, in SQL.

This is the persistence half of the bot's ``Storage`` (``bot/sql_storage.py`` is the
botbuilder half). A document is opaque text; each write gives it a fresh ETag. What a write
expects of the stored row is said by the ETag it carries:

=================  ======================================================================
expected ETag      the write succeeds when
=================  ======================================================================
``"*"``            always (an unconditional upsert)
``None``           the key does not exist yet (two racing creators: the second conflicts)
any other value    the stored ETag equals it, or the key does not exist yet
=================  ======================================================================

Otherwise the whole batch is rolled back and ``StorageConflict`` is raised: a racing turn
never silently overwrites another's update.

Every turn reads and writes here, so the statements skip SQLAlchemy's execution layer: the
connection comes from the engine's pool (on SQLite the process's single connection, decision
0002) and the SQL goes straight to the driver, ``sqlite3`` or asyncpg (whose statement cache
prepares each statement once per connection), in one ``db.run_sync`` call. A read cost 109 µs
through SQLAlchemy Core and 23 µs so (decision 0011).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_

from services import db
from services.errors import StorageConflict
from services.tables import BotStateRow

__all__ = ["ANY_ETAG", "SqlAlchemyStateRepository", "StateRepository", "StoredDocument"]

ANY_ETAG = "*"

_table = cast(Table, BotStateRow.__table__)


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A document as stored, with the ETag a later write must present."""

    document: str
    etag: str


class StateRepository(Protocol):
    """Where state documents live."""

    async def read(self, keys: Sequence[str]) -> dict[str, StoredDocument]:
        """Return the stored documents among ``keys`` (missing keys are left out)."""
        ...

    async def write(self, changes: Mapping[str, tuple[str, str | None]]) -> dict[str, str]:
        """Store ``{key: (document, expected_etag)}`` atomically; return the new ETags."""
        ...

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove ``keys`` (missing keys are fine)."""
        ...


def _new_etag() -> str:
    # Only tells one write of a document from the next, never leaves the service, and is no
    # secret: ``random`` (reseeded in a forked child) draws it without the system call that
    # ``secrets`` makes for every one, 2.5 % of a turn under load (issue 9, decision 0011).
    return f"{random.getrandbits(64):016x}"


class _Driver(Protocol):
    """The statements, in one database's SQL, on its driver's connection (``db.run_sync``)."""

    def read(self, connection: Any, keys: list[str]) -> list[tuple[str, str, str]]: ...

    def write(
        self, connection: Any, rows: list[tuple[str, str, str | None, str, datetime]]
    ) -> None: ...

    def delete(self, connection: Any, keys: list[str]) -> None: ...


# The statements, in each database's parameter style (SQLite ``?``, asyncpg ``$n``).
_COLUMNS = "INSERT INTO bot_state (key, document, etag, updated_at) VALUES ({})"
_UPSERT = (
    _COLUMNS + " ON CONFLICT (key) DO UPDATE SET document = excluded.document, "
    "etag = excluded.etag, updated_at = excluded.updated_at"
)
_CREATE = _COLUMNS + " ON CONFLICT (key) DO NOTHING"
_UPDATE = (
    "UPDATE bot_state SET document = {}, etag = {}, updated_at = {} WHERE key = {} AND etag = {}"
)


@cache
def _in(count: int) -> str:
    return ", ".join("?" * count)


class _Sqlite:
    """``sqlite3`` (``services/sqlite_driver.py``'s connection): plain calls, no awaiting."""

    UPSERT = _UPSERT.format("?, ?, ?, ?")
    CREATE = _CREATE.format("?, ?, ?, ?")
    UPDATE = _UPDATE.format("?", "?", "?", "?", "?")

    def __init__(self, stamp: Callable[[datetime], Any]) -> None:
        self._stamp = stamp  # SQLAlchemy's own text form of a DateTime, so its reads agree

    def read(self, connection: Any, keys: list[str]) -> list[tuple[str, str, str]]:
        sql = f"SELECT key, document, etag FROM bot_state WHERE key IN ({_in(len(keys))})"
        return list(connection.sqlite.execute(sql, keys).fetchall())

    def write(
        self, connection: Any, rows: list[tuple[str, str, str | None, str, datetime]]
    ) -> None:
        sqlite = connection.sqlite  # in a transaction from its first write (sqlite3's default)
        try:
            for key, document, expected, etag, now in rows:
                stamp = self._stamp(now)
                if expected == ANY_ETAG:
                    sqlite.execute(self.UPSERT, (key, document, etag, stamp))
                    continue
                if expected is not None:
                    updated = sqlite.execute(self.UPDATE, (document, etag, stamp, key, expected))
                    if updated.rowcount == 1:
                        continue
                if sqlite.execute(self.CREATE, (key, document, etag, stamp)).rowcount != 1:
                    raise StorageConflict(key)
        except BaseException:
            sqlite.rollback()
            raise
        sqlite.commit()

    def delete(self, connection: Any, keys: list[str]) -> None:
        sqlite = connection.sqlite
        sqlite.execute(f"DELETE FROM bot_state WHERE key IN ({_in(len(keys))})", keys)
        sqlite.commit()


def _count(status: str) -> int:
    """The row count in asyncpg's command status ("UPDATE 1", "INSERT 0 1")."""
    return int(status.rsplit(" ", 1)[-1])


class _Postgres:
    """asyncpg: each statement prepared once per connection (asyncpg's statement cache).

    A read, and a write of one document, are one statement each and atomic by themselves:
    no BEGIN and COMMIT round trips. Several documents are written in one transaction.
    """

    UPSERT = _UPSERT.format("$1, $2, $3, $4")
    CREATE = _CREATE.format("$1, $2, $3, $4")
    UPDATE = _UPDATE.format("$1", "$2", "$3", "$4", "$5")

    def read(self, connection: Any, keys: list[str]) -> list[tuple[str, str, str]]:
        sql = "SELECT key, document, etag FROM bot_state WHERE key = ANY($1::varchar[])"
        return [(row[0], row[1], row[2]) for row in await_(connection.fetch(sql, keys))]

    def write(
        self, connection: Any, rows: list[tuple[str, str, str | None, str, datetime]]
    ) -> None:
        if len(rows) == 1:
            self._write(connection, *rows[0])
            return
        transaction = connection.transaction()
        await_(transaction.start())
        try:
            for row in rows:
                self._write(connection, *row)
        except BaseException:
            await_(transaction.rollback())
            raise
        await_(transaction.commit())

    def _write(
        self, connection: Any, key: str, document: str, expected: str | None, etag: str,
        now: datetime,
    ) -> None:  # fmt: skip
        if expected == ANY_ETAG:
            await_(connection.execute(self.UPSERT, key, document, etag, now))
            return
        if expected is not None:
            updated = await_(connection.execute(self.UPDATE, document, etag, now, key, expected))
            if _count(updated) == 1:
                return
        if _count(await_(connection.execute(self.CREATE, key, document, etag, now))) != 1:
            raise StorageConflict(key)

    def delete(self, connection: Any, keys: list[str]) -> None:
        await_(connection.execute("DELETE FROM bot_state WHERE key = ANY($1::varchar[])", keys))


class SqlAlchemyStateRepository:
    """``StateRepository`` over the ``bot_state`` table, on SQLite or PostgreSQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        dialect = engine.dialect
        if dialect.name == "postgresql":
            self._driver: _Driver = _Postgres()
        else:
            stamp = _table.c.updated_at.type.bind_processor(dialect)
            self._driver = _Sqlite(stamp or (lambda value: value))

    async def read(self, keys: Sequence[str]) -> dict[str, StoredDocument]:
        """Return the stored documents among ``keys``."""
        if not keys:
            return {}
        found = await db.run_sync(self._engine, self._run, self._driver.read, list(keys))
        return {key: StoredDocument(document, etag) for key, document, etag in found}

    async def write(self, changes: Mapping[str, tuple[str, str | None]]) -> dict[str, str]:
        """Store the documents in one transaction, or none of them."""
        if not changes:
            return {}
        now = datetime.now(UTC)
        rows = [
            (key, document, expected, _new_etag(), now)
            for key, (document, expected) in changes.items()
        ]
        await db.run_sync(self._engine, self._run, self._driver.write, rows)
        return {key: etag for key, _, _, etag, _ in rows}

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove ``keys``."""
        if keys:
            await db.run_sync(self._engine, self._run, self._driver.delete, list(keys))

    def _run(self, statement: Callable[[Any, Any], Any], argument: Any) -> Any:
        # SQLite's connection where it waits, if it does: each statement commits or rolls
        # back before it returns, leaving it as it was (``db.waiting_sqlite``).
        waiting = db.waiting_sqlite(self._engine)
        if waiting is not None:
            return statement(waiting, argument)
        # A connection from the pool, given back before this returns (in this task: see
        # ``services.db.connect`` for why that matters).
        pooled = self._engine.sync_engine.raw_connection()
        try:
            return statement(pooled.driver_connection, argument)
        finally:
            pooled.close()
