"""Membership status at any time: tier, expiry, days left, the checklist, and the latest
verification email while the primary contact has not confirmed."""

from __future__ import annotations

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.dialogs import DialogTurnResult, WaterfallDialog, WaterfallStepContext
from botbuilder.schema import ActionTypes, CardAction, HeroCard

from dialogs.intents import MENU_LABELS, Intent
from dialogs.journey_dialog import STEP_NAMES, TIER_NAMES, JourneyDialog
from dialogs.people import JourneyServices
from dialogs.texts import texts
from dialogs.verify_contact_dialog import last_email_line
from services.i18n import Translator
from services.membership import OrganizationStatus, Step, StepState

__all__ = ["CONTINUES", "StatusDialog", "status_text"]

_MARKS = {StepState.DONE: "✅", StepState.WAITING: "⏳", StepState.PENDING: "⬜"}

# Which menu journey continues a pending step (the button sends that menu item's label).
CONTINUES = {
    Step.SIGN_IN: Intent.CREATE_ACCOUNT,
    Step.LEGAL_PROFILE: Intent.CREATE_ACCOUNT,
    Step.CONTACT_VERIFICATION: Intent.VERIFY_CONTACT,
    Step.AGREEMENT: Intent.ACCEPT_AGREEMENT,
    Step.ADMIN_AGENT: Intent.ADMIN_AGENT,
}


def status_text(t: Translator, status: OrganizationStatus, *, last_email: str | None = None) -> str:
    """The status card's text, in the translator's language.

    ``last_email`` is a line on the latest verification email (``last_email_line``), shown
    under the checklist while the contact has not confirmed.
    """
    lines = [f"**{status.legal_name}**"]
    membership = status.membership
    if membership is None:
        lines.append(t.gettext("No membership record."))
    else:
        lines.append(
            t.gettext(
                "{tier}, MPN ID {mpn_id}: expires on {expiry}.",
                tier=t.gettext(TIER_NAMES[membership.tier]),
                mpn_id=membership.mpn_id,
                expiry=membership.expiry_date.isoformat(),
            )
        )
        if membership.days_left >= 0:
            lines.append(t.gettext("{days} days left.", days=membership.days_left))
        else:
            lines.append(t.gettext("Expired {days} days ago.", days=-membership.days_left))
        if membership.view_only:
            lines.append(
                t.gettext(
                    "This record is in the legacy Partner Membership Center and is view-only: "
                    "create the Partner Center account to renew or change it."
                )
            )
    lines.append("")
    lines.append(t.gettext("Account setup:"))
    for item in status.checklist:
        lines.append(f"{_MARKS[item.state]} {t.gettext(STEP_NAMES[item.step])}")
    if last_email:
        lines.append(last_email)
    return "\n\n".join(lines)


class StatusDialog(JourneyDialog):
    """Show where the organization's membership and account setup stand."""

    def __init__(self, services: JourneyServices) -> None:
        super().__init__(StatusDialog.__name__, services)
        self.add_dialog(WaterfallDialog("status", [self.show_step]))
        self.initial_dialog_id = "status"

    async def show_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Show the status card, with a button to continue the first pending step."""
        member = await self.member(step.context)
        if member is None:
            return await step.end_dialog()
        t = texts(step.context)
        status = await self.services.membership.status(member.organization_id)
        verification = await self.services.verification.status(member.organization_id)
        buttons = []
        if (pending := status.first_pending) is not None:
            label = t.gettext(MENU_LABELS[CONTINUES[pending]])
            title = t.gettext("Continue: {step}", step=label)
            buttons.append(CardAction(type=ActionTypes.im_back, title=title, value=label))
        text = status_text(t, status, last_email=last_email_line(step.context, verification))
        card = HeroCard(text=text, buttons=buttons)
        await step.context.send_activity(MessageFactory.attachment(CardFactory.hero_card(card)))
        return await step.end_dialog()
