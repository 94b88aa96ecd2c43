"""Messages the bot sends outside a turn, built in the user's language.

The bot layer posts these proactively (``bot/proactive.py``); they live here, beside the
journeys, because they speak the journeys' words and offer their buttons (the cards
themselves are built in ``dialogs/cards.py``).
"""

from __future__ import annotations

from botbuilder.schema import Activity

from dialogs.cards import contact_confirmed_card, message, order_paid_card
from dialogs.prices import format_price
from services.benefits import Benefit, Order, OrderPurpose
from services.contact_verification import Confirmation
from services.i18n import Translator
from services.membership import Goal, OrganizationStatus

__all__ = ["contact_confirmed", "order_paid"]


def contact_confirmed(
    t: Translator,
    confirmation: Confirmation,
    status: OrganizationStatus,
    goal: Goal | None = None,
) -> Activity:
    """Tell the requester that the primary contact confirmed, and offer the next step (what
    they set out to do, once it can be done)."""
    return message(contact_confirmed_card(t, confirmation, status, goal))


def order_paid(t: Translator, order: Order, benefits: list[Benefit]) -> Activity:
    """Tell the buyer the order is paid and what it brought, with a button to activate."""
    lines = [f"{benefit.quantity} × {benefit.spec.name.text(t.locale)}" for benefit in benefits]
    renewed = order.purpose is OrderPurpose.RENEWAL and benefits
    return message(
        order_paid_card(
            t,
            order_id=order.id,
            price=format_price(order.amount, order.currency),
            brought=lines,
            renewed_until=benefits[0].term_end if renewed else None,
        )
    )
