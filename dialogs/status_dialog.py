"""Membership status at any time: tier, expiry, days left, the checklist, the latest
verification email while the primary contact has not confirmed, and whether the user stopped
the renewal reminders (with a button to turn them back on)."""

from __future__ import annotations

from botbuilder.dialogs import DialogTurnResult, WaterfallDialog, WaterfallStepContext

from dialogs.cards import message, status_card
from dialogs.journey_dialog import JourneyDialog
from dialogs.people import JourneyServices
from dialogs.texts import texts
from dialogs.verify_contact_dialog import last_email_line

__all__ = ["StatusDialog"]


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
        status = await self.services.membership.status(member.organization_id)
        verification = await self.services.verification.status(member.organization_id)
        last_email = last_email_line(step.context, verification)
        stopped = False
        if (reminders := self.services.reminders) is not None:
            preference = await reminders.preference(member.user.id, member.organization_id)
            stopped = preference.stopped
        card = status_card(
            texts(step.context), status, last_email=last_email, reminders_stopped=stopped
        )
        await step.context.send_activity(message(card))
        return await step.end_dialog()
