"""Upgrade a membership, buy offers, and activate the benefits they bring.

**Upgrade.** A network member in good standing may go up a tier: its Partner Center account
set up first (``services.membership.SETUP_STEPS``: a legacy record moves in when the account is
made), its membership not expired (renew first). The Action Pack is bought (its tier names a
``purchasable_offer``); a competency is applied for: the user picks a solution area and
answers each requirement (attests, or gives evidence), and the application waits in review;
nothing is granted at once.

**Buy.** Only a global administrator of the organization may order, once the account is set
up (``SetupIncomplete`` otherwise) and the membership current; what the organization holds for
its term is not sold again (``AlreadyHeld``). A paid subscription (the Action Pack) renews
through an order too: a ``RENEWAL`` order, which extends the membership a year once paid.
An order is priced in the organization's country and currency when it is placed, and waits
for payment (the catalog says how to pay). The payment is confirmed by an operator
(``membership-bot orders confirm``) or by the payment provider's signed webhook; confirming is
idempotent (a guarded update: two confirmations at once provision once). Provisioning creates
the offer's benefits, which end with the membership's term (its expiry date), and raises the
membership's tier for an offer that brings one. After the commit, an optional
``OrderPaidListener`` is told (the bot tells the buyer in the chat).

**Activate.** A benefit is *available* until someone activates it (some need a detail: the
tenant, the number of seats), then *active*; *expiring* within ``EXPIRING_DAYS`` of its term's
end, *used* once its quantity is used up, *expired* after its term. Activation records who and
when, and is idempotent: a double click activates once.

Errors (all ``ServiceError``; ``NotFound``, ``ViewOnlyRecord`` and ``SetupIncomplete`` come
from ``services.errors``):

    NotGlobalAdmin          only a global administrator may buy (carries who can)
    IneligibleUpgrade       this tier cannot be reached now (carries an ``UpgradeBlock``)
    PurchaseRequired        this tier is bought, not applied for (carries the offer id)
    IncompleteApplication   a solution area or a requirement's answer is missing
    NotSoldHere             the offer has no price in the organization's country
    AlreadyHeld             the organization holds what the offer brings for the term: renew it
    OrderClosed             a cancelled order cannot be paid, a paid one cannot be cancelled
    BenefitUnavailable      the benefit expired or is used up
    DetailRequired          activation needs a detail (also a ``ValueError``)
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, Protocol, overload

from pydantic import BaseModel
from sqlalchemy import bindparam, delete, select, update

from services.benefit_tables import BenefitRow, OrderRow, UpgradeApplicationRow
from services.catalog import (
    ActivationDetail,
    BenefitSpec,
    Catalog,
    CatalogStore,
    Offer,
    Price,
    TierSpec,
)
from services.clock import Clock
from services.errors import (
    NotFound,
    RenewalNotOpen,
    ServiceError,
    SetupIncomplete,
    ViewOnlyRecord,
)
from services.leases import rowcount
from services.membership import (
    SETUP_STEPS,
    Actor,
    Goal,
    Source,
    Step,
    StepState,
    Tier,
    renewal_opens_on,
    renewed_expiry,
)
from services.tables import (
    ChecklistEntryRow,
    JourneyGoalRow,
    MembershipEventRow,
    MembershipRow,
    OrganizationMemberRow,
    OrganizationRow,
)
from services.unit_of_work import UnitOfWork, rows

__all__ = [
    "EXPIRING_DAYS",
    "Activation",
    "AlreadyHeld",
    "Benefit",
    "BenefitState",
    "BenefitUnavailable",
    "BenefitsService",
    "DetailRequired",
    "IncompleteApplication",
    "IneligibleUpgrade",
    "NotGlobalAdmin",
    "NotSoldHere",
    "Order",
    "OrderClosed",
    "OrderPaidListener",
    "OrderPurpose",
    "OrderStatus",
    "Payment",
    "PurchaseRequired",
    "UpgradeApplication",
    "UpgradeBlock",
    "UpgradeOption",
    "normalize_order_id",
]

logger = logging.getLogger(__name__)

EXPIRING_DAYS = 30
# Typable ids: no 0/O, 1/I/L to misread over the phone or in a chat.
_ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_ID_LENGTH = 6


class UpgradeBlock(StrEnum):
    """Why a tier cannot be reached now."""

    NO_MEMBERSHIP = "no_membership"
    ALREADY_AT_OR_ABOVE = "already_at_or_above"
    SETUP_INCOMPLETE = "setup_incomplete"  # the Partner Center account first (``missing``)
    EXPIRED = "expired"  # renew first: a network member upgrades
    APPLICATION_PENDING = "application_pending"


class NotGlobalAdmin(ServiceError):
    """Only a global administrator of the organization may buy; ``admins`` can."""

    def __init__(self, admins: list[str]) -> None:
        super().__init__("only a global administrator may buy for the organization")
        self.admins = admins


class IneligibleUpgrade(ServiceError):
    """The organization cannot reach the tier now, for ``block``."""

    def __init__(self, block: UpgradeBlock) -> None:
        super().__init__(block.value)
        self.block = block


class PurchaseRequired(ServiceError):
    """The tier is reached by buying ``offer_id`` (the Action Pack), not by applying."""

    def __init__(self, offer_id: str) -> None:
        super().__init__(f"buy the offer {offer_id!r} to reach this tier")
        self.offer_id = offer_id


class IncompleteApplication(ServiceError, ValueError):
    """An application lacks a solution area or answers (``missing`` names them)."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__("missing: " + ", ".join(missing))
        self.missing = missing


