"""``db.run_sync``: work on the inline SQLite driver skips the greenlet only when it cannot wait.

What a user would notice if the rule were wrong: a turn failing with ``MissingGreenlet``
while another turn holds SQLite's one connection, or a PostgreSQL statement failing outside a
greenlet. What the rule buys is measured in the benchmark (issue 9, decision 0011).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.util.concurrency import in_greenlet

from services import db
from services.errors import StorageConflict
from services.state_repository import SqlAlchemyStateRepository
from services.unit_of_work import UnitOfWorkFactory, rows, shared_unit
from tests.support.pool import count_checkouts

_PROBE = select(func.probe().label("probe"))


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


async def test_on_sqlite_the_reads_of_a_shared_unit_run_outside_a_greenlet(
    sqlite_url: str,
) -> None:
    engine = db.create_engine(sqlite_url)
    found: list[bool] = []

    @event.listens_for(engine.sync_engine, "connect")
    def probe(connection: Any, _record: Any) -> None:
        connection.create_function("probe", 0, lambda: found.append(in_greenlet()) or 1)

    units = UnitOfWorkFactory(engine)
    try:
        await db.ping(engine)  # the connection is opened (in a greenlet) before the block
        async with shared_unit():
            for _ in range(3):
                async with units() as unit:
                    assert [row.probe for row in await rows(unit, _PROBE, {})] == [1]
    finally:
        await engine.dispose()

    assert found == [False, False, False]


async def test_on_sqlite_state_reads_and_writes_use_the_waiting_connection_and_are_durable(
    sqlite_url: str,
) -> None:
    engine = db.create_engine(sqlite_url)
    repository = SqlAlchemyStateRepository(engine)
    try:
        first = await repository.write({"conv/1": ('{"step":1}', None)})  # opens the connection
        checkouts = count_checkouts(engine)
        second = await repository.write({"conv/1": ('{"step":2}', first["conv/1"])})
        with pytest.raises(StorageConflict):  # a stale etag is still refused
            await repository.write({"conv/1": ('{"step":3}', first["conv/1"])})
        found = await repository.read(["conv/1"])
    finally:
        await engine.dispose()

    assert checkouts[0] == 0
    assert found["conv/1"].document == '{"step":2}'
    assert found["conv/1"].etag == second["conv/1"]
    reopened = db.create_engine(sqlite_url)  # as the next process sees the file
    try:
        again = await SqlAlchemyStateRepository(reopened).read(["conv/1"])
    finally:
        await reopened.dispose()
    assert (again["conv/1"].document, again["conv/1"].etag) == ('{"step":2}', second["conv/1"])


async def test_on_sqlite_a_state_write_never_commits_a_unit_of_works_pending_write(
    sqlite_url: str,
) -> None:
    engine = db.create_engine(sqlite_url)
    repository = SqlAlchemyStateRepository(engine)
    await repository.write({"conv/1": ('{"step":1}', None)})
    try:
        async with UnitOfWorkFactory(engine)() as unit:  # a service, part-way through
            await unit.session.execute(
                text("UPDATE bot_state SET document = :half WHERE key = 'conv/1'"),
                {"half": '{"half":1}'},
            )
            writer = asyncio.create_task(repository.write({"conv/2": ('{"step":1}', None)}))
            await asyncio.sleep(0.05)
            assert not writer.done()  # it waits for the connection instead of using it
        await writer  # the unit ended without committing
        found = await repository.read(["conv/1", "conv/2"])
    finally:
        await engine.dispose()

    assert found["conv/1"].document == '{"step":1}'
    assert found["conv/2"].document == '{"step":1}'


async def test_on_sqlite_the_state_survives_the_connection_being_closed(sqlite_url: str) -> None:
    engine = db.create_engine(sqlite_url)
    repository = SqlAlchemyStateRepository(engine)
    try:
        written = await repository.write({"conv/1": ('{"step":1}', None)})
        await engine.dispose()  # closes the waiting connection
        assert db.waiting_sqlite(engine) is None
        await repository.write({"conv/1": ('{"step":2}', written["conv/1"])})
        found = await repository.read(["conv/1"])
    finally:
        await engine.dispose()

    assert found["conv/1"].document == '{"step":2}'
