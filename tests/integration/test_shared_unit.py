"""Reads that share one unit of work (``shared_unit``), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, update

from services import db
from services.clock import FixedClock
from services.demo_data import load_demo
from services.errors import NotFound
from services.membership import Actor, MembershipService
from services.reminders import SqlReminders
from services.tables import OrganizationRow
from services.unit_of_work import UnitOfWorkFactory, shared_unit

MEI = Actor(id="mei.lin", name="林美玲 Mei Lin")


@pytest.fixture
async def engine(database_url):
    engine = db.create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def services(engine):
    clock = FixedClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    await load_demo(UnitOfWorkFactory(engine), clock)
    # Two factories over one engine, as two services built apart would have.
    return MembershipService(UnitOfWorkFactory(engine), clock), SqlReminders(
        UnitOfWorkFactory(engine), clock
    )


def _count_checkouts(engine) -> list[int]:
    checkouts = [0]

    def count(*_: object) -> None:
        checkouts[0] += 1

    event.listen(engine.sync_engine, "checkout", count)
    return checkouts


async def test_reads_inside_one_block_use_one_connection_and_outside_one_each(engine, services):
    membership, reminders = services
    checkouts = _count_checkouts(engine)

    async with shared_unit():
        inside = await membership.status("northwind")
        await reminders.preference("mei.lin", "northwind")
        await membership.status("contoso")
    shared = checkouts[0]
    outside = await membership.status("northwind")
    await reminders.preference("mei.lin", "northwind")
    await membership.status("contoso")

    assert inside == outside
    assert shared == 1
    assert checkouts[0] - shared == 3
    assert engine.pool.checkedout() == 0


async def test_a_failed_read_inside_leaves_the_block_usable_and_a_commit_inside_is_kept(
    engine, services
):
    membership, reminders = services

    async with shared_unit():
        with pytest.raises(NotFound):
            await membership.status("no-such-organization")
        await reminders.stop("mei.lin", "northwind")  # a write, committed by the service
        status = await membership.status("northwind")

    assert status.organization_id == "northwind"
    assert (await reminders.preference("mei.lin", "northwind")).stopped
    assert engine.pool.checkedout() == 0


async def test_an_error_out_of_the_block_drops_what_was_not_committed(engine, services):
    membership, _ = services
    before = await membership.status("northwind")
    units = UnitOfWorkFactory(engine)

    with pytest.raises(RuntimeError):
        async with shared_unit():
            async with units() as unit:  # a write its service never committed
                await unit.session.execute(
                    update(OrganizationRow)
                    .where(OrganizationRow.id == "northwind")
                    .values(legal_name="Renamed")
                )
            assert (await membership.status("northwind")).legal_name == "Renamed"
            raise RuntimeError("the step failed")

    assert await membership.status("northwind") == before
    assert engine.pool.checkedout() == 0
