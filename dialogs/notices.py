"""Messages the bot sends outside a turn, built in the user's language.

The bot layer posts these proactively (``bot/proactive.py``); they live here, beside the
journeys, because they speak the journeys' words and offer their buttons (the cards
themselves are built in ``dialogs/cards.py``).
"""

from __future__ import annotations

from botbuilder.schema import Activity

from dialogs.cards import contact_confirmed_card, message
from services.contact_verification import Confirmation
from services.i18n import Translator
from services.membership import OrganizationStatus

__all__ = ["contact_confirmed"]


def contact_confirmed(
    t: Translator, confirmation: Confirmation, status: OrganizationStatus
) -> Activity:
    """Tell the requester that the primary contact confirmed, and offer the next step."""
    return message(contact_confirmed_card(t, confirmation, status))
