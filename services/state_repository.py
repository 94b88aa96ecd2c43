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
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
    return secrets.token_hex(8)


class SqlAlchemyStateRepository:
    """``StateRepository`` over the ``bot_state`` table, on SQLite or PostgreSQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._insert: Any = (
            postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        )

    async def read(self, keys: Sequence[str]) -> dict[str, StoredDocument]:
        """Return the stored documents among ``keys``."""
        if not keys:
            return {}
        statement = select(_table.c.key, _table.c.document, _table.c.etag).where(
            _table.c.key.in_(list(keys))
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return {row.key: StoredDocument(row.document, row.etag) for row in rows}

    async def write(self, changes: Mapping[str, tuple[str, str | None]]) -> dict[str, str]:
        """Store the documents in one transaction, or none of them."""
        etags: dict[str, str] = {}
        if not changes:
            return etags
        now = datetime.now(UTC)
        async with self._engine.begin() as connection:
            for key, (document, expected) in changes.items():
                etag = _new_etag()
                await self._write_one(connection, key, document, expected, etag, now)
                etags[key] = etag
        return etags

    async def _write_one(
        self,
        connection: AsyncConnection,
        key: str,
        document: str,
        expected: str | None,
        etag: str,
        now: datetime,
    ) -> None:
        values = {"key": key, "document": document, "etag": etag, "updated_at": now}
        if expected == ANY_ETAG:
            upsert = self._insert(_table).values(values)
            upsert = upsert.on_conflict_do_update(
                index_elements=[_table.c.key],
                set_={"document": document, "etag": etag, "updated_at": now},
            )
            await connection.execute(upsert)
            return
        if expected is not None:
            updated = await connection.execute(
                update(_table)
                .where(_table.c.key == key, _table.c.etag == expected)
                .values(document=document, etag=etag, updated_at=now)
            )
            if updated.rowcount == 1:
                return
        inserted = await connection.execute(
            self._insert(_table)
            .values(values)
            .on_conflict_do_nothing(index_elements=[_table.c.key])
        )
        if inserted.rowcount != 1:
            raise StorageConflict(key)

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove ``keys``."""
        if not keys:
            return
        async with self._engine.begin() as connection:
            await connection.execute(delete(_table).where(_table.c.key.in_(list(keys))))
