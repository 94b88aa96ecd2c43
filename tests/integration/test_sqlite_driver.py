"""The in-loop SQLite driver behaves as SQLAlchemy's async SQLite driver does, on one thread."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from services import db


@pytest.fixture
async def engine(tmp_path):
    engine = db.create_engine(f"sqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)"))
    yield engine
    await engine.dispose()


async def test_statements_run_on_the_event_loop_thread(engine):
    threads: set[int] = set()

    @event.listens_for(engine.sync_engine, "connect")
    def record_thread(connection, _record):
        connection.create_function("thread_id", 0, lambda: threads.add(threading.get_ident()))

    await engine.dispose()  # reconnect, so the function is registered
    async with engine.connect() as connection:
        await connection.execute(text("SELECT thread_id()"))
    assert threads == {threading.get_ident()}


async def test_committed_work_is_kept_and_rolled_back_work_is_not(engine):
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO item VALUES (1, 'kept')"))
    async with engine.connect() as connection:
        await connection.execute(text("INSERT INTO item VALUES (2, 'dropped')"))
        await connection.rollback()
    async with engine.connect() as connection:
        names = (await connection.execute(text("SELECT name FROM item"))).scalars().all()
    assert names == ["kept"]


async def test_a_constraint_violation_is_sqlalchemys_integrity_error(engine):
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO item VALUES (1, 'first')"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO item VALUES (1, 'again')"))


async def test_a_write_waits_for_another_process_lock_instead_of_failing(engine, tmp_path):
    other = sqlite3.connect(tmp_path / "driver.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO item VALUES (7, 'other process')")
    # The other writer commits while we wait on the lock (busy_timeout), from a timer thread.
    timer = threading.Timer(0.2, other.execute, args=("COMMIT",))
    timer.start()
    try:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO item VALUES (8, 'ours')"))
    finally:
        timer.join()
        other.close()
    async with engine.connect() as connection:
        names = (await connection.execute(text("SELECT name FROM item ORDER BY id"))).all()
    assert [n for (n,) in names] == ["other process", "ours"]
