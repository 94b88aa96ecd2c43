"""Interruptions in one place: help, cancel, start over, language and a person, at any step.

The renewal reminder's "Remind me later" and "Stop these reminders", and the status card's
"Turn reminders back on", are answered here too: their cards stay in the chat, and a click on
one may come while any journey waits for something else (or start a conversation); so are the
help desk's "Cancel the request" and the rating of the help (``dialogs/handoff_dialog.py``).
Asking for a person keeps the step: it is asked again once the request is made.

The root dialog derives from ``InterruptibleDialog``; because a component dialog sees every
message before the dialog it is running, an interruption is caught here whatever step,
journey or prompt is active, and no step ever checks for one.
"""

from __future__ import annotations

from botbuilder.core import StatePropertyAccessor, TurnContext
from botbuilder.dialogs import DialogContext, DialogTurnResult, DialogTurnStatus
from botbuilder.schema import ActivityTypes

from dialogs.cards import Option, ReminderAction, card_action
from dialogs.contexts import Component
from dialogs.handoff_dialog import (
    answer_handoff_action,
    ask_for_person,
    handoff_action,
    reason_of,
    stack_ids,
    where_in,
)
from dialogs.intents import Intent, recognize_interruption
from dialogs.journey_dialog import not_in_directory
from dialogs.people import JourneyServices
from dialogs.prompts import ask, render
from dialogs.texts import save_locale, texts, time_zone
from services.i18n import N_, Locale

__all__ = ["HELP_TEXT", "InterruptibleDialog", "reminder_action"]

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
                await inner_dc.cancel_all_dialogs()
                await inner_dc.context.send_activity(
                    t.gettext("OK, I've stopped that. Anything you saved is kept.")
                )
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
