"""Prompts whose words are rendered when they are shown, in the language of that moment.

Stock prompts keep the already-rendered activity in dialog state, so a re-prompt after the
user switches language would repeat the old language. These prompts keep the English source
string (and its values and choices) instead and translate it each time they speak.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.dialogs.prompts import PromptOptions, PromptValidatorContext, TextPrompt
from botbuilder.schema import ActionTypes, Activity, CardAction, HeroCard, InputHints

from dialogs.intents import fold, recognize_yes_no
from dialogs.texts import texts
from services.i18n import Locale, translator

__all__ = ["LocalizedTextPrompt", "OptionPrompt", "ask"]


def ask(
    text: str,
    *,
    retry: str | None = None,
    choices: list[str] | None = None,
    translate: dict[str, str] | None = None,
    **values: Any,
) -> PromptOptions:
    """Build prompt options from English source strings (``choices`` become buttons).

    ``values`` fill the text's placeholders as they are; ``translate`` fills them with source
    strings that are translated whenever the prompt speaks (a tier's name, a step's name).
    """
    spec = {
        "text": text,
        "retry": retry,
        "choices": list(choices or []),
        "values": values,
        "translate": dict(translate or {}),
    }
    # No rendered Activity is kept in dialog state: it would be re-serialized (and re-hashed
    # by BotState) on every turn, and it would be in the wrong language after a switch.
    return PromptOptions(validations=spec)


def render(context: TurnContext, spec: dict[str, Any], *, is_retry: bool) -> Activity:
    """Render a prompt spec as a message in the turn's language."""
    t = texts(context)
    source = spec["retry"] if is_retry and spec.get("retry") else spec["text"]
    values = dict(spec.get("values", {}))
    values.update({key: t.gettext(word) for key, word in spec.get("translate", {}).items()})
    text = t.gettext(source, **values)
    if not spec.get("choices"):
        return MessageFactory.text(text, input_hint=InputHints.expecting_input)
    labels = [t.gettext(choice) for choice in spec["choices"]]
    buttons = [CardAction(type=ActionTypes.im_back, title=label, value=label) for label in labels]
    card = CardFactory.hero_card(HeroCard(text=text, buttons=buttons))
    return MessageFactory.attachment(card, input_hint=InputHints.expecting_input)


class LocalizedTextPrompt(TextPrompt):
    """A text prompt that speaks the turn's language, first time and every retry."""

    async def on_prompt(
        self,
        turn_context: TurnContext,
        state: dict[str, object],
        options: PromptOptions,
        is_retry: bool,
    ) -> None:
        """Send the prompt, rendered now."""
        if isinstance(options.validations, dict) and "text" in options.validations:
            await turn_context.send_activity(
                render(turn_context, options.validations, is_retry=is_retry)
            )
            return
        await super().on_prompt(turn_context, state, options, is_retry)


class OptionPrompt(LocalizedTextPrompt):
    """Ask for one of the spec's choices; the result is the choice's English source string.

    A reply matches a choice when it is the choice's label in any language (a button sends
    its label); a yes or a no in either language matches the choice given for it.
    """

    def __init__(self, dialog_id: str, *, yes: str | None = None, no: str | None = None) -> None:
        super().__init__(dialog_id, self._recognize)
        self._yes_no = {True: yes, False: no}

    async def _recognize(self, prompt: PromptValidatorContext) -> bool:
        if not prompt.recognized.succeeded:
            return False
        spec = prompt.options.validations if isinstance(prompt.options.validations, dict) else {}
        reply = fold(prompt.recognized.value)
        for choice in spec.get("choices", []):
            if reply in {fold(translator(locale).gettext(choice)) for locale in Locale}:
                prompt.recognized.value = choice
                return True
        answer = recognize_yes_no(prompt.recognized.value)
        if answer is not None and self._yes_no[answer] in spec.get("choices", []):
            prompt.recognized.value = self._yes_no[answer]
            return True
        return False
