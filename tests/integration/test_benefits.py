"""Upgrades, orders and benefits on each real database, with the demo organizations.

Contoso's record is legacy and expired (view-only), Fabrikam is a network member in Taiwan
(legacy, 45 days left, checklist not started), Northwind an Action Pack member in Hong Kong
(Partner Center, 20 days left). ``Told`` is the recording fake of ``OrderPaidListener``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from services import db
from services.benefits import (
    AlreadyHeld,
    Benefit,
    BenefitsService,
    BenefitState,
    BenefitUnavailable,
    DetailRequired,
    IncompleteApplication,
    IneligibleUpgrade,
    NotGlobalAdmin,
    Order,
    OrderClosed,
    OrderPurpose,
    OrderStatus,
    PurchaseRequired,
    UpgradeBlock,
)
from services.catalog import CatalogStore
from services.clock import FixedClock
from services.demo_data import load_demo
from services.errors import NotFound, RenewalNotOpen, ViewOnlyRecord
from services.membership import Actor, Goal, MembershipService, Step, StepState, Tier
from services.reminders import Member, SqlReminders
from services.unit_of_work import UnitOfWorkFactory

MEI = Actor(id="aad-mei", name="Mei Lin")
ANA = Actor(id="aad-ana", name="Ana Ruiz")


class Told:
    """Records each order the listener was told was paid."""

    def __init__(self) -> None:
        self.paid: list[tuple[Order, list[Benefit]]] = []

    async def order_paid(self, order: Order, benefits: list[Benefit]) -> None:
        self.paid.append((order, benefits))


@dataclass
class World:
    units: UnitOfWorkFactory
    clock: FixedClock
    benefits: BenefitsService
    membership: MembershipService
    told: Told

    def on(self, days: int) -> BenefitsService:
        """The service as it runs ``days`` later."""
        later = FixedClock(self.clock.now() + timedelta(days=days))
        return BenefitsService(self.units, later, CatalogStore(self.units, later))


@pytest.fixture
async def world(database_url: str, clock: FixedClock) -> AsyncIterator[World]:
    engine = db.create_engine(database_url)
    units = UnitOfWorkFactory(engine)
    await load_demo(units, clock)
    told = Told()
    yield World(
        units,
        clock,
        BenefitsService(units, clock, CatalogStore(units, clock), listener=told),
        MembershipService(units, clock),
        told,
    )
    await engine.dispose()


async def _paid(world: World, organization: str, offer: str, buyer: Actor = ANA) -> list[Benefit]:
    order = await world.benefits.create_order(
        organization, buyer, global_admin=True, offer_id=offer
    )
    return (await world.benefits.confirm_payment(order.id, "bank-1")).benefits


async def _in_good_standing(world: World, organization: str) -> None:
    for step in Step:
        await world.membership.mark_step(organization, step, StepState.DONE, MEI)


async def test_an_order_is_priced_in_the_organizations_currency_and_waits_for_payment(world):
    await _in_good_standing(world, "fabrikam")
    hong_kong = await world.benefits.create_order(
        "northwind", ANA, global_admin=True, offer_id="support_incident_pack"
    )
    taiwan = await world.benefits.create_order(
        "fabrikam", MEI, global_admin=True, offer_id="action_pack"
    )

    assert (hong_kong.amount, hong_kong.currency) == (Decimal("19500.00"), "HKD")
    assert (taiwan.amount, taiwan.currency) == (Decimal("16900.00"), "TWD")
    assert hong_kong.status is OrderStatus.AWAITING_PAYMENT
    assert hong_kong.id.startswith("ORD-") and len(hong_kong.id) == 10
    assert await world.benefits.orders("northwind", open_only=True) == [hong_kong]
    assert await world.benefits.benefits("northwind") == []


async def test_a_second_buy_click_returns_the_open_order_instead_of_a_second_one(world):
    first = await world.benefits.create_order("northwind", ANA, global_admin=True,
                                              offer_id="support_incident_pack")  # fmt: skip
    again = await world.benefits.create_order("northwind", ANA, global_admin=True,
                                              offer_id="support_incident_pack")  # fmt: skip

    assert again.id == first.id
    assert len(await world.benefits.orders("northwind")) == 1


async def test_only_a_global_administrator_may_buy_and_is_told_who_can(world):
    await SqlReminders(world.units, world.clock).record_member(
        Member(organization_id="northwind", user_id=ANA.id, display_name=ANA.name,
               global_admin=True)
    )  # fmt: skip

    with pytest.raises(NotGlobalAdmin) as raised:
        await world.benefits.create_order(
            "northwind", Actor(id="aad-bo", name="Bo"), global_admin=False, offer_id="action_pack"
        )

    assert raised.value.admins == ["Ana Ruiz"]
    assert await world.benefits.who_can_buy("northwind") == ["Ana Ruiz"]
    assert await world.benefits.orders("northwind") == []


async def test_an_expired_legacy_record_cannot_buy_until_its_account_exists(world):
    with pytest.raises(ViewOnlyRecord):
        await world.benefits.create_order("contoso", MEI, global_admin=True,
                                          offer_id="action_pack")  # fmt: skip


async def test_a_payment_confirmed_twice_provisions_once_and_tells_the_buyer_once(world):
    order = await world.benefits.create_order("northwind", ANA, global_admin=True,
                                              offer_id="support_incident_pack")  # fmt: skip

    first = await world.benefits.confirm_payment(order.id.lower(), "HSBC-7731")
    again = await world.benefits.confirm_payment(order.id, "HSBC-7731-retry")

    assert first.newly_paid and not again.newly_paid
    assert again.order.status is OrderStatus.PAID
    assert again.order.payment_reference == "HSBC-7731"
    assert [(b.spec.id, b.quantity) for b in first.benefits] == [("product_support_incidents", 5)]
    assert again.benefits == first.benefits
    assert len(await world.benefits.benefits("northwind")) == 1
    assert [(paid.id, [b.id for b in benefits]) for paid, benefits in world.told.paid] == [
        (order.id, [first.benefits[0].id])
    ]


async def test_two_confirmations_at_once_provision_once(world):
    order = await world.benefits.create_order("northwind", ANA, global_admin=True,
                                              offer_id="advisory_hours_pack")  # fmt: skip

    payments = await asyncio.gather(
        world.benefits.confirm_payment(order.id, "webhook"),
        world.benefits.confirm_payment(order.id, "operator"),
    )

    assert sorted(payment.newly_paid for payment in payments) == [False, True]
    assert len(await world.benefits.benefits("northwind")) == 1


async def test_an_unknown_or_cancelled_order_cannot_be_paid(world):
    order = await world.benefits.create_order("northwind", ANA, global_admin=True,
                                              offer_id="support_incident_pack")  # fmt: skip
    await world.benefits.cancel_order(order.id, ANA)

    with pytest.raises(OrderClosed):
        await world.benefits.confirm_payment(order.id, "late")
    with pytest.raises(NotFound):
        await world.benefits.confirm_payment("ORD-NOPE22", "x")
    assert await world.benefits.benefits("northwind") == []


async def test_buying_the_action_pack_makes_a_network_member_an_action_pack_member(world):
    await _in_good_standing(world, "fabrikam")
    benefits = await _paid(world, "fabrikam", "action_pack", MEI)

    status = await world.membership.status("fabrikam")
    assert status.membership is not None and status.membership.tier is Tier.ACTION_PACK
    assert {benefit.spec.id for benefit in benefits} >= {"m365_business_premium", "azure_credit"}


async def test_benefits_end_with_the_membership_term_and_expire_after_it(world):
    benefits = await _paid(world, "northwind", "support_incident_pack")
    expiry = world.clock.today() + timedelta(days=20)  # Northwind's membership

    assert [(b.term_end, b.state) for b in benefits] == [(expiry, BenefitState.EXPIRING)]
    later = world.on(21)
    assert [b.state for b in await later.benefits("northwind")] == [BenefitState.EXPIRED]
    with pytest.raises(BenefitUnavailable) as raised:
        await later.activate("northwind", benefits[0].id, ANA, None)
    assert raised.value.state is BenefitState.EXPIRED


async def test_a_double_click_activates_a_benefit_once_recording_who_and_when(world):
    await world.membership.renew("northwind", ANA)  # a year ahead: not expiring
    (benefit,) = await _paid(world, "northwind", "advisory_hours_pack")
    assert benefit.state is BenefitState.AVAILABLE

    clicks = await asyncio.gather(
        world.benefits.activate("northwind", benefit.id, ANA, None),
        world.benefits.activate("northwind", benefit.id, MEI, None),
    )

    assert sorted(click.already_active for click in clicks) == [False, True]
    (shown,) = await world.benefits.benefits("northwind")
    first = next(click for click in clicks if not click.already_active).benefit
    assert shown.state is BenefitState.ACTIVE
    assert (shown.activated_by, shown.activated_at) == (first.activated_by, world.clock.now())
    again = await world.benefits.activate("northwind", benefit.id, MEI, None)
    assert again.already_active and again.benefit.activated_by == first.activated_by


async def test_a_benefit_that_needs_a_detail_asks_for_it_and_keeps_it(world):
    await _in_good_standing(world, "fabrikam")
    benefits = {b.spec.id: b for b in await _paid(world, "fabrikam", "action_pack", MEI)}
    credits, seats = benefits["azure_credit"], benefits["m365_business_premium"]

    with pytest.raises(DetailRequired) as raised:
        await world.benefits.activate("fabrikam", credits.id, MEI, "  ")
    assert raised.value.needs.value == "tenant"
    with pytest.raises(DetailRequired):
        await world.benefits.activate("fabrikam", seats.id, MEI, "6")  # five seats bought
    activated = await world.benefits.activate("fabrikam", seats.id, MEI, " 3 ")

    assert activated.benefit.detail == "3" and activated.benefit.activated_by == MEI.name
    assert [b.activated_at for b in await world.benefits.benefits("fabrikam")
            if b.id == credits.id] == [None]  # fmt: skip


async def test_a_benefit_used_up_shows_as_used(world):
    await world.membership.renew("northwind", ANA)
    (incidents,) = await _paid(world, "northwind", "support_incident_pack")
    await world.benefits.activate("northwind", incidents.id, ANA, None)

    await world.benefits.use("northwind", incidents.id, 4)
    with pytest.raises(BenefitUnavailable):
        await world.benefits.use("northwind", incidents.id, 2)  # one left
    used = await world.benefits.use("northwind", incidents.id, 1)

    assert (used.used, used.state) == (5, BenefitState.USED)


async def test_another_organizations_benefit_is_not_found(world):
    (benefit,) = await _paid(world, "northwind", "support_incident_pack")

    with pytest.raises(NotFound):
        await world.benefits.activate("fabrikam", benefit.id, MEI, None)


async def test_upgrades_need_a_network_member_in_good_standing(world):
    contoso = await world.benefits.upgrade_options("contoso")  # silver, legacy, expired
    fabrikam = await world.benefits.upgrade_options("fabrikam")  # checklist not done

    assert [(o.tier.id, o.block) for o in contoso] == [(Tier.GOLD, UpgradeBlock.SETUP_INCOMPLETE)]
    assert {o.block for o in fabrikam} == {UpgradeBlock.SETUP_INCOMPLETE}
    await _in_good_standing(world, "fabrikam")
    options = await world.benefits.upgrade_options("fabrikam")
    assert [(o.tier.id, o.eligible) for o in options] == [
        (Tier.ACTION_PACK, True), (Tier.SILVER, True), (Tier.GOLD, True),
    ]  # fmt: skip
    assert options[0].tier.purchasable_offer == "action_pack"


async def test_a_competency_becomes_an_application_in_review_not_a_grant(world):
    await _in_good_standing(world, "fabrikam")
    answers = {"certified_people": "MCID 1234567, 7654321",
               "customer_references": "Contoso Bank (Amy Wu), Tailspin, Wingtip",
               "partner_agreement": "yes"}  # fmt: skip

    with pytest.raises(IncompleteApplication) as raised:
        await world.benefits.apply_for_upgrade(
            "fabrikam", MEI, Tier.SILVER, "nowhere", {"partner_agreement": "yes"}
        )
    assert raised.value.missing == ["solution_area", "certified_people", "customer_references"]
    application = await world.benefits.apply_for_upgrade(
        "fabrikam", MEI, Tier.SILVER, "security", answers
    )

    assert (application.status, application.tier, application.created_by) == (
        "in_review", Tier.SILVER, MEI.name,
    )  # fmt: skip
    assert await world.benefits.applications("fabrikam") == [application]
    status = await world.membership.status("fabrikam")
    assert status.membership is not None and status.membership.tier is Tier.NETWORK
    options = {o.tier.id: o.block for o in await world.benefits.upgrade_options("fabrikam")}
    assert options[Tier.SILVER] is UpgradeBlock.APPLICATION_PENDING
    with pytest.raises(IneligibleUpgrade) as blocked:
        await world.benefits.apply_for_upgrade("fabrikam", MEI, Tier.SILVER, "security", answers)
    assert blocked.value.block is UpgradeBlock.APPLICATION_PENDING


async def test_the_action_pack_is_bought_not_applied_for(world):
    await _in_good_standing(world, "fabrikam")

    with pytest.raises(PurchaseRequired) as raised:
        await world.benefits.apply_for_upgrade("fabrikam", MEI, Tier.ACTION_PACK, None, {})

    assert raised.value.offer_id == "action_pack"


async def test_offers_are_priced_for_the_organizations_country(world):
    offers = await world.benefits.offers("northwind")

    # Northwind holds the Action Pack until its membership expires: it renews it, not buys it.
    assert {offer.id: (price.currency if price else None) for offer, price in offers} == {
        "support_incident_pack": "HKD", "advisory_hours_pack": "HKD",
    }  # fmt: skip


async def test_what_the_organization_holds_for_the_term_is_not_sold_again(world):
    with pytest.raises(AlreadyHeld) as held:
        await world.benefits.create_order(
            "northwind", ANA, global_admin=True, offer_id="action_pack"
        )

    assert held.value.until.isoformat() == "2026-12-14"
    assert await world.benefits.orders("northwind") == []


async def test_a_paid_subscription_renews_through_an_order_and_its_payment_extends_it(world):
    offer, price = await world.benefits.renewal_offer("northwind") or (None, None)
    order = await world.benefits.create_order(
        "northwind", ANA, global_admin=True, offer_id="action_pack", purpose=OrderPurpose.RENEWAL
    )
    before = await world.membership.status("northwind")
    await world.membership.set_goal("northwind", ANA.id, Goal.RENEW)

    paid = await world.benefits.confirm_payment(order.id, "bank-7")

    assert offer is not None and offer.id == "action_pack"
    assert (price.amount, price.currency) == (Decimal("4150.00"), "HKD")
    assert (order.purpose, order.amount) == (OrderPurpose.RENEWAL, Decimal("4150.00"))
    assert before.membership.expiry_date.isoformat() == "2026-12-14"  # not before payment
    after = await world.membership.status("northwind")
    assert after.membership.expiry_date.isoformat() == "2027-12-14"
    assert {b.term_end.isoformat() for b in paid.benefits} == {"2027-12-14"}
    assert await world.membership.goal("northwind", ANA.id) is None
    assert await world.benefits.renewal_offer("contoso") is None  # a competency renews free


async def test_a_renewal_order_waits_for_the_renewal_window(world):
    later = world.on(-30)  # 50 days before expiry: renewal opens 90 days before, so it is open
    order = await later.create_order(
        "northwind", ANA, global_admin=True, offer_id="action_pack", purpose=OrderPurpose.RENEWAL
    )
    assert order.purpose is OrderPurpose.RENEWAL
    with pytest.raises(RenewalNotOpen):
        await world.on(-100).create_order(
            "northwind", ANA, global_admin=True, offer_id="action_pack",
            purpose=OrderPurpose.RENEWAL,
        )  # fmt: skip
