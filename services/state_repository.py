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

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
    return secrets.token_hex(8)


class SqlAlchemyStateRepository:
    """``StateRepository`` over the ``bot_state`` table, on SQLite or PostgreSQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # On PostgreSQL, BEGIN and COMMIT/ROLLBACK are round trips of their own, and one
        # statement is atomic by itself: a read, or a write of one document, runs without them
        # (issue 9). On SQLite they are calls inside the process, cheaper than SQLAlchemy's
        # switching of the connection's isolation level on every checkout.
        self._single_statement = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else None
        )
        insert: Any = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        # Built once: SQLAlchemy memoizes a statement's cache key on the statement object, so
        # reusing these saves recomputing it on every turn.
        # Bind names may not be column names in INSERT/UPDATE: prefix them.
        row: dict[str, Any] = {
            name: bindparam(f"p_{name}") for name in ("key", "document", "etag", "updated_at")
        }
        self._select = select(_table.c.key, _table.c.document, _table.c.etag).where(
            _table.c.key.in_(bindparam("keys", expanding=True))
        )
        self._update = (
            update(_table)
            .where(_table.c.key == row["key"], _table.c.etag == bindparam("p_expected"))
            .values(document=row["document"], etag=row["etag"], updated_at=row["updated_at"])
        )
        self._create = insert(_table).values(row).on_conflict_do_nothing(index_elements=["key"])
        upsert = insert(_table).values(row)
        self._upsert = upsert.on_conflict_do_update(
            index_elements=["key"],
            set_={"document": upsert.excluded.document, "etag": upsert.excluded.etag,
                  "updated_at": upsert.excluded.updated_at},
        )  # fmt: skip

    async def read(self, keys: Sequence[str]) -> dict[str, StoredDocument]:
        """Return the stored documents among ``keys``."""
        if not keys:
            return {}
        async with db.connect(self._single_statement or self._engine) as connection:
            rows = (await connection.execute(self._select, {"keys": list(keys)})).all()
        return {row.key: StoredDocument(row.document, row.etag) for row in rows}

    async def write(self, changes: Mapping[str, tuple[str, str | None]]) -> dict[str, str]:
        """Store the documents in one transaction, or none of them."""
        etags: dict[str, str] = {}
        if not changes:
            return etags
        now = datetime.now(UTC)
        # A single document is one statement that writes (the UPDATE, or else the INSERT that
        # creates it), so it needs no transaction around it; several share one.
        transaction = (
            db.connect(self._single_statement)
            if self._single_statement is not None and len(changes) == 1
            else db.begin(self._engine)
        )
        async with transaction as connection:
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
        values = {"p_key": key, "p_document": document, "p_etag": etag, "p_updated_at": now}
        if expected == ANY_ETAG:
            await connection.execute(self._upsert, values)
            return
        if expected is not None:
            updated = await connection.execute(self._update, {**values, "p_expected": expected})
            if updated.rowcount == 1:
                return
        inserted = await connection.execute(self._create, values)
        if inserted.rowcount != 1:
            raise StorageConflict(key)

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove ``keys``."""
        if not keys:
            return
        async with db.begin(self._engine) as connection:
            await connection.execute(delete(_table).where(_table.c.key.in_(list(keys))))
