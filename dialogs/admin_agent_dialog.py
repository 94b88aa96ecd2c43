"""Check that the user is in the Admin agent group, or show exactly how to get there."""

from __future__ import annotations

from botbuilder.dialogs import DialogTurnResult, WaterfallStepContext

from dialogs.cards import Option
from dialogs.journey_dialog import JourneyDialog
from dialogs.people import JourneyServices
from dialogs.prompts import OptionPrompt, ask
from dialogs.texts import texts
from dialogs.waterfall import Waterfall
from services.i18n import N_
from services.membership import Step, StepState

__all__ = ["AdminAgentDialog"]

CHECK_AGAIN = Option("admin_agent.check_again", N_("Check again"))
LATER = Option("admin_agent.later", N_("Later"))


class AdminAgentDialog(JourneyDialog):
    """Confirm the admin agent role; until then, the steps and a check-again button."""

    def __init__(self, services: JourneyServices) -> None:
        super().__init__(AdminAgentDialog.__name__, services)
        self.add_dialog(OptionPrompt("again", yes=CHECK_AGAIN, no=LATER))
        self.add_dialog(Waterfall("admin_agent", [self.check_step, self.again_step]))
        self.initial_dialog_id = "admin_agent"

    async def check_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Look the role up; done, or explain how to get it."""
        member = await self.member(step.context)
        if member is None:
            return await step.end_dialog()
        t = texts(step.context)
        checks = int(dict(step.options or {}).get("checks", 1))
        user = await self.services.identity.user(member.user.id)
        if user is not None and user.admin_agent:
            await self.services.membership.mark_step(
                member.organization_id, Step.ADMIN_AGENT, StepState.DONE, member.actor
            )
            await step.context.send_activity(
                t.gettext(
                    "You are in the Admin agent group, so you can finish the setup, "
                    "adding users included."
                )
            )
            return await step.end_dialog(True)
        if checks > 1:  # "Check again": show that a new look-up was made
            await step.context.send_activity(
                t.gettext(
                    "I looked your role up again just now (check {count}): you are still not in "
                    "the Admin agent group.",
                    count=checks,
                )
            )
        step.values["checks"] = checks
        return await step.prompt(
            "again",
            ask(
                N_(
                    "You are not in the Admin agent group yet; you need it to finish the setup "
                    "(adding users, among others). In Partner Center:\n\n"
                    "1. On the Dashboard, select Account settings > User management.\n"
                    "2. Select your name in the list of users.\n"
                    "3. Select Admin agent if it is not selected, then select Update.\n\n"
                    "Then I can check again."
                ),
                choices=[CHECK_AGAIN, LATER],
            ),
        )

    async def again_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Check again, or leave the step pending."""
        if step.result == CHECK_AGAIN.action:
            checks = step.values["checks"] + 1
            return await step.replace_dialog(self.initial_dialog_id, {"checks": checks})
        await step.context.send_activity(
            texts(step.context).gettext(
                "OK. This step stays pending; “Check the admin agent role” in the menu picks it up."
            )
        )
        return await step.end_dialog(False)
