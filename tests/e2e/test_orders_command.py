"""``membership-bot orders confirm`` and ``catalog load`` as an operator runs them.

Each runs the installed console command in a subprocess on a migrated SQLite file with the demo
data, in a fresh working directory (no developer ``.env``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from services import db
from services.benefits import BenefitsService, Order
from services.catalog import SHIPPED_CATALOG, CatalogStore
from services.clock import SystemClock
from services.demo_data import load_demo
from services.membership import Actor
from services.unit_of_work import UnitOfWorkFactory

COMMAND = str(Path(sys.executable).parent / "membership-bot")
_OURS = ("Microsoft", "DATABASE_URL", "CATALOG_FILE", "PAYMENT_", "LOG_LEVEL")
ANA = Actor(id="aad-ana", name="Ana Ruiz")


def _run(cwd: Path, database_url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    env["DATABASE_URL"] = database_url
    return subprocess.run(
        [COMMAND, *arguments], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


async def _order(url: str) -> Order:
    """Northwind's admin orders five support incidents (the demo data loaded first)."""
    engine = db.create_engine(url)
    try:
        units, clock = UnitOfWorkFactory(engine), SystemClock()
        await load_demo(units, clock)
        service = BenefitsService(units, clock, CatalogStore(units, clock))
        return await service.create_order(
            "northwind", ANA, global_admin=True, offer_id="support_incident_pack"
        )
    finally:
        await engine.dispose()


async def _state(url: str) -> tuple[list[Order], int, str]:
    """Northwind's orders, how many benefits it holds, and the catalog version in force."""
    engine = db.create_engine(url)
    try:
        units, clock = UnitOfWorkFactory(engine), SystemClock()
        service = BenefitsService(units, clock, CatalogStore(units, clock))
        return (
            await service.orders("northwind"),
            len(await service.benefits("northwind")),
            (await service.catalog()).version,
        )
    finally:
        await engine.dispose()


async def test_an_operator_confirms_a_payment_once_and_a_repeat_changes_nothing(
    sqlite_url, tmp_path
):
    order = await _order(sqlite_url)

    first = _run(tmp_path, sqlite_url, "orders", "confirm", order.id.lower(),
                 "--reference", "HSBC-7731")  # fmt: skip
    again = _run(tmp_path, sqlite_url, "orders", "confirm", order.id)

    assert first.returncode == 0, first.stderr
    assert first.stdout == (
        f"order {order.id} paid (19500.00 HKD, support_incident_pack for northwind): "
        "1 benefits provisioned\n"
    )
    assert again.returncode == 0, again.stderr
    assert (
        again.stdout
        == f"order {order.id} was already paid (reference HSBC-7731): nothing changed\n"
    )
    orders, benefits, _ = await _state(sqlite_url)
    assert [(o.status.value, o.payment_reference) for o in orders] == [("paid", "HSBC-7731")]
    assert benefits == 1


async def test_an_unknown_order_is_refused_with_a_clear_message(sqlite_url, tmp_path):
    await _order(sqlite_url)

    run = _run(tmp_path, sqlite_url, "orders", "confirm", "ORD-NOPE22")

    assert run.returncode == 2
    assert run.stderr.strip().endswith("no order 'ORD-NOPE22'")
    orders, benefits, _ = await _state(sqlite_url)
    assert [o.status.value for o in orders] == ["awaiting_payment"] and benefits == 0


async def test_a_malformed_catalog_is_refused_naming_the_line_and_nothing_is_loaded(
    sqlite_url, tmp_path
):
    await _order(sqlite_url)
    text = SHIPPED_CATALOG.read_text(encoding="utf-8").replace(
        'version: "2026.11-shipped"', 'version: "2027.01"'
    )
    broken = tmp_path / "catalog-2027.yaml"
    broken.write_text(text.replace('amount: "2495.00"', "amount: about 2500", 1), "utf-8")
    line = text[: text.index('amount: "2495.00"')].count("\n") + 1

    refused = _run(tmp_path, sqlite_url, "catalog", "load", str(broken))

    assert refused.returncode == 2
    assert (
        f"catalog-2027.yaml, line {line}: offers[1].prices[0].amount: "
        "Input should be a valid decimal"
    ) in refused.stderr
    assert (await _state(sqlite_url))[2] == "2026.11-shipped"

    good = tmp_path / "catalog-good.yaml"
    good.write_text(text, "utf-8")
    loaded = _run(tmp_path, sqlite_url, "catalog", "load", str(good))
    shown = _run(tmp_path, sqlite_url, "catalog", "show")

    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout == "loaded catalog 2027.01: 4 tiers, 9 benefits, 3 offers\n"
    assert shown.stdout == "catalog 2027.01: 4 tiers, 9 benefits, 3 offers\n"
    assert (await _state(sqlite_url))[2] == "2027.01"
