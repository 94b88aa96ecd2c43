"""Money as people read it: prices, and how to pay an order."""

from __future__ import annotations

from decimal import Decimal

from dialogs.people import JourneyServices
from services.i18n import Translator

__all__ = ["format_price", "how_to_pay"]


def format_price(amount: Decimal, currency: str) -> str:
    """A price as people read it: the currency code, then the amount (no cents when whole)."""
    if amount == amount.to_integral_value():
        return f"{currency} {amount:,.0f}"
    return f"{currency} {amount:,.2f}"


async def how_to_pay(services: JourneyServices, t: Translator, order_id: str) -> str | None:
    """How to pay ``order_id``, as the catalog's operator tells it (None when it does not)."""
    if services.benefits is None:
        return None
    payment = (await services.benefits.catalog()).payment
    if payment is None:
        return None
    return t.gettext("To pay: {how}", how=payment.text(t.locale, order_id))
