"""Create the Partner Center account: welcome, sign in, profile, agreement, admin agent, done.

Every step looks at the organization's checklist first and is skipped when it is done, so a
user who comes back (after a restart, days later, or a colleague of the same organization)
resumes at the first pending step.
"""

from __future__ import annotations

from botbuilder.dialogs import DialogTurnResult, WaterfallStepContext

from dialogs.admin_agent_dialog import AdminAgentDialog
from dialogs.agreement_dialog import AgreementDialog
from dialogs.before_you_begin_dialog import BeforeYouBeginDialog
from dialogs.cards import Option
from dialogs.journey_dialog import STEP_NAMES, JourneyDialog, steps_text
from dialogs.legal_profile_dialog import LegalProfileDialog
from dialogs.people import JourneyServices, Member
from dialogs.prompts import OptionPrompt, ask
from dialogs.texts import texts
from dialogs.waterfall import Waterfall
from services.i18n import N_
from services.membership import Goal, OrganizationStatus, Source, Step, StepState

__all__ = ["CreateAccountDialog"]

NEXT = Option("account.next", N_("Next"))
CHECK_FIRST = Option("account.check_first", N_("Check what I need first"))
NOT_NOW = Option("account.not_now", N_("Not now"))


SIGNED_IN = N_("Signed in as {name}, global administrator.")
SIGNED_IN_MOVED = N_(
    "Signed in as {name}, global administrator. Your membership record moved from the Partner "
    "Membership Center into Partner Center."
)
# Begun for a goal that does not wait for what is left (the contact's email, the admin agent).
NOT_WAITED_FOR = {
    Goal.RENEW: N_(
        "{organization}'s Partner Center account has what renewing needs. Still open, and not "
        "needed for it: {steps}."
    ),
    Goal.UPGRADE: N_(
        "{organization}'s Partner Center account has what upgrading needs. Still open, and not "
        "needed for it: {steps}."
    ),
    Goal.BUY: N_(
        "{organization}'s Partner Center account has what buying needs. Still open, and not "
        "needed for it: {steps}."
    ),
}


def _done(status: OrganizationStatus, step: Step) -> bool:
    return any(i.step is step and i.state is StepState.DONE for i in status.checklist)


