"""Interruptions in one place: help, cancel, start over and language, at any step.

The root dialog derives from ``InterruptibleDialog``; because a component dialog sees every
message before the dialog it is running, an interruption is caught here whatever step,
journey or prompt is active, and no step ever checks for one.
"""

from __future__ import annotations

from botbuilder.core import StatePropertyAccessor
from botbuilder.dialogs import ComponentDialog, DialogContext, DialogTurnResult, DialogTurnStatus
from botbuilder.schema import ActivityTypes

from dialogs.cards import Option, card_action
from dialogs.intents import Intent, recognize_interruption
from dialogs.prompts import ask, render
from dialogs.texts import save_locale, texts
from services.i18n import N_, Locale

__all__ = ["HELP_TEXT", "InterruptibleDialog"]

# What a button may interrupt with (the menu's Help, the language card's languages).
_BY_BUTTON = (
    Intent.HELP, Intent.CANCEL, Intent.START_OVER, Intent.LANGUAGE, Intent.ENGLISH, Intent.CHINESE,
)  # fmt: skip
# Each language is named in its own words, whatever the language of the moment.
_LANGUAGES = (Option(Intent.ENGLISH, "English"), Option(Intent.CHINESE, "繁體中文"))

HELP_TEXT = N_(
    "I guide Microsoft Partner Network members through their membership: creating the Partner "
    "Center account, renewing or upgrading, verifying the primary contact, accepting the "
    "partner agreement, buying and activating benefits, and checking the membership status.\n\n"
    "At any step you can type: **help** (this message), **cancel** (stop what we are doing; "
    "saved progress is kept), **start over**, or **language** (English / 繁體中文)."
)


class InterruptibleDialog(ComponentDialog):
    """A component dialog that answers the interruptions before its active step sees them."""

    def __init__(self, dialog_id: str, user_profile: StatePropertyAccessor) -> None:
        super().__init__(dialog_id)
        self._user_profile = user_profile

    async def on_continue_dialog(self, inner_dc: DialogContext) -> DialogTurnResult:
        """Handle an interruption, or let the active dialog continue."""
        activity = inner_dc.context.activity
        if activity.type == ActivityTypes.message:
            if (action := card_action(activity)) is not None:
                # A click is read by its action, never by the label Teams sends along.
                intent = next((i for i in _BY_BUTTON if i.value == action), None)
            else:
                intent = recognize_interruption(activity.text)
            if intent is not None:
                return await self._interrupt(inner_dc, intent)
        return await super().on_continue_dialog(inner_dc)

    async def _interrupt(self, inner_dc: DialogContext, intent: Intent) -> DialogTurnResult:
        t = texts(inner_dc.context)
        match intent:
            case Intent.HELP:
                await inner_dc.context.send_activity(t.gettext(HELP_TEXT))
                await inner_dc.reprompt_dialog()
            case Intent.CANCEL:
                await inner_dc.cancel_all_dialogs()
                await inner_dc.context.send_activity(
                    t.gettext("OK, I've stopped that. Anything you saved is kept.")
                )
                return await inner_dc.begin_dialog(self.initial_dialog_id, {"welcome": False})
            case Intent.START_OVER:
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
        return DialogTurnResult(DialogTurnStatus.Waiting)
