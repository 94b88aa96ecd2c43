"""The membership catalog: the shipped file, a malformed file's clear errors, and loading it whole.

Loading goes through ``CatalogStore`` on each real database; a second store on the same
database plays another process (the service, after ``membership-bot catalog load``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from services import db
from services.catalog import (
    SHIPPED_CATALOG,
    Catalog,
    CatalogError,
    CatalogStore,
    load_catalog_file,
    parse_catalog,
)
from services.i18n import Locale
from services.membership import Tier
from services.unit_of_work import UnitOfWorkFactory

SHIPPED = SHIPPED_CATALOG.read_text(encoding="utf-8")


def _line_of(text: str, fragment: str) -> int:
    """The 1-based line of ``fragment`` in ``text``."""
    return text[: text.index(fragment)].count("\n") + 1


@pytest.fixture
async def units(database_url: str) -> AsyncIterator[UnitOfWorkFactory]:
    engine = db.create_engine(database_url)
    yield UnitOfWorkFactory(engine)
    await engine.dispose()


def test_the_shipped_catalog_has_every_tier_in_both_languages_and_prices_where_we_sell():
    catalog = load_catalog_file(SHIPPED_CATALOG)

    assert [tier.id for tier in catalog.tiers_by_rank()] == list(Tier)
    names = [tier.name for tier in catalog.tiers] + [offer.name for offer in catalog.offers]
    assert all(name.text(Locale.EN_US) and name.text(Locale.ZH_TW) for name in names)
    assert catalog.tier(Tier.ACTION_PACK).name.text(Locale.ZH_TW) == "Microsoft 行動寶盒訂閱"
    action_pack = catalog.offer("action_pack")
    prices = {country: action_pack.price_for(country) for country in ("TW", "HK", "US", "JP")}
    assert {country: (p.currency if p else None) for country, p in prices.items()} == {
        "TW": "TWD", "HK": "HKD", "US": "USD", "JP": "USD",
    }  # fmt: skip
    assert prices["TW"] is not None and prices["TW"].amount == Decimal("16900.00")
    assert catalog.tier(Tier.ACTION_PACK).purchasable_offer == "action_pack"
    assert catalog.tier(Tier.GOLD).solution_areas and catalog.tier(Tier.GOLD).requirements


def test_a_value_of_the_wrong_type_is_named_with_its_line_and_field():
    broken = SHIPPED.replace('amount: "4150.00"', "amount: lots", 1)

    with pytest.raises(CatalogError) as raised:
        parse_catalog(broken, "catalog.yaml")

    line = _line_of(broken, "amount: lots")
    assert str(raised.value) == (
        f"catalog.yaml, line {line}: offers[0].prices[2].amount: Input should be a valid decimal"
    )


def test_a_missing_translation_and_an_unknown_benefit_are_each_named_with_their_line():
    broken = SHIPPED.replace("zh-TW: 合作夥伴社群支援", "zh_TW: 合作夥伴社群支援", 1)

    with pytest.raises(CatalogError) as raised:
        parse_catalog(broken, "catalog.yaml")

    line = _line_of(broken, "zh_TW: 合作夥伴社群支援")
    assert f"catalog.yaml, line {line}: benefits[1].name.zh-TW: Field required" in (
        raised.value.problems
    )
    assert any("zh_TW: Extra inputs are not permitted" in p for p in raised.value.problems)

    unknown = SHIPPED.replace("{benefit: partner_advisory_hours, quantity: 10}",
                              "{benefit: advisory_hours, quantity: 10}")  # fmt: skip
    with pytest.raises(CatalogError) as raised:
        parse_catalog(unknown, "catalog.yaml")

    line = _line_of(unknown, "{benefit: advisory_hours")
    assert str(raised.value) == (
        f"catalog.yaml, line {line}: offers[2].grants[0].benefit: unknown benefit 'advisory_hours'"
    )


def test_a_yaml_syntax_error_is_named_with_its_line():
    broken = SHIPPED.replace("{benefit: azure_credit, quantity: 1200}",
                             "{benefit: azure_credit, quantity: 1200", 1)  # fmt: skip

    with pytest.raises(CatalogError) as raised:
        parse_catalog(broken, "mine.yaml")

    message = str(raised.value)
    assert message.startswith("mine.yaml, line ")
    assert "not valid YAML" in message
    reported = int(message.split("line ")[1].split(":")[0])
    assert abs(reported - _line_of(broken, "{benefit: azure_credit, quantity: 1200\n")) <= 1


def test_a_key_given_twice_is_an_error_not_a_silent_override():
    broken = SHIPPED.replace("    quantity: 1200\n", "    quantity: 1200\n    quantity: 12\n", 1)

    with pytest.raises(CatalogError) as raised:
        parse_catalog(broken, "catalog.yaml")

    assert "'quantity' is given twice" in str(raised.value)


async def test_without_a_loaded_catalog_the_shipped_one_is_in_force(units, clock):
    catalog = await CatalogStore(units, clock).current()

    assert catalog == load_catalog_file(SHIPPED_CATALOG)


async def test_a_loaded_catalog_replaces_the_one_in_force_for_every_process(units, clock):
    service = CatalogStore(units, clock)
    await service.current()  # cached, as a running service would have it
    mine = SHIPPED.replace('version: "2026.11-shipped"', 'version: "2027.01"').replace(
        '{country: TW, currency: TWD, amount: "16900.00"}',
        '{country: TW, currency: TWD, amount: "15900.00"}',
    )

    await CatalogStore(units, clock).load(parse_catalog(mine, "mine.yaml"), source="mine.yaml")

    current = await service.current()
    assert current.version == "2027.01"
    price = current.offer("action_pack").price_for("TW")
    assert price is not None and price.amount == Decimal("15900.00")


async def test_a_malformed_file_loads_nothing_and_the_previous_catalog_stays(
    units, clock, tmp_path
):
    store = CatalogStore(units, clock)
    good = SHIPPED.replace('version: "2026.11-shipped"', 'version: "2027.01"')
    await store.load(parse_catalog(good, "good.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.replace('version: "2027.01"', 'version: "2027.02"').replace(
        "rank: 3", "rank: third"), encoding="utf-8")  # fmt: skip

    with pytest.raises(CatalogError) as raised:
        await store.load(load_catalog_file(bad))

    assert f"bad.yaml, line {_line_of(bad.read_text(), 'rank: third')}: tiers[3].rank" in str(
        raised.value
    )
    current = await CatalogStore(units, clock).current()
    assert current.version == "2027.01"
    assert await store.loaded() == [("2027.01", "", clock.now())]


def test_a_catalog_round_trips_through_its_stored_form():
    catalog = load_catalog_file(SHIPPED_CATALOG)

    assert Catalog.model_validate(catalog.model_dump(mode="json", by_alias=True)) == catalog
