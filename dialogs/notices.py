"""Messages the bot sends outside a turn, built in the user's language.

The bot layer posts these proactively (``bot/proactive.py``); they live here, beside the
journeys, because they speak the journeys' words and offer their buttons (the cards
themselves are built in ``dialogs/cards.py``).
"""

from __future__ import annotations

from botbuilder.schema import Activity

from dialogs.benefits_dialog import format_price
from dialogs.cards import contact_confirmed_card, message, order_paid_card
from services.benefits import Benefit, Order
from services.contact_verification import Confirmation
from services.i18n import Translator
from services.membership import OrganizationStatus

__all__ = ["contact_confirmed", "order_paid"]


def contact_confirmed(
    t: Translator, confirmation: Confirmation, status: OrganizationStatus
) -> Activity:
    """Tell the requester that the primary contact confirmed, and offer the next step."""
    return message(contact_confirmed_card(t, confirmation, status))


def order_paid(t: Translator, order: Order, benefits: list[Benefit]) -> Activity:
    """Tell the buyer the order is paid and what it brought, with a button to activate."""
    lines = [f"{benefit.quantity} × {benefit.spec.name.text(t.locale)}" for benefit in benefits]
    return message(
        order_paid_card(
            t, order_id=order.id, price=format_price(order.amount, order.currency), brought=lines
        )
    )
