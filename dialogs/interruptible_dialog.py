"""Interruptions in one place: help, cancel, start over, language, a person, and greetings and
thanks (answered in kind), at any step.

The renewal reminder's "Remind me later" and "Stop these reminders", and the status card's
"Turn reminders back on", are answered here too: their cards stay in the chat, and a click on
one may come while any journey waits for something else (or start a conversation); so are the
help desk's "Cancel the request" and the rating of the help (``dialogs/handoff_dialog.py``).
Asking for a person keeps the step: it is asked again once the request is made. Cancel while
a request for a person waits stops what was under way, then asks whether to withdraw the
request too.

The root dialog derives from ``InterruptibleDialog``; because a component dialog sees every
message before the dialog it is running, an interruption is caught here whatever step,
journey or prompt is active, and no step ever checks for one.
"""

from __future__ import annotations

from botbuilder.core import StatePropertyAccessor, TurnContext
from botbuilder.dialogs import (
    DialogContext,
    DialogTurnResult,
    DialogTurnStatus,
    WaterfallStepContext,
)
from botbuilder.schema import ActivityTypes

# The module for its options: an imported ``Option`` would count as this module's own.
from dialogs import handoff_dialog
from dialogs.cards import Option, ReminderAction, card_action
from dialogs.contexts import Component
from dialogs.handoff_dialog import (
    answer_handoff_action,
    ask_for_person,
    handoff_action,
    reason_of,
    stack_ids,
    where_in,
    withdraw_request,
)
from dialogs.intents import Intent, recognize_interruption
from dialogs.journey_dialog import not_in_directory
from dialogs.people import JourneyServices
from dialogs.prompts import OptionPrompt, ask, render
from dialogs.texts import save_locale, texts, time_zone
from dialogs.waterfall import Waterfall
from services.i18n import N_, Locale

__all__ = ["GREETED", "HELP_TEXT", "STOPPED", "THANKED", "InterruptibleDialog", "reminder_action"]

# What a button may interrupt with (the menu's Help, the language card's languages).
_BY_BUTTON = (
    Intent.HELP, Intent.CANCEL, Intent.START_OVER, Intent.LANGUAGE, Intent.ENGLISH, Intent.CHINESE,
    Intent.HUMAN,
)  # fmt: skip
# Each language is named in its own words, whatever the language of the moment.
_LANGUAGES = tuple(
    Option(intent, {locale.value: name for locale in Locale})
    for intent, name in ((Intent.ENGLISH, "English"), (Intent.CHINESE, "繁體中文"))
)
_WITHDRAW = "withdraw"  # cancel while a request for a person waits: withdraw it too?
STOPPED = N_("OK, I've stopped that. Anything you saved is kept.")
GREETED = N_("Hello! Here is where we are:")
THANKED = N_("You're welcome! Here is where we are:")

HELP_TEXT = N_(
    "I guide Microsoft Partner Network members through their membership: creating the Partner "
    "Center account, renewing or upgrading, verifying the primary contact, accepting the "
    "partner agreement, buying and activating benefits, and checking the membership status.\n\n"
    "At any step you can type: **help** (this message), **cancel** (stop what we are doing; "
    "saved progress is kept), **start over**, or **language** (English / 繁體中文)."
)