class AlreadyHeld(ServiceError):
    """The organization holds what the offer brings (or more) until ``until``: it is renewed,
    not bought again."""

    def __init__(self, until: date) -> None:
        super().__init__(f"already held until {until.isoformat()}")
        self.until = until


class NotSoldHere(ServiceError):
    """The offer has no price in the organization's country."""


class OrderClosed(ServiceError):
    """The order is not open for this: a cancelled one cannot be paid, nor a paid one cancelled."""

    def __init__(self, order_id: str, status: OrderStatus) -> None:
        super().__init__(f"order {order_id} is {status.value}")
        self.order_id = order_id
        self.status = status


class BenefitUnavailable(ServiceError):
    """The benefit cannot be activated or used: it is ``state`` (expired, used up)."""

    def __init__(self, state: BenefitState) -> None:
        super().__init__(f"the benefit is {state.value}")
        self.state = state


class DetailRequired(ServiceError, ValueError):
    """Activating the benefit needs a detail (``needs``), missing or not valid."""

    def __init__(self, needs: ActivationDetail, reason: str = "") -> None:
        super().__init__(reason or f"activation needs the {needs.value}")
        self.needs = needs


class UpgradeOption(BaseModel):
    """A tier above the organization's, and whether it can be reached now."""

    tier: TierSpec
    eligible: bool
    block: UpgradeBlock | None = None


class UpgradeApplication(BaseModel):
    """An application for a competency, waiting in review."""

    id: str
    organization_id: str
    tier: Tier
    solution_area: str | None
    answers: dict[str, str]
    status: Literal["in_review"]
    created_by: str
    created_at: datetime


class OrderStatus(StrEnum):
    """Where an order stands."""

    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    CANCELLED = "cancelled"


class OrderPurpose(StrEnum):
    """What an order is for."""

    PURCHASE = "purchase"
    RENEWAL = "renewal"  # a paid subscription's next term: paying it extends the membership


class Order(BaseModel):
    """An order of an offer, with the price it was placed at."""

    id: str
    organization_id: str
    offer_id: str
    purpose: OrderPurpose = OrderPurpose.PURCHASE
    offer: Offer
    amount: Decimal
    currency: str
    status: OrderStatus
    buyer_id: str
    buyer_name: str
    created_at: datetime
    paid_at: datetime | None
    payment_reference: str | None


class BenefitState(StrEnum):
    """Where a benefit stands, on a given day."""

    AVAILABLE = "available"
    ACTIVE = "active"
    EXPIRING = "expiring"  # active or available, its term ends within EXPIRING_DAYS
    USED = "used"
    EXPIRED = "expired"


