"""``db.run_sync``: work on the inline SQLite driver skips the greenlet only when it cannot wait.

What a user would notice if the rule were wrong: a turn failing with ``MissingGreenlet``
while another turn holds SQLite's one connection, or a PostgreSQL statement failing outside a
greenlet. What the rule buys is measured in the benchmark (issue 9, decision 0011).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.util.concurrency import in_greenlet

from services import db
from services.state_repository import SqlAlchemyStateRepository
from services.tables import BotStateRow
from services.unit_of_work import UnitOfWorkFactory, rows, shared_unit

_STATE = select(BotStateRow.key, BotStateRow.etag).where(BotStateRow.key == bindparam("key"))


def _where(found: list[bool]) -> Any:
    def work(pooled_engine: Any) -> int:
        found.append(in_greenlet())
        connection = pooled_engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT 41 + 1")
            return int(cursor.fetchall()[0][0])
        finally:
            connection.close()

    return work


async def test_on_sqlite_work_runs_outside_a_greenlet_once_the_connection_waits_in_the_pool(
    sqlite_url: str,
) -> None:
    engine = db.create_engine(sqlite_url)
    found: list[bool] = []
    try:
        # A fresh engine opens its connection first, which takes an async lock: a greenlet.
        assert await db.run_sync(engine, _where(found), engine.sync_engine) == 42
        assert await db.run_sync(engine, _where(found), engine.sync_engine) == 42
    finally:
        await engine.dispose()

    assert found == [True, False]


async def test_on_sqlite_a_turn_that_finds_the_connection_taken_waits_for_it(
    sqlite_url: str,
) -> None:
    engine = db.create_engine(sqlite_url)
    repository = SqlAlchemyStateRepository(engine)
    await repository.write({"conv/1": ('{"step":1}', None)})
    order: list[str] = []
    try:
        async with db.connect(engine) as holder:  # another turn, waiting on something else
            await holder.execute(text("SELECT 1"))
            reader = asyncio.create_task(repository.read(["conv/1"]))
            await asyncio.sleep(0.05)
            order.append("released")
        found = await reader
        order.append("read")
    finally:
        await engine.dispose()

    assert order == ["released", "read"]
    assert found["conv/1"].document == '{"step":1}'


async def test_reads_inside_a_shared_unit_after_the_first_skip_the_greenlet(
    database_url: str,
) -> None:
    engine = db.create_engine(database_url)
    units = UnitOfWorkFactory(engine)
    await SqlAlchemyStateRepository(engine).write({"conv/1": ('{"step":1}', None)})
    found: list[bool] = []
    try:
        async with shared_unit():
            for _ in range(3):
                async with units() as unit:
                    assert [row.key for row in await rows(unit, _STATE, {"key": "conv/1"})] == [
                        "conv/1"
                    ]
                    found.append(await db.run_sync(unit.session, in_greenlet))
    finally:
        await engine.dispose()

    # SQLite: the session holds the connection; PostgreSQL's driver always needs the greenlet.
    assert found == ([False] * 3 if db.is_sqlite(database_url) else [True] * 3)
