"""Read and accept the Microsoft Partner Network agreement; every decision is kept."""

from __future__ import annotations

from botbuilder.dialogs import DialogTurnResult, WaterfallStepContext

from dialogs.cards import Option, in_words
from dialogs.journey_dialog import JourneyDialog
from dialogs.people import JourneyServices
from dialogs.prompts import OptionPrompt, ask
from dialogs.texts import texts
from dialogs.waterfall import Waterfall
from services.i18n import N_
from services.membership import Step, StepState

__all__ = ["AgreementDialog"]

I_CAN_SIGN = Option("agreement.can_sign", N_("Yes, I can sign for it"))
I_CANNOT_SIGN = Option("agreement.cannot_sign", N_("No, I can't"))
ACCEPT = Option("agreement.accept", N_("Accept"))
DECLINE = Option("agreement.decline", N_("Decline"))


class AgreementDialog(JourneyDialog):
    """Show the agreement, confirm authority to sign, and record the decision."""

    def __init__(self, services: JourneyServices) -> None:
        super().__init__(AgreementDialog.__name__, services)
        self.add_dialog(OptionPrompt("authority", yes=I_CAN_SIGN, no=I_CANNOT_SIGN))
        self.add_dialog(OptionPrompt("decision", yes=ACCEPT, no=DECLINE))
        self.add_dialog(
            Waterfall("agreement", [self.authority_step, self.decision_step, self.record_step])
        )
        self.initial_dialog_id = "agreement"

    async def authority_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Show the agreement in the user's language and ask whether they may sign."""
        member = await self.member(step.context)
        if member is None:
            return await step.end_dialog()
        t = texts(step.context)
        status = await self.services.membership.status(member.organization_id)
        done = next(i for i in status.checklist if i.step is Step.AGREEMENT)
        if done.state is StepState.DONE:
            await step.context.send_activity(
                t.gettext(
                    "{organization} has already accepted the partner agreement ({by}, {when}).",
                    organization=status.legal_name,
                    by=t.gettext(done.by) if done.by and done.by_system else done.by,
                    when=done.at.date().isoformat() if done.at else "",
                )
            )
            return await step.end_dialog()
        agreement = await self.services.membership.current_agreement()
        summary = in_words(t, agreement.summaries)
        await step.context.send_activity(
            t.gettext(
                "**Microsoft Partner Network agreement**, version {version} (in force since "
                "{since}).\n\n{summary}\n\nFull text: {url}",
                version=agreement.version,
                since=agreement.effective_date.isoformat(),
                summary=summary,
                url=agreement.url,
            )
        )
        step.values["version"] = agreement.version
        step.values["organization"] = status.legal_name
        return await step.prompt(
            "authority",
            ask(
                N_("Are you authorized to sign legal agreements for {organization}?"),
                choices=[I_CAN_SIGN, I_CANNOT_SIGN],
                organization=status.legal_name,
            ),
        )

    async def decision_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Ask for the decision, or explain who must make it."""
        t = texts(step.context)
        if step.result != I_CAN_SIGN.action:
            await step.context.send_activity(
                t.gettext(
                    "Only someone who may sign legal agreements for {organization} can accept "
                    "it. Ask them to open this chat and choose “Accept the partner agreement”; "
                    "everything else you did is kept.",
                    organization=step.values["organization"],
                )
            )
            return await step.end_dialog()
        return await step.prompt(
            "decision",
            ask(
                N_("Do you accept the agreement on behalf of {organization}?"),
                choices=[ACCEPT, DECLINE],
                organization=step.values["organization"],
            ),
        )

    async def record_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Record the acceptance or the refusal, and say what it means."""
        t = texts(step.context)
        member = await self.member(step.context)
        if member is None:
            return await step.end_dialog()
        accepted = step.result == ACCEPT.action
        await self.services.membership.decide_agreement(
            member.organization_id,
            step.values["version"],
            member.actor,
            accepted=accepted,
            claimed_authority=True,
        )
        if accepted:
            message = t.gettext(
                "Recorded: for {organization}, {name} accepted agreement version {version}.",
                name=member.user.display_name,
                version=step.values["version"],
                organization=step.values["organization"],
            )
        else:
            message = t.gettext(
                "Recorded that you declined. The Partner Center account can't be completed "
                "without the agreement; you can come back to it from the menu at any time."
            )
        await step.context.send_activity(message)
        return await step.end_dialog(accepted)