class Benefit(BaseModel):
    """A benefit the organization holds, as it stands today."""

    id: int
    organization_id: str
    spec: BenefitSpec
    quantity: int
    used: int
    state: BenefitState
    term_end: date
    activated_by: str | None
    activated_at: datetime | None
    detail: str | None
    order_id: str | None

    @property
    def active(self) -> bool:
        """Someone activated it (it may be expiring, used or expired since)."""
        return self.activated_at is not None


class Activation(BaseModel):
    """What activating did: ``already_active`` when someone had done it before."""

    benefit: Benefit
    already_active: bool


class Payment(BaseModel):
    """A confirmed payment: ``newly_paid`` is False when it had been confirmed before."""

    order: Order
    newly_paid: bool
    benefits: list[Benefit]


class OrderPaidListener(Protocol):
    """Told after an order's payment is committed (once per order)."""

    async def order_paid(self, order: Order, benefits: list[Benefit]) -> None:
        """React to the payment (tell the buyer); errors are logged, the payment stands."""
        ...


@overload
def _utc(moment: datetime) -> datetime: ...
@overload
def _utc(moment: None) -> None: ...
def _utc(moment: datetime | None) -> datetime | None:
    # SQLite gives back naive datetimes; every moment stored is UTC.
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _state(row: BenefitRow, today: date) -> BenefitState:
    if row.term_end < today:
        return BenefitState.EXPIRED
    if row.used >= row.quantity:
        return BenefitState.USED
    if (row.term_end - today).days <= EXPIRING_DAYS:
        return BenefitState.EXPIRING
    return BenefitState.ACTIVE if row.activated_at is not None else BenefitState.AVAILABLE


def _benefit(row: BenefitRow, today: date) -> Benefit:
    return Benefit(
        id=row.id,
        organization_id=row.organization_id,
        spec=BenefitSpec.model_validate(row.spec),
        quantity=row.quantity,
        used=row.used,
        state=_state(row, today),
        term_end=row.term_end,
        activated_by=row.activated_by,
        activated_at=_utc(row.activated_at),
        detail=row.detail,
        order_id=row.order_id,
    )


# An organization's orders, newest first, built once and read past the ORM with ``rows()``
# (the status card reads them on every turn; issue 9, decision 0011).
_ORDERS = (
    select(*OrderRow.__table__.columns)
    .where(OrderRow.organization_id == bindparam("organization_id"))
    .order_by(OrderRow.created_at.desc())
)
_OPEN_ORDERS = _ORDERS.where(OrderRow.status == OrderStatus.AWAITING_PAYMENT.value)


def _order(row: Any) -> Order:
    """The order of an ORM row or of a ``rows()`` tuple (the same names)."""
    return Order(
        id=row.id,
        organization_id=row.organization_id,
        offer_id=row.offer_id,
        purpose=OrderPurpose(row.purpose),
        offer=Offer.model_validate(row.offer["offer"]),
        amount=Decimal(row.amount),
        currency=row.currency,
        status=OrderStatus(row.status),
        buyer_id=row.buyer_id,
        buyer_name=row.buyer_name,
        created_at=_utc(row.created_at),
        paid_at=_utc(row.paid_at),
        payment_reference=row.payment_reference,
    )


def _application(row: UpgradeApplicationRow) -> UpgradeApplication:
    return UpgradeApplication(
        id=row.id,
        organization_id=row.organization_id,
        tier=Tier(row.tier),
        solution_area=row.solution_area,
        answers=dict(row.answers),
        status="in_review",
        created_by=row.created_by_name,
        created_at=_utc(row.created_at),
    )


def _new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


def normalize_order_id(raw: str) -> str:
    """An order id as typed (any case, spaces) as stored: ``ord-7k3q9p`` → ``ORD-7K3Q9P``."""
    return raw.strip().upper()


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