class InterruptibleDialog(Component):
    """A component dialog that answers the interruptions before its active step sees them."""

    def __init__(
        self,
        dialog_id: str,
        user_profile: StatePropertyAccessor,
        services: JourneyServices | None = None,
    ) -> None:
        super().__init__(dialog_id)
        self._user_profile = user_profile
        self._reminder_services = services
        self.add_dialog(
            OptionPrompt(
                "withdraw_request",
                yes=handoff_dialog.WITHDRAW_REQUEST,
                no=handoff_dialog.KEEP_REQUEST,
            )
        )
        self.add_dialog(Waterfall(_WITHDRAW, [self.withdraw_step, self.withdrawn_step]))

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        """Handle an interruption, or let the active dialog continue."""
        activity = inner_dc.context.activity
        if activity.type == ActivityTypes.message:
            if (reminder := reminder_action(activity.value)) is not None:
                await self.answer_reminder_action(inner_dc.context, reminder)
                await inner_dc.reprompt_dialog()
                return DialogTurnResult(DialogTurnStatus.Waiting)
            if (handoff := handoff_action(activity.value)) is not None:
                await answer_handoff_action(inner_dc.context, self._reminder_services, handoff)
                await inner_dc.reprompt_dialog()
                return DialogTurnResult(DialogTurnStatus.Waiting)
            if (action := card_action(activity)) is not None:
                if self._under_way(inner_dc, action):
                    # A button for the journey already under way (a reminder's "Renew now"
                    # while the renewal question is open): that question goes on.
                    await inner_dc.reprompt_dialog()
                    return DialogTurnResult(DialogTurnStatus.Waiting)
                # A click is read by its action, never by the label Teams sends along.
                intent = next((i for i in _BY_BUTTON if i.value == action), None)
            else:
                intent = recognize_interruption(activity.text)
            if intent is not None:
                return await self._interrupt(inner_dc, intent)
        return await super().on_continue_dialog(inner_dc)

    def journey_of(self, action: str) -> str | None:
        """The id of the journey dialog a button's ``action`` starts, if it starts one."""
        return None

    def _under_way(self, inner_dc: DialogContext, action: str) -> bool:
        journey = self.journey_of(action)
        return journey is not None and journey in stack_ids(inner_dc)

    async def _interrupt(self, inner_dc: DialogContext, intent: Intent) -> DialogTurnResult:
        t = texts(inner_dc.context)
        match intent:
            case Intent.HELP:
                await inner_dc.context.send_activity(t.gettext(HELP_TEXT))
                await inner_dc.reprompt_dialog()
            case Intent.CANCEL:
                await self._drop_goals(inner_dc.context)
                asked = any(instance.id == _WITHDRAW for instance in inner_dc.stack)
                await inner_dc.cancel_all_dialogs()
                await inner_dc.context.send_activity(t.gettext(STOPPED))
                desk = self._reminder_services.help_desk if self._reminder_services else None
                if not asked and desk is not None:
                    if (ticket := await desk.waiting(inner_dc.context)) is not None:
                        return await inner_dc.begin_dialog(_WITHDRAW, {"number": ticket.number})
                return await inner_dc.begin_dialog(self.initial_dialog_id, {"welcome": False})
            case Intent.START_OVER:
                await self._drop_goals(inner_dc.context)
                await inner_dc.cancel_all_dialogs()
                return await inner_dc.begin_dialog(self.initial_dialog_id, {"welcome": True})
            case Intent.LANGUAGE:
                question = ask(N_("Which language would you like me to use?"), choices=_LANGUAGES)
                await inner_dc.context.send_activity(
                    render(inner_dc.context, question.validations, is_retry=False)
                )
            case Intent.ENGLISH | Intent.CHINESE:
                locale = Locale.EN_US if intent is Intent.ENGLISH else Locale.ZH_TW
                await save_locale(self._user_profile, inner_dc.context, locale)
                await inner_dc.context.send_activity(
                    texts(inner_dc.context).gettext("OK, I'll speak English from now on.")
                )
                await inner_dc.reprompt_dialog()
            case Intent.GREETING | Intent.THANKS:
                # Small talk is answered in kind; the question it interrupted comes again.
                answer = GREETED if intent is Intent.GREETING else THANKED
                await inner_dc.context.send_activity(t.gettext(answer))
                await inner_dc.reprompt_dialog()
            case Intent.HUMAN:
                journey, step = where_in(inner_dc)
                await ask_for_person(
                    inner_dc.context,
                    self._reminder_services,
                    reason_of(inner_dc.context),
                    journey=journey,
                    step=step,
                )
                await inner_dc.reprompt_dialog()
        return DialogTurnResult(DialogTurnStatus.Waiting)

    async def withdraw_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Ask whether the request for a person that waits is to be withdrawn too."""
        number = dict(step.options)["number"]
        return await step.prompt(
            "withdraw_request",
            ask(
                handoff_dialog.WITHDRAW_QUESTION,
                choices=[handoff_dialog.WITHDRAW_REQUEST, handoff_dialog.KEEP_REQUEST],
                number=number,
            ),
        )

    async def withdrawn_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Withdraw it, or keep it; then the menu."""
        if step.result == handoff_dialog.WITHDRAW_REQUEST.action:
            await withdraw_request(step.context, self._reminder_services)
        else:
            await step.context.send_activity(
                texts(step.context).gettext(
                    "OK, your request {number} stays in the queue.",
                    number=dict(step.options)["number"],
                )
            )
        return await step.replace_dialog(self.initial_dialog_id, {"welcome": False})

    async def _drop_goals(self, context: TurnContext) -> None:
        """The user stopped: what they set out to do (a renewal waiting on the setup) goes too."""
        services = self._reminder_services
        if services is not None and (user := await services.user(context)) is not None:
            await services.membership.drop_goals(user.id)

    async def answer_reminder_action(self, context: TurnContext, action: ReminderAction) -> None:
        """Snooze, stop or resume the user's reminders of the organization the card is about."""
        t = texts(context)
        services = self._reminder_services
        if services is None or services.reminders is None:
            await context.send_activity(t.gettext("Renewal reminders are not available here."))
            return
        user = await services.user(context)
        if user is None:
            await context.send_activity(not_in_directory(context))
            return
        organization_id = await services.organization_of(user)
        named = context.activity.value.get("organization_id")
        if organization_id is None or (named and named != organization_id):
            # A card forwarded from someone else's chat, or the user moved organization.
            await context.send_activity(
                t.gettext("That reminder is about another organization: I can't change it here.")
            )
            return
        match action:
            case ReminderAction.SNOOZE:
                until = await services.reminders.snooze(user.id, organization_id)
                day = until.astimezone(time_zone(context)).date().isoformat()
                text = t.gettext("OK, I'll remind you again on {date}.", date=day)
            case ReminderAction.STOP:
                await services.reminders.stop(user.id, organization_id)
                text = t.gettext(
                    "OK, you won't get these reminders any more. You can turn them back on "
                    "from the status card."
                )
            case ReminderAction.RESUME:
                await services.reminders.resume(user.id, organization_id)
                text = t.gettext("OK, the renewal reminders are back on.")
        await context.send_activity(text)


def reminder_action(value: object) -> ReminderAction | None:
    """The reminder button a card sent (its ``action``), if it is one."""
    action = value.get("action") if isinstance(value, dict) else None
    return next((known for known in ReminderAction if known.value == action), None)
