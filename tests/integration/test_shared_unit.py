"""Reads that share one unit of work (``shared_unit``), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, update

from services import db
from services.clock import FixedClock
from services.demo_data import load_demo
from services.errors import NotFound
from services.membership import Actor, MembershipService
from services.reminders import SqlReminders
from services.tables import OrganizationRow
from services.unit_of_work import ReadOnlyUnit, UnitOfWorkFactory, shared_unit
from tests.support.pool import count_checkouts

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


async def test_reads_inside_one_block_use_one_connection_and_outside_one_each(engine, services):
    membership, reminders = services
    checkouts = count_checkouts(engine)

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


async def test_a_failed_read_inside_leaves_the_block_usable(engine, services):
    membership, reminders = services

    async with shared_unit():
        with pytest.raises(NotFound):
            await membership.status("no-such-organization")
        status = await membership.status("northwind")
        preference = await reminders.preference("mei.lin", "northwind")

    assert status.organization_id == "northwind"
    assert not preference.stopped
    assert engine.pool.checkedout() == 0


async def test_a_service_that_writes_inside_is_refused_and_nothing_changes(engine, services):
    membership, reminders = services

    async with shared_unit():
        with pytest.raises(ReadOnlyUnit):
            await reminders.stop("mei.lin", "northwind")  # an upsert, then a commit
        # The block goes on reading after the refusal.
        assert (await membership.status("northwind")).organization_id == "northwind"

    assert not (await reminders.preference("mei.lin", "northwind")).stopped
    assert engine.pool.checkedout() == 0


async def test_a_statement_that_writes_inside_is_refused_before_it_runs(engine, services):
    membership, _ = services
    before = await membership.status("northwind")
    units = UnitOfWorkFactory(engine)

    async with shared_unit():
        for write in (
            update(OrganizationRow)
            .where(OrganizationRow.id == "northwind")
            .values(legal_name="Renamed"),
            delete(OrganizationRow).where(OrganizationRow.id == "northwind"),
        ):
            async with units() as unit:
                with pytest.raises(ReadOnlyUnit):
                    await unit.session.execute(write)

    assert await membership.status("northwind") == before
    # Outside the block, the same factory writes as it always did.
    async with units() as unit:
        await unit.session.execute(
            update(OrganizationRow)
            .where(OrganizationRow.id == "northwind")
            .values(legal_name="Renamed")
        )
        await unit.commit()
    assert (await membership.status("northwind")).legal_name == "Renamed"
    assert engine.pool.checkedout() == 0


@pytest.mark.parametrize("session_first", [False, True], ids=["rows-first", "session-first"])
async def test_a_service_reading_through_its_session_shares_the_blocks_one_connection(
    engine, services, session_first
):
    membership, _ = services
    units = UnitOfWorkFactory(engine)
    checkouts = count_checkouts(engine)

    async def legal_name() -> str | None:
        async with units() as unit:
            return await unit.session.scalar(
                select(OrganizationRow.legal_name).where(OrganizationRow.id == "northwind")
            )

    async with shared_unit():
        first = await legal_name() if session_first else None
        status = await membership.status("northwind")  # rows()
        name = first or await legal_name()
        again = await membership.status("northwind")

    assert checkouts[0] == 1
    assert name == status.legal_name and again == status
    assert engine.pool.checkedout() == 0
