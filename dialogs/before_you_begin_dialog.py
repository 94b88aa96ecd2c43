"""Before you begin: the four things account creation needs, and what to do when one is missing."""

from __future__ import annotations

from botbuilder.dialogs import DialogTurnResult, WaterfallStepContext

from dialogs.cards import Option
from dialogs.journey_dialog import JourneyDialog
from dialogs.people import JourneyServices
from dialogs.prompts import OptionPrompt, ask
from dialogs.texts import texts
from dialogs.waterfall import Waterfall
from services.i18n import N_

__all__ = ["BeforeYouBeginDialog"]

YES = Option("prerequisite.yes", N_("Yes"))
NO = Option("prerequisite.no", N_("No"))

# (question, advice when the answer is no), in the order of the Partner Center page.
PREREQUISITES = (
    (
        N_("Do you have global administrator credentials for your organization's Microsoft "
           "Entra ID (formerly Azure AD) tenant?"),
        N_("No tenant yet? One can be created during registration. If your organization has "
           "a tenant, a global administrator must do the sign-in step{admins}."),
    ),
    (
        N_("Do you have your organization's legal company name, address and primary contact "
           "at hand?"),
        N_("Gather them first: they confirm that your organization has a profile and that you "
           "may act for it."),
    ),
    (
        N_("Are you authorized to sign legal agreements for your organization?"),
        N_("Someone who is must accept the partner agreement. You can do the other steps; they "
           "can accept it from this chat later."),
    ),
    (
        N_("Do you have the primary contact's name and company email address?"),
        N_("An email asks the primary contact to confirm that they registered and that the "
           "address belongs to your organization: use a company address."),
    ),
)  # fmt: skip


class BeforeYouBeginDialog(JourneyDialog):
    """Ask about each prerequisite in turn; end with True when all four are there."""

    def __init__(self, services: JourneyServices) -> None:
        super().__init__(BeforeYouBeginDialog.__name__, services)
        self.add_dialog(OptionPrompt("prerequisite", yes=YES, no=NO))
        steps = [self.ask_step, self.answer_step]
        self.add_dialog(Waterfall("before_you_begin", steps))
        self.initial_dialog_id = "before_you_begin"

    async def ask_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Ask about the next prerequisite."""
        progress = dict(step.options) if isinstance(step.options, dict) else {}
        index = int(progress.get("index", 0))
        step.values.update(index=index, missing=int(progress.get("missing", 0)))
        return await step.prompt("prerequisite", ask(PREREQUISITES[index][0], choices=[YES, NO]))

    async def answer_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Give the advice for a missing one, then go on to the next or sum up."""
        t = texts(step.context)
        index, missing = step.values["index"], step.values["missing"]
        if step.result == NO.action:
            missing += 1
            admins = ""
            user = await self.services.user(step.context) if index == 0 else None
            if user is not None and user.tenant_id:
                names = await self.services.identity.global_admins(user.tenant_id)
                if names:
                    admins = t.gettext(" (in your tenant: {names})",
                                       names=", ".join(a.display_name for a in names))  # fmt: skip
            await step.context.send_activity(t.gettext(PREREQUISITES[index][1], admins=admins))
        if index + 1 < len(PREREQUISITES):
            return await step.replace_dialog(
                self.initial_dialog_id, {"index": index + 1, "missing": missing}
            )
        if missing:
            await step.context.send_activity(
                t.gettext("Once you have what is missing, you're ready to create the account.")
            )
        else:
            await step.context.send_activity(t.gettext("You have everything: you're ready."))
        return await step.end_dialog(missing == 0)
