"""Money as people read it: prices, and how to pay an order."""

from __future__ import annotations

from decimal import Decimal

from dialogs.people import JourneyServices
from services.benefits import Order
from services.i18n import Translator

__all__ = ["format_price", "how_to_pay", "order_text"]


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


async def order_text(services: JourneyServices, t: Translator, order: Order, said: str) -> str:
    """``said`` of ``order`` (a source string with ``{id}``, ``{price}``, ``{date}``), in
    ``t``'s language, then how to pay it."""
    text = t.gettext(
        said,
        id=order.id,
        price=format_price(order.amount, order.currency),
        date=order.created_at.date().isoformat(),
    )
    pay = await how_to_pay(services, t, order.id)
    return text if pay is None else f"{text}\n\n{pay}"
