"""Messages the bot sends outside a turn, built in the user's language.

The bot layer posts these proactively (``bot/proactive.py``); they live here, beside the
journeys, because they speak the journeys' words and offer their buttons.
"""

from __future__ import annotations

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import ActionTypes, Activity, CardAction, HeroCard

from dialogs.intents import MENU_LABELS, Intent
from dialogs.status_dialog import CONTINUES
from services.contact_verification import Confirmation, VettingStatus, VettingSubStatus
from services.i18n import Translator
from services.membership import OrganizationStatus

__all__ = ["contact_confirmed"]


def contact_confirmed(
    t: Translator, confirmation: Confirmation, status: OrganizationStatus
) -> Activity:
    """Tell the requester that the primary contact confirmed, and offer the next step."""
    lines = [
        t.gettext(
            "✅ The primary contact of {organization}, {contact}, confirmed their email address.",
            contact=confirmation.contact_name or t.gettext("The primary contact"),
            organization=status.legal_name,
        )
    ]
    review = confirmation.review
    if review is not None and review.status is VettingStatus.AUTHORIZED:
        lines.append(t.gettext("The review of your legal business profile is complete."))
    elif review is not None and review.sub_status is VettingSubStatus.EMPLOYMENT_VERIFICATION:
        lines.append(
            t.gettext(
                "Next, a person checks that the contact works for your organization, because "
                "the address's domain is not one your tenant has verified. This can take a few "
                "business days; there is nothing you need to do."
            )
        )
    if (pending := status.first_pending) is not None:
        label = t.gettext(MENU_LABELS[CONTINUES[pending]])
        title = t.gettext("Continue: {step}", step=label)
    else:
        label = t.gettext(MENU_LABELS[Intent.STATUS])
        title = label
    button = CardAction(type=ActionTypes.im_back, title=title, value=label)
    card = HeroCard(text="\n\n".join(lines), buttons=[button])
    return MessageFactory.attachment(CardFactory.hero_card(card))
