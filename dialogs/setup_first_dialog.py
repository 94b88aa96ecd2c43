"""The Partner Center account first, for a renewal, an upgrade or a purchase that needs it.

The seed page: to renew or upgrade, an organization first creates its Partner Center account
(``services.membership.SETUP_STEPS``). This journey says which of those steps are missing,
offers to do them (the button names the journey that does the first), remembers the user's
goal, runs the account journey, and ends with True once the goal has what it needs (the
journey that began it then goes on with it), or with False after saying what is still missing,
with a button to it. The goal is kept until it is done or the user drops it ("Not now").
"""

from __future__ import annotations

from botbuilder.dialogs import DialogTurnResult, WaterfallStepContext

from dialogs.cards import CONTINUES, GOAL_JOURNEYS, Option, continue_card, localized, message
from dialogs.create_account_dialog import CreateAccountDialog
from dialogs.intents import JOURNEY_LABELS
from dialogs.journey_dialog import JourneyDialog, steps_text
from dialogs.people import JourneyServices, Member
from dialogs.prompts import OptionPrompt, ask
from dialogs.texts import texts
from dialogs.waterfall import Waterfall
from services.i18n import N_, Locale, translator
from services.membership import Goal, Source, Step

__all__ = ["SetupFirstDialog"]

NOT_NOW = Option("setup_first.not_now", N_("Not now"))
_CONTINUE = "setup_first.continue"
NOTHING_CHANGED = N_("OK, nothing was changed.")

SETUP_FIRST = {
    Goal.RENEW: N_(
        "To renew, {organization} first sets up its Partner Center account. Still to do: "
        "{steps}.\n\nContinue with the setup now?"
    ),
    Goal.UPGRADE: N_(
        "To upgrade, {organization} first sets up its Partner Center account. Still to do: "
        "{steps}.\n\nContinue with the setup now?"
    ),
    Goal.BUY: N_(
        "To buy offers, {organization} first sets up its Partner Center account. Still to do: "
        "{steps}.\n\nContinue with the setup now?"
    ),
}
KEPT_FOR_LATER = {
    Goal.RENEW: N_("I'll keep the renewal for later: it still needs {steps}."),
    Goal.UPGRADE: N_("I'll keep the upgrade for later: it still needs {steps}."),
    Goal.BUY: N_("I'll keep the purchase for later: it still needs {steps}."),
}
ONLY_AN_ADMIN = N_(
    "{organization} first sets up its Partner Center account, and only a global administrator "
    "of your tenant can start that; you are not one. Global administrators in your tenant: "
    "{names}. Ask one of them to open this chat and choose “{journey}”."
)
LEGACY = N_(
    "Your membership record is still in the legacy Partner Membership Center; setting up the "
    "Partner Center account moves it into Partner Center."
)
LEGACY_EXPIRED = N_(
    "Your membership has expired, and its record in the legacy Partner Membership Center is "
    "view-only: nothing can be changed there. Setting up the Partner Center account moves it "
    "into Partner Center."
)


class SetupFirstDialog(JourneyDialog):
    """Do the account setup a goal needs first; end with whether the goal can go on now."""

    def __init__(self, services: JourneyServices) -> None:
        super().__init__(SetupFirstDialog.__name__, services)
        self.add_dialog(CreateAccountDialog(services))
        self.add_dialog(OptionPrompt("setup_confirm", yes=Option(_CONTINUE, ""), no=NOT_NOW))
        steps = [self.ask_step, self.setup_step, self.after_step]
        self.add_dialog(Waterfall("setup_first", steps))
        self.initial_dialog_id = "setup_first"

    async def ask_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Say what the goal needs first, remember the goal, and offer to go on with it."""
        goal = Goal(dict(step.options)["goal"])
        step.values["goal"] = goal.value
        member = await self.member(step.context)
        if member is None:
            return await step.end_dialog(False)
        status = await self.services.membership.status(member.organization_id)
        if not (missing := status.setup_missing):
            return await step.end_dialog(True)
        user = member.user
        if Step.SIGN_IN in missing and user.tenant_id is not None and not user.global_admin:
            await self._tell_who_can(step, member, goal)
            return await step.end_dialog(False)
        await self.services.membership.set_goal(member.organization_id, member.user.id, goal)
        if (membership := status.membership) is not None and membership.source is Source.LEGACY:
            note = LEGACY_EXPIRED if membership.view_only else LEGACY
            await step.context.send_activity(texts(step.context).gettext(note))
        journey = JOURNEY_LABELS[CONTINUES[missing[0]]]
        proceed = Option(_CONTINUE, localized("Continue: {step}", step=journey))
        steps = {locale.value: steps_text(translator(locale), missing) for locale in Locale}
        return await step.prompt(
            "setup_confirm",
            ask(
                SETUP_FIRST[goal],
                choices=[proceed, NOT_NOW],
                translate={"steps": steps},
                organization=status.legal_name,
            ),
        )

    async def _tell_who_can(self, step: WaterfallStepContext, member: Member, goal: Goal) -> None:
        """Only a global administrator signs in for the organization: name them."""
        t = texts(step.context)
        tenant = member.user.tenant_id
        admins = await self.services.identity.global_admins(tenant) if tenant else []
        names = ", ".join(admin.display_name for admin in admins) or t.gettext("(none found)")
        await step.context.send_activity(
            t.gettext(
                ONLY_AN_ADMIN,
                organization=(
                    await self.services.membership.status(member.organization_id)
                ).legal_name,
                names=names,
                journey=t.gettext(JOURNEY_LABELS[GOAL_JOURNEYS[goal]]),
            )
        )

    async def setup_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Run the account journey, or drop the goal."""
        if step.result != _CONTINUE:
            member = await self.member(step.context)
            if member is not None:
                await self.services.membership.drop_goal(member.organization_id, member.user.id)
            await step.context.send_activity(texts(step.context).gettext(NOTHING_CHANGED))
            return await step.end_dialog(False)
        goal = step.values["goal"]
        return await step.begin_dialog(CreateAccountDialog.__name__, {"goal": goal})

    async def after_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Go on with the goal, or say what it still needs, with a button to it."""
        goal = Goal(step.values["goal"])
        member = await self.member(step.context)
        if member is None:
            return await step.end_dialog(False)
        status = await self.services.membership.status(member.organization_id)
        if not (missing := status.setup_missing):
            return await step.end_dialog(True)
        t = texts(step.context)
        text = t.gettext(KEPT_FOR_LATER[goal], steps=steps_text(t, missing))
        await step.context.send_activity(message(continue_card(t, text, CONTINUES[missing[0]])))
        return await step.end_dialog(False)
