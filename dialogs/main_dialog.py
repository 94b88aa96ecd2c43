"""The main dialog: the welcome, the menu of journeys, and the loop back to the menu.

"Talk to a person" asks the help desk (``dialogs/handoff_dialog.py``). An ``activate.<id>``
button from an earlier benefits card, and the payment notice's "Activate and manage benefits",
lead into the benefits whenever the user is at the menu.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import StatePropertyAccessor, TurnContext
from botbuilder.dialogs import (
    Dialog,
    DialogContext,
    DialogTurnResult,
    WaterfallStepContext,
)
from botbuilder.dialogs.prompts import PromptValidatorContext
from botbuilder.schema import ActivityTypes

from dialogs.admin_agent_dialog import AdminAgentDialog
from dialogs.agreement_dialog import AgreementDialog
from dialogs.benefits_dialog import ACTIVATE_PREFIX, BenefitsDialog
from dialogs.cards import (
    GOAL_JOURNEYS,
    MANAGE_BENEFITS,
    Option,
    card_action,
    continue_card,
    message,
)
from dialogs.create_account_dialog import CreateAccountDialog
from dialogs.handoff_dialog import answer_handoff_action, ask_for_person, handoff_action, reason_of
from dialogs.intents import (
    JOURNEY_LABELS,
    MENU,
    MENU_LABELS,
    Intent,
    MenuChoices,
    recognize_interruption,
)
from dialogs.interruptible_dialog import HELP_TEXT, InterruptibleDialog, reminder_action
from dialogs.people import JourneyServices
from dialogs.prompts import LocalizedTextPrompt, ask
from dialogs.renew_dialog import RenewDialog
from dialogs.renew_or_upgrade_dialog import RenewOrUpgradeDialog
from dialogs.sign_in_dialog import SignInDialog
from dialogs.status_dialog import StatusDialog
from dialogs.texts import save_locale, texts
from dialogs.verify_contact_dialog import VerifyContactDialog
from dialogs.waterfall import Waterfall
from services.i18n import N_, Locale, translator
from services.membership import Goal

__all__ = ["MainDialog"]


WELCOME_TEXT = N_(
    "Hello! I'm the Microsoft Partner Network membership assistant. I can walk you through "
    "renewing your membership, creating your Partner Center account, verifying your primary "
    "contact, accepting the partner agreement, and buying and activating benefits."
)


class MainDialog(InterruptibleDialog):
    """Welcome the user, offer the journeys, start the chosen one, and come back."""

    MENU_PROMPT = "menu_prompt"

    def __init__(
        self,
        user_profile: StatePropertyAccessor,
        services: JourneyServices,
        *,
        sign_in_connection: str | None = None,
    ) -> None:
        super().__init__(MainDialog.__name__, user_profile, services)
        self._services = services
        # Single sign-on before a journey, when the identity service knows users by token only.
        self._sign_in = (
            SignInDialog(services, sign_in_connection)
            if sign_in_connection and services.identity.requires_sign_in
            else None
        )
        if self._sign_in is not None:
            self.add_dialog(self._sign_in)
        self.add_dialog(LocalizedTextPrompt(self.MENU_PROMPT, self._recognize_menu))
        self._journeys: dict[Intent, Dialog] = {
            Intent.CREATE_ACCOUNT: CreateAccountDialog(services),
            Intent.RENEW_OR_UPGRADE: RenewOrUpgradeDialog(services),
            Intent.RENEW: RenewDialog(services),
            Intent.UPGRADE: (benefits := BenefitsDialog(services)),
            Intent.ACCEPT_AGREEMENT: AgreementDialog(services),
            Intent.ADMIN_AGENT: AdminAgentDialog(services),
            Intent.VERIFY_CONTACT: VerifyContactDialog(services),
            Intent.STATUS: StatusDialog(services),
            Intent.BENEFITS: benefits,
        }
        for journey in {id(journey): journey for journey in self._journeys.values()}.values():
            self.add_dialog(journey)
        steps = [self.menu_step, self.route_step, self.journey_step, self.loop_step]
        self.add_dialog(Waterfall("main", steps))
        self.initial_dialog_id = "main"
        # A typed label is accepted in either language (the user may have switched language
        # since the buttons were drawn); a button sends its menu item's ``Intent`` value.
        self._menu = MenuChoices({
            intent: tuple(translator(locale).gettext(label) for locale in Locale)
            for intent, label in MENU_LABELS.items()
        })  # fmt: skip

    async def on_begin_dialog(self, inner_dc: DialogContext, options: object) -> DialogTurnResult:
        """Start the conversation, acting on its first message when it already says what."""
        begin: dict[str, Any] = dict(options) if isinstance(options, dict) else {}
        activity = inner_dc.context.activity
        if (action := card_action(activity)) is not None and (
            reminder := reminder_action(activity.value)
        ) is not None:
            # A renewal reminder's button: answer it, then offer the menu.
            await self.answer_reminder_action(inner_dc.context, reminder)
            intent = choice = None
            begin.update(welcome=False)
        elif action is not None and (handoff := handoff_action(activity.value)) is not None:
            # The help desk's "Cancel the request", or a rating after the help.
            await answer_handoff_action(inner_dc.context, self._services, handoff)
            intent = choice = None
            begin.update(welcome=False)
        elif action is not None and _shortcut(action) is not None:
            # "Activate" on an earlier benefits card (activating twice activates once), or
            # "Activate and manage benefits" on the payment notice.
            intent = choice = None
            begin.update(welcome=False, choice=action)
        elif action is not None:
            # A button on a card from before (a notice, an earlier conversation).
            intent = next((i for i in Intent if i.value == action), None)
            choice = intent if intent in JOURNEY_LABELS else None
        elif activity.type == ActivityTypes.message and activity.text:
            intent = recognize_interruption(activity.text)
            choice = self._menu.recognize(activity.text)
        else:
            intent = choice = None
        match intent:
            case Intent.ENGLISH:
                await save_locale(self._user_profile, inner_dc.context, Locale.EN_US)
            case Intent.CHINESE:
                await save_locale(self._user_profile, inner_dc.context, Locale.ZH_TW)
            case _ if choice is not None:
                begin.update(welcome=False, choice=choice.value)
        return await super().on_begin_dialog(inner_dc, begin)

    def restart_at(self, stack: list[str]) -> dict[str, Any]:
        """The options that begin this dialog again at the journey of a saved ``stack`` (its
        dialogs' ids, outermost first; the innermost journey), or at the menu when no journey
        was under way."""
        intents = {dialog.id: intent for intent, dialog in self._journeys.items()}
        intent = next((intents[i] for i in reversed(stack) if i in intents), None)
        return {"welcome": False, **({"choice": intent.value} if intent is not None else {})}

    def journey_of(self, action: str) -> str | None:
        """The id of the journey dialog a button's ``action`` starts, if it starts one."""
        intent = next((i for i in self._journeys if i.value == action), None)
        return self._journeys[intent].id if intent is not None else None

    async def menu_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Greet a newcomer, then offer the menu (unless the choice is already known)."""
        options: dict[str, Any] = step.options if isinstance(step.options, dict) else {}
        if options.get("welcome", True):
            await step.context.send_activity(texts(step.context).gettext(WELCOME_TEXT))
        if "choice" in options:
            return await step.next(options["choice"])
        return await step.prompt(
            self.MENU_PROMPT,
            ask(
                N_("What would you like to do? Pick an option or type its number."),
                retry=N_(
                    "Sorry, I didn't catch that. Pick one of the options below, "
                    "or type its number (1 to {last})."
                ),
                choices=[Option(intent, label) for intent, label in MENU_LABELS.items()],
                last=len(MENU),
            ),
        )

    async def route_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Sign the user in first when a journey needs to know them and cannot yet."""
        if (shortcut := _shortcut(step.result)) is not None:
            intent = Intent.BENEFITS
            step.values["journey_options"] = shortcut
        else:
            intent = Intent(step.result)
        step.values["intent"] = intent.value
        if (
            self._sign_in is not None
            and intent in self._journeys
            and await self._services.user(step.context) is None
        ):
            return await step.begin_dialog(self._sign_in.id)
        return await step.next(True)

    async def journey_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Start the chosen journey, or say honestly that it is not built yet."""
        t = texts(step.context)
        intent = Intent(step.values["intent"])
        if step.result is False:  # the sign-in did not complete; the user was told why
            return await step.next(None)
        if (journey := self._journeys.get(intent)) is not None:
            options = step.values.get("journey_options")
            if intent is Intent.UPGRADE:
                options = {"path": "upgrade"}
            return await step.begin_dialog(journey.id, options)
        if intent is Intent.HELP:
            await step.context.send_activity(t.gettext(HELP_TEXT))
        elif intent is Intent.HUMAN:
            await ask_for_person(step.context, self._services, reason_of(step.context))
        return await step.next(None)

    async def loop_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Offer what the user set out to do, if the journey just done made it possible; then
        come back to the menu."""
        if Intent(step.values["intent"]) in _MAY_COMPLETE_A_GOAL:
            await self._offer_goal(step.context)
        return await step.replace_dialog(self.initial_dialog_id, {"welcome": False})

    async def _offer_goal(self, context: TurnContext) -> None:
        user = await self._services.user(context)
        if user is None or (organization_id := await self._services.organization_of(user)) is None:
            return
        goal = await self._services.membership.goal(organization_id, user.id)
        if goal is None:
            return
        status = await self._services.membership.status(organization_id)
        if status.ready_for(goal):
            t = texts(context)
            text = t.gettext(GOAL_READY[goal], organization=status.legal_name)
            await context.send_activity(message(continue_card(t, text, GOAL_JOURNEYS[goal])))

    async def _recognize_menu(self, prompt: PromptValidatorContext) -> bool:
        if (action := card_action(prompt.context.activity)) is not None and _shortcut(
            action
        ) is not None:
            prompt.recognized.value = action
            return True
        if action is not None:
            intent: Intent | None = next((i for i in JOURNEY_LABELS if i.value == action), None)
        elif prompt.recognized.succeeded:
            intent = self._menu.recognize(prompt.recognized.value)
        else:
            intent = None
        if intent is None:
            return False
        prompt.recognized.value = intent.value
        return True


# Journeys that may do the last step a goal waited for (the account's steps; a renewal, which an
# upgrade of an expired membership waits for).
_MAY_COMPLETE_A_GOAL = frozenset({
    Intent.CREATE_ACCOUNT, Intent.ACCEPT_AGREEMENT, Intent.VERIFY_CONTACT, Intent.ADMIN_AGENT,
    Intent.RENEW, Intent.RENEW_OR_UPGRADE,
})  # fmt: skip
GOAL_READY = {
    Goal.RENEW: N_(
        "Everything renewing needs is done: {organization} can renew its membership now."
    ),
    Goal.UPGRADE: N_(
        "Everything upgrading needs is done: {organization} can upgrade its membership now."
    ),
    Goal.BUY: N_("Everything buying needs is done: {organization} can buy offers now."),
}


def _shortcut(action: object) -> dict[str, Any] | None:
    """Where in the benefits a button from an earlier card leads, if it is one of theirs:
    ``activate.<id>`` activates that benefit, ``benefits.manage`` lists the benefits."""
    if action == MANAGE_BENEFITS:
        return {"path": "manage"}
    if isinstance(action, str) and action.startswith(ACTIVATE_PREFIX):
        benefit_id = action.removeprefix(ACTIVATE_PREFIX)
        if benefit_id.isdigit():
            return {"activate": int(benefit_id)}
    return None
