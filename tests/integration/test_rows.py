"""``unit_of_work.rows``: the turn's prebuilt reads, run on the driver, read as SQLAlchemy reads
them (values and their types), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, select, update

from services import db
from services.benefit_tables import OrderRow
from services.benefits import _ORDERS
from services.clock import FixedClock
from services.contact_verification import _CONTACT_OF
from services.demo_data import load_demo
from services.membership import _CHECKLIST, _ORGANIZATION_FOR, _ORGANIZATION_STATUS
from services.reminders import _PREFERENCE, SqlReminders
from services.tables import OrganizationRow
from services.unit_of_work import UnitOfWorkFactory, rows, shared_unit

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
async def units(database_url):
    engine = db.create_engine(database_url)
    units = UnitOfWorkFactory(engine)
    await load_demo(units, FixedClock(NOW))
    # A snoozed preference, so that a boolean and a date-time come back from the database.
    await SqlReminders(units, FixedClock(NOW)).snooze("mei.lin", "northwind")
    # An order, so that a JSON document, a missing date-time and text come back as well.
    async with units() as unit:
        unit.session.add(
            OrderRow(
                id="ORD-ROWS1", organization_id="northwind", offer_id="action-pack",
                offer={"offer": {"id": "action-pack", "names": {"en": "Action Pack"}}},
                amount="16500", currency="TWD", status="awaiting_payment",
                buyer_id="mei.lin", buyer_name="Mei Lin", created_at=NOW,
            )
        )  # fmt: skip
        await unit.commit()
    yield units
    await engine.dispose()


# A statement's own values: a LIMIT, and a bindparam with a value the caller may override.
_OTHERS = (
    select(OrganizationRow.id)
    .where(OrganizationRow.id != bindparam("skip", value="contoso"))
    .order_by(OrganizationRow.id)
    .limit(2)
)

CASES = [
    (_OTHERS, {}),
    (_OTHERS, {"skip": "fabrikam"}),
    (_ORGANIZATION_STATUS, {"organization_id": "northwind"}),
    (_CHECKLIST, {"organization_id": "northwind"}),
    (_ORGANIZATION_FOR, {"tenant_id": None, "organization_id": "contoso"}),
    (_CONTACT_OF, {"organization_id": "northwind"}),
    (_PREFERENCE, {"organization_id": "northwind", "user_id": "mei.lin"}),
    (_ORDERS, {"organization_id": "northwind"}),
]


@pytest.mark.parametrize(("statement", "parameters"), CASES)
async def test_each_turn_read_gives_what_sqlalchemy_gives_with_the_same_types(
    units, statement, parameters
):
    async with units() as unit:
        expected = (await unit.session.execute(statement, parameters)).all()
        got = await rows(unit, statement, parameters)

    assert got, "the demo data has rows for every case"
    assert [tuple(row) for row in got] == [tuple(row) for row in expected]
    assert [[type(v) for v in row] for row in got] == [[type(v) for v in row] for row in expected]
    assert [row._fields for row in got] == [tuple(row._fields) for row in expected]


async def test_a_read_sees_what_its_unit_wrote_and_did_not_commit(units):
    async with units() as unit:
        await unit.session.execute(
            update(OrganizationRow)
            .where(OrganizationRow.id == "northwind")
            .values(legal_name="Renamed")
        )
        inside = await rows(unit, _ORGANIZATION_STATUS, {"organization_id": "northwind"})
    async with shared_unit(), units() as unit:
        after = await rows(unit, _ORGANIZATION_STATUS, {"organization_id": "northwind"})

    assert inside[0].legal_name == "Renamed"
    assert after[0].legal_name != "Renamed"  # rolled back: never committed


async def test_a_read_the_driver_path_does_not_cover_is_still_answered_by_sqlalchemy(units):
    # An expanding IN list is rendered per call: rows() hands it to SQLAlchemy as it was.
    statement = (
        select(OrganizationRow.id)
        .where(OrganizationRow.id.in_(bindparam("ids", expanding=True)))
        .order_by(OrganizationRow.id)
    )
    async with units() as unit:
        got = await rows(unit, statement, {"ids": ["northwind", "contoso", "nobody"]})

    assert [row.id for row in got] == ["contoso", "northwind"]