class CreateAccountDialog(JourneyDialog):
    """The account-creation journey of the Partner Center page, resumable at any step."""

    def __init__(self, services: JourneyServices) -> None:
        super().__init__(CreateAccountDialog.__name__, services)
        self.add_dialog(OptionPrompt("welcome", yes=NEXT, no=NOT_NOW))
        self.add_dialog(AgreementDialog(services))
        self.add_dialog(AdminAgentDialog(services))
        self.add_dialog(LegalProfileDialog(services))
        self.add_dialog(BeforeYouBeginDialog(services))
        steps = [
            self.welcome_step,
            self.prerequisites_step,
            self.sign_in_step,
            self.profile_step,
            self.agreement_step,
            self.admin_agent_step,
            self.finish_step,
        ]
        self.add_dialog(Waterfall("create_account", steps))
        self.initial_dialog_id = "create_account"

    async def _status(
        self, step: WaterfallStepContext, member: Member | None = None
    ) -> OrganizationStatus | None:
        member = member or await self.member(step.context)
        if member is None:
            return None
        return await self.services.membership.status(member.organization_id)

    async def welcome_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Say what will happen, or where a returning user picks up."""
        status = await self._status(step)
        if status is None:
            return await step.end_dialog()
        t = texts(step.context)
        pending = status.first_to_do
        if pending is None:
            return await step.next(NEXT.action)
        if pending is not Step.SIGN_IN:
            await step.context.send_activity(
                t.gettext(
                    "Welcome back. {organization}'s account setup picks up at: {step}.",
                    organization=status.legal_name,
                    step=t.gettext(STEP_NAMES[pending]),
                )
            )
            return await step.next(NEXT.action)
        return await step.prompt(
            "welcome",
            ask(
                N_(
                    "Creating the Partner Center account takes a few minutes:\n\n"
                    "1. Sign in as a global administrator of your organization's Microsoft "
                    "Entra ID (formerly Azure AD) tenant.\n"
                    "2. Give the legal business profile and the primary contact.\n"
                    "3. Accept the Microsoft Partner Network agreement.\n"
                    "4. Check that you are in the Admin agent group.\n\n"
                    "Have at hand: global administrator credentials, the legal company name, "
                    "address and primary contact, and the authority to sign legal agreements."
                ),
                choices=[NEXT, CHECK_FIRST, NOT_NOW],
            ),
        )

    async def prerequisites_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Go through the prerequisites first, if asked to."""
        if step.result == CHECK_FIRST.action:
            return await step.begin_dialog(BeforeYouBeginDialog.__name__)
        return await step.next(step.result)

    async def sign_in_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Only a global administrator of the tenant goes on; others are told who can."""
        t = texts(step.context)
        if isinstance(step.result, bool):  # back from the prerequisites: welcome again
            return await step.replace_dialog(self.initial_dialog_id)
        if step.result != NEXT.action:
            await step.context.send_activity(t.gettext("OK. Your progress is kept."))
            return await step.end_dialog()
        member = await self.member(step.context)
        status = await self._status(step, member)
        if member is None or status is None:
            return await step.end_dialog()
        if _done(status, Step.SIGN_IN):
            return await step.next(None)
        user = member.user
        if user.tenant_id is None:
            await step.context.send_activity(
                t.gettext(
                    "{organization} has no Microsoft Entra ID (formerly Azure AD) tenant yet. In "
                    "Partner Center, "
                    "choose “Create a new tenant”, set it up, then come back here and sign in "
                    "as the new tenant's global administrator.",
                    organization=status.legal_name,
                )
            )
            return await step.end_dialog()
        if not user.global_admin:
            admins = await self.services.identity.global_admins(user.tenant_id)
            names = ", ".join(admin.display_name for admin in admins) or t.gettext("(none found)")
            await step.context.send_activity(
                t.gettext(
                    "Only a global administrator of your tenant can create the account, and "
                    "you are not one. Global administrators in your tenant: {names}. Ask one "
                    "of them to open this chat and choose “Create the Partner Center account”.",
                    names=names,
                )
            )
            return await step.end_dialog()
        moved = status.membership is not None and status.membership.source is Source.LEGACY
        tenant = await self.services.identity.tenant(user.tenant_id)
        await self.services.membership.create_partner_center_account(
            member.organization_id,
            user.tenant_id,
            member.actor,
            verified_domains=tenant.verified_domains if tenant else (),
        )
        signed_in = SIGNED_IN_MOVED if moved else SIGNED_IN
        await step.context.send_activity(t.gettext(signed_in, name=user.display_name))
        return await step.next(None)

    async def profile_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Give the legal business profile and primary contact, unless already given."""
        status = await self._status(step)
        if status is None or _done(status, Step.LEGAL_PROFILE):
            return await step.next(None)
        return await step.begin_dialog(LegalProfileDialog.__name__)

    async def agreement_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Accept the partner agreement, unless it already is."""
        status = await self._status(step)
        if status is None or _done(status, Step.AGREEMENT):
            return await step.next(None)
        return await step.begin_dialog(AgreementDialog.__name__)

    async def admin_agent_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Check the admin agent role, unless it already is."""
        status = await self._status(step)
        if status is None or _done(status, Step.ADMIN_AGENT):
            return await step.next(None)
        return await step.begin_dialog(AdminAgentDialog.__name__)

    async def finish_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Sum up: done, with the next steps, or what is still pending.

        Begun for a goal (a renewal, an upgrade), the journey that began it goes on next: what
        is pending is said without sending the user back to the menu.
        """
        status = await self._status(step)
        if status is None:
            return await step.end_dialog()
        t = texts(step.context)
        options = step.options if isinstance(step.options, dict) else {}
        goal = Goal(options["goal"]) if options.get("goal") else None
        pending = [i for i in status.checklist if i.state is not StepState.DONE]
        steps = steps_text(t, [i.step for i in pending])
        if not pending:
            await step.context.send_activity(
                t.gettext(
                    "{organization}'s Partner Center account is set up. Next steps: add users "
                    "and assign them permissions, buy membership benefits, activate membership "
                    "benefits.",
                    organization=status.legal_name,
                )
            )
        elif goal is not None and not status.setup_missing:
            await step.context.send_activity(
                t.gettext(NOT_WAITED_FOR[goal], organization=status.legal_name, steps=steps)
            )
        elif goal is None:
            await step.context.send_activity(
                t.gettext("Still to do: {steps}. Pick this up again from the menu.", steps=steps)
            )
        return await step.end_dialog()