class BenefitsService:
    """Upgrades, orders and benefits of organizations; each call one transaction."""

    def __init__(
        self,
        units: Callable[[], UnitOfWork],
        clock: Clock,
        catalogs: CatalogStore,
        *,
        listener: OrderPaidListener | None = None,
    ) -> None:
        self._units = units
        self._clock = clock
        self._catalogs = catalogs
        self._listener = listener

    async def catalog(self) -> Catalog:
        """The catalog in force."""
        return await self._catalogs.current()

    # Upgrade

    async def upgrade_options(self, organization_id: str) -> list[UpgradeOption]:
        """Each tier above the organization's, and whether (or why not) it can be reached."""
        catalog = await self.catalog()
        async with self._units() as unit:
            membership = await self._membership(unit, organization_id)
            current = catalog.tier(membership.tier).rank if membership is not None else 0
            options = []
            for tier in catalog.tiers_by_rank():
                if tier.rank <= current:
                    continue
                block = await self._block(unit, organization_id, membership, catalog, tier)
                options.append(UpgradeOption(tier=tier, eligible=block is None, block=block))
            return options

    async def apply_for_upgrade(
        self,
        organization_id: str,
        actor: Actor,
        tier: Tier,
        solution_area: str | None,
        answers: dict[str, str],
    ) -> UpgradeApplication:
        """Submit a competency application for review (the Action Pack is bought instead)."""
        catalog = await self.catalog()
        spec = catalog.tier(tier)
        if spec.purchasable_offer is not None:
            raise PurchaseRequired(spec.purchasable_offer)
        areas = {area.id for area in spec.solution_areas}
        missing = [] if not areas or solution_area in areas else ["solution_area"]
        answers = {key: value.strip() for key, value in answers.items()}
        missing += [need.id for need in spec.requirements if not answers.get(need.id)]
        if missing:
            raise IncompleteApplication(missing)
        async with self._units() as unit:
            membership = await self._membership(unit, organization_id)
            block = await self._block(unit, organization_id, membership, catalog, spec)
            if block is not None:
                raise IneligibleUpgrade(block)
            row = UpgradeApplicationRow(
                id=_new_id("APP-"),
                organization_id=organization_id,
                tier=tier.value,
                solution_area=solution_area if areas else None,
                answers={need.id: answers[need.id] for need in spec.requirements},
                status="in_review",
                created_by_id=actor.id,
                created_by_name=actor.name,
                created_at=self._clock.now(),
            )
            unit.session.add(row)
            applied = {"application": row.id, "tier": tier.value, "area": solution_area}
            self._event(unit, organization_id, "upgrade_applied", actor.name, applied)
            await unit.commit()
            return _application(row)

    async def applications(self, organization_id: str) -> list[UpgradeApplication]:
        """The organization's applications, newest first."""
        async with self._units() as unit:
            rows = await unit.session.scalars(
                select(UpgradeApplicationRow)
                .where(UpgradeApplicationRow.organization_id == organization_id)
                .order_by(UpgradeApplicationRow.created_at.desc())
            )
            return [_application(row) for row in rows]

    # Buy

    async def offers(self, organization_id: str) -> list[tuple[Offer, Price | None]]:
        """Every offer the organization does not hold already, priced for its country (None:
        not sold there)."""
        catalog = await self.catalog()
        async with self._units() as unit:
            country = (await self._organization(unit, organization_id)).country or "*"
            membership = await self._membership(unit, organization_id)
            return [
                (offer, offer.price_for(country))
                for offer in catalog.offers
                if self._held_until(catalog, membership, offer) is None
            ]

    async def renewal_offer(self, organization_id: str) -> tuple[Offer, Price] | None:
        """What renewing costs when the membership is a paid subscription (the Action Pack):
        its offer and the organization's price; None when renewing is free."""
        catalog = await self.catalog()
        async with self._units() as unit:
            membership = await self._membership(unit, organization_id)
            if membership is None:
                return None
            offer_id = catalog.tier(membership.tier).purchasable_offer
            if offer_id is None:
                return None
            country = (await self._organization(unit, organization_id)).country or "*"
        offer = catalog.offer(offer_id)
        price = offer.price_for(country)
        if price is None:
            raise NotSoldHere(f"{offer_id!r} is not sold in {country!r}")
        return offer, price

    async def who_can_buy(self, organization_id: str) -> list[str]:
        """The display names of the organization's global administrators the bot has met."""
        async with self._units() as unit:
            return await self._admins(unit, organization_id)

    async def create_order(
        self,
        organization_id: str,
        actor: Actor,
        *,
        global_admin: bool,
        offer_id: str,
        purpose: OrderPurpose = OrderPurpose.PURCHASE,
    ) -> Order:
        """Place an order of ``offer_id`` at the organization's price; it waits for payment.

        An open order of the same offer by the organization is returned instead of a second one
        (a repeated "buy" click orders once). What the organization holds already for the term
        is not sold again (``AlreadyHeld``); a paid subscription's next term is a ``RENEWAL``
        order, placed while renewal is open (``RenewalNotOpen`` before).
        """
        catalog = await self.catalog()
        async with self._units() as unit:
            organization = await self._organization(unit, organization_id)
            if not global_admin:
                raise NotGlobalAdmin(await self._admins(unit, organization_id))
            membership = await self._membership(unit, organization_id)
            today = self._clock.today()
            if membership is None:
                raise IneligibleUpgrade(UpgradeBlock.NO_MEMBERSHIP)
            if membership.expiry_date < today and membership.source == Source.LEGACY:
                raise ViewOnlyRecord(organization_id)
            if missing := await self._setup_missing(unit, organization_id):
                raise SetupIncomplete([step.value for step in missing])
            offer = catalog.offer(offer_id)
            if purpose is OrderPurpose.RENEWAL:
                if catalog.tier(membership.tier).purchasable_offer != offer_id:
                    raise NotFound(f"{offer_id!r} does not renew the {membership.tier} tier")
                opens = renewal_opens_on(membership.expiry_date)
                if today < opens:
                    raise RenewalNotOpen(opens)
            elif membership.expiry_date < today:
                raise IneligibleUpgrade(UpgradeBlock.EXPIRED)
            elif (until := self._held_until(catalog, membership, offer)) is not None:
                raise AlreadyHeld(until)
            price = offer.price_for(organization.country or "*")
            if price is None:
                raise NotSoldHere(f"{offer_id!r} is not sold in {organization.country!r}")
            existing = await unit.session.scalar(
                select(OrderRow).where(
                    OrderRow.organization_id == organization_id,
                    OrderRow.offer_id == offer_id,
                    OrderRow.purpose == purpose.value,
                    OrderRow.status == OrderStatus.AWAITING_PAYMENT.value,
                )
            )
            if existing is not None:
                return _order(existing)
            order_id = _new_id("ORD-")
            while await unit.session.get(OrderRow, order_id) is not None:
                order_id = _new_id("ORD-")
            specs = [catalog.benefit(grant.benefit) for grant in offer.grants]
            row = OrderRow(
                id=order_id,
                organization_id=organization_id,
                offer_id=offer_id,
                purpose=purpose.value,
                offer={
                    "offer": offer.model_dump(mode="json", by_alias=True),
                    "benefits": [spec.model_dump(mode="json", by_alias=True) for spec in specs],
                },
                amount=str(price.amount),
                currency=price.currency,
                status=OrderStatus.AWAITING_PAYMENT.value,
                buyer_id=actor.id,
                buyer_name=actor.name,
                created_at=self._clock.now(),
            )
            unit.session.add(row)
            self._event(unit, organization_id, "order_placed", actor.name,
                        {"order": order_id, "offer": offer_id, "purpose": purpose.value,
                         "amount": str(price.amount), "currency": price.currency})  # fmt: skip
            await unit.commit()
            return _order(row)

    async def cancel_order(self, order_id: str, actor: Actor) -> Order:
        """Cancel an order still waiting for payment (cancelling twice is harmless)."""
        order_id = normalize_order_id(order_id)
        async with self._units() as unit:
            changed = await self._guarded(
                unit,
                update(OrderRow)
                .where(OrderRow.id == order_id,
                       OrderRow.status == OrderStatus.AWAITING_PAYMENT.value)
                .values(status=OrderStatus.CANCELLED.value, cancelled_at=self._clock.now()),
            )  # fmt: skip
            row = await self._order_row(unit, order_id)
            if not changed and row.status == OrderStatus.PAID.value:
                raise OrderClosed(order_id, OrderStatus.PAID)
            if changed:
                self._event(unit, row.organization_id, "order_cancelled", actor.name,
                            {"order": order_id})  # fmt: skip
            await unit.commit()
            return _order(row)

    async def confirm_payment(self, order_id: str, reference: str) -> Payment:
        """Mark the order paid and provision its benefits, once; a repeat changes nothing."""
        order_id = normalize_order_id(order_id)
        today, now = self._clock.today(), self._clock.now()
        catalog = await self.catalog()  # before the transaction: it may read the database too
        async with self._units() as unit:
            # The guarded update decides who provisions: one confirmation of many wins.
            newly_paid = await self._guarded(
                unit,
                update(OrderRow)
                .where(OrderRow.id == order_id,
                       OrderRow.status == OrderStatus.AWAITING_PAYMENT.value)
                .values(status=OrderStatus.PAID.value, paid_at=now,
                        payment_reference=reference[:200]),
            )  # fmt: skip
            row = await self._order_row(unit, order_id)
            if not newly_paid and row.status == OrderStatus.CANCELLED.value:
                raise OrderClosed(order_id, OrderStatus.CANCELLED)
            if newly_paid:
                await self._provision(unit, row, reference, catalog)
                await unit.commit()
            rows = await unit.session.scalars(
                select(BenefitRow).where(BenefitRow.order_id == order_id).order_by(BenefitRow.id)
            )
            payment = Payment(
                order=_order(row),
                newly_paid=newly_paid,
                benefits=[_benefit(benefit, today) for benefit in rows],
            )
        if newly_paid and self._listener is not None:
            try:
                await self._listener.order_paid(payment.order, payment.benefits)
            except Exception:  # the payment is committed whatever the listener does
                logger.exception("the order-paid listener failed for order %s", order_id)
        return payment

    async def orders(self, organization_id: str, *, open_only: bool = False) -> list[Order]:
        """The organization's orders, newest first (only those awaiting payment, if asked)."""
        statement = _OPEN_ORDERS if open_only else _ORDERS
        async with self._units() as unit:
            found = await rows(unit, statement, {"organization_id": organization_id})
            return [_order(row) for row in found]

    async def order(self, order_id: str) -> Order:
        """One order, by its id (typed in any case)."""
        async with self._units() as unit:
            return _order(await self._order_row(unit, normalize_order_id(order_id)))

    # Activate and manage

    async def benefits(self, organization_id: str) -> list[Benefit]:
        """The organization's benefits as they stand today, soonest ending first."""
        today = self._clock.today()
        async with self._units() as unit:
            rows = await unit.session.scalars(
                select(BenefitRow)
                .where(BenefitRow.organization_id == organization_id)
                .order_by(BenefitRow.term_end, BenefitRow.id)
            )
            return [_benefit(row, today) for row in rows]

    async def activate(
        self, organization_id: str, benefit_id: int, actor: Actor, detail: str | None
    ) -> Activation:
        """Activate a benefit, recording who and when; activating it again changes nothing."""
        today = self._clock.today()
        async with self._units() as unit:
            row = await self._benefit_row(unit, organization_id, benefit_id)
            if row.activated_at is not None:
                return Activation(benefit=_benefit(row, today), already_active=True)
            state = _state(row, today)
            if state in (BenefitState.EXPIRED, BenefitState.USED):
                raise BenefitUnavailable(state)
            spec = BenefitSpec.model_validate(row.spec)
            detail = _checked_detail(spec.needs, detail, row.quantity)
            # Guarded: of two activations at once (a double click), one records itself.
            activated = await self._guarded(
                unit,
                update(BenefitRow)
                .where(BenefitRow.id == benefit_id, BenefitRow.activated_at.is_(None))
                .values(activated_by=actor.name, activated_at=self._clock.now(), detail=detail),
            )
            if activated:
                what = {"benefit": row.benefit_id, "id": benefit_id, "detail": detail}
                self._event(unit, organization_id, "benefit_activated", actor.name, what)
                await unit.commit()
            await unit.session.refresh(row)
            return Activation(benefit=_benefit(row, today), already_active=not activated)

    async def use(self, organization_id: str, benefit_id: int, amount: int) -> Benefit:
        """Count ``amount`` of an active benefit as used (an incident opened, hours spent)."""
        if amount < 1:
            raise ValueError("use at least one")
        today = self._clock.today()
        async with self._units() as unit:
            row = await self._benefit_row(unit, organization_id, benefit_id)
            state = _state(row, today)
            if state is BenefitState.EXPIRED or row.activated_at is None:
                raise BenefitUnavailable(state)
            used = await self._guarded(
                unit,
                update(BenefitRow)
                .where(BenefitRow.id == benefit_id,
                       BenefitRow.used + amount <= BenefitRow.quantity)
                .values(used=BenefitRow.used + amount),
            )  # fmt: skip
            if not used:
                raise BenefitUnavailable(BenefitState.USED)
            await unit.commit()
            await unit.session.refresh(row)
            return _benefit(row, today)

    # Inside a transaction

    async def _provision(
        self, unit: UnitOfWork, order: OrderRow, reference: str, catalog: Catalog
    ) -> None:
        offer = Offer.model_validate(order.offer["offer"])
        specs = {spec["id"]: spec for spec in order.offer["benefits"]}
        membership = await unit.session.get(MembershipRow, order.organization_id)
        today, now = self._clock.today(), self._clock.now()
        by = f"payment {reference}"[:200]
        if membership is not None and order.purpose == OrderPurpose.RENEWAL.value:
            previous = membership.expiry_date
            membership.expiry_date = renewed_expiry(previous, today)
            renewal = {"from": previous.isoformat(), "to": membership.expiry_date.isoformat(),
                       "order": order.id}  # fmt: skip
            self._event(unit, order.organization_id, "renewed", by, renewal)
            await unit.session.execute(
                delete(JourneyGoalRow).where(
                    JourneyGoalRow.organization_id == order.organization_id,
                    JourneyGoalRow.goal == Goal.RENEW.value,
                )
            )
        # Benefits end with the membership's term; without one, with the offer's own term.
        term_end = (
            membership.expiry_date
            if membership is not None and membership.expiry_date >= today
            else _add_months(today, offer.term_months)
        )
        for grant in offer.grants:
            unit.session.add(
                BenefitRow(
                    organization_id=order.organization_id, benefit_id=grant.benefit,
                    spec=specs[grant.benefit], quantity=grant.quantity, used=0,
                    term_end=term_end, order_id=order.id, created_at=now,
                )
            )  # fmt: skip
        self._event(unit, order.organization_id, "order_paid", by,
                    {"order": order.id, "reference": reference})  # fmt: skip
        if membership is not None and offer.tier is not None:
            if catalog.tier(offer.tier).rank > catalog.tier(membership.tier).rank:
                change = {"from": membership.tier, "to": offer.tier.value, "order": order.id}
                self._event(unit, order.organization_id, "tier_changed", by, change)
                membership.tier = offer.tier.value
        await unit.session.flush()

    async def _block(
        self,
        unit: UnitOfWork,
        organization_id: str,
        membership: MembershipRow | None,
        catalog: Catalog,
        tier: TierSpec,
    ) -> UpgradeBlock | None:
        if membership is None:
            return UpgradeBlock.NO_MEMBERSHIP
        if catalog.tier(membership.tier).rank >= tier.rank:
            return UpgradeBlock.ALREADY_AT_OR_ABOVE
        if await self._setup_missing(unit, organization_id):
            return UpgradeBlock.SETUP_INCOMPLETE
        if membership.expiry_date < self._clock.today():
            return UpgradeBlock.EXPIRED
        pending = await unit.session.scalar(
            select(UpgradeApplicationRow.id).where(
                UpgradeApplicationRow.organization_id == organization_id,
                UpgradeApplicationRow.tier == tier.id.value,
                UpgradeApplicationRow.status == "in_review",
            )
        )
        return UpgradeBlock.APPLICATION_PENDING if pending is not None else None

    @staticmethod
    def _held_until(
        catalog: Catalog, membership: MembershipRow | None, offer: Offer
    ) -> date | None:
        """Until when the organization holds what ``offer`` brings (its tier, or a higher
        one), for the current term; None when it does not."""
        if offer.tier is None or membership is None:
            return None
        current = catalog.tier(membership.tier).rank
        if current < catalog.tier(offer.tier).rank:
            return None
        return membership.expiry_date

    async def _setup_missing(self, unit: UnitOfWork, organization_id: str) -> list[Step]:
        """The account-setup steps (``SETUP_STEPS``) still to do before any change of tier."""
        done = set(
            await unit.session.scalars(
                select(ChecklistEntryRow.step).where(
                    ChecklistEntryRow.organization_id == organization_id,
                    ChecklistEntryRow.state == StepState.DONE.value,
                )
            )
        )
        return [step for step in SETUP_STEPS if step.value not in done]

    async def _organization(self, unit: UnitOfWork, organization_id: str) -> OrganizationRow:
        organization = await unit.session.get(OrganizationRow, organization_id)
        if organization is None:
            raise NotFound(f"organization {organization_id!r}")
        return organization

    async def _membership(self, unit: UnitOfWork, organization_id: str) -> MembershipRow | None:
        await self._organization(unit, organization_id)
        return await unit.session.get(MembershipRow, organization_id)

    async def _admins(self, unit: UnitOfWork, organization_id: str) -> list[str]:
        names = await unit.session.scalars(
            select(OrganizationMemberRow.display_name)
            .where(
                OrganizationMemberRow.organization_id == organization_id,
                OrganizationMemberRow.global_admin.is_(True),
            )
            .order_by(OrganizationMemberRow.display_name)
        )
        return list(names)

    async def _order_row(self, unit: UnitOfWork, order_id: str) -> OrderRow:
        row = await unit.session.get(OrderRow, order_id, populate_existing=True)
        if row is None:
            raise NotFound(f"order {order_id!r}")
        return row

    async def _benefit_row(
        self, unit: UnitOfWork, organization_id: str, benefit_id: int
    ) -> BenefitRow:
        row = await unit.session.get(BenefitRow, benefit_id)
        if row is None or row.organization_id != organization_id:
            raise NotFound(f"benefit {benefit_id} of {organization_id!r}")
        return row

    @staticmethod
    async def _guarded(unit: UnitOfWork, statement: Any) -> bool:
        """Run a guarded UPDATE; tell whether it changed a row (it won the race)."""
        return rowcount(await unit.session.execute(statement)) == 1

    def _event(
        self, unit: UnitOfWork, organization_id: str, kind: str, by: str, detail: dict[str, Any]
    ) -> None:
        unit.session.add(
            MembershipEventRow(
                organization_id=organization_id, kind=kind, detail=detail, by_user=by[:200],
                at=self._clock.now(),
            )
        )  # fmt: skip


def _checked_detail(needs: ActivationDetail, detail: str | None, quantity: int) -> str | None:
    """The activation detail the benefit needs, checked (None when it needs none)."""
    if needs is ActivationDetail.NONE:
        return None
    value = (detail or "").strip()
    if not value:
        raise DetailRequired(needs)
    if needs is ActivationDetail.SEATS:
        if not value.isdigit() or not 1 <= int(value) <= quantity:
            raise DetailRequired(needs, f"the number of seats must be from 1 to {quantity}")
        return str(int(value))
    if len(value) > 200:
        raise DetailRequired(needs, "the tenant is a domain or an id of at most 200 characters")
    return value
