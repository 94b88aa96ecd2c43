"""Prompts whose words are rendered when they are shown, in the language of that moment.

Stock prompts keep the already-rendered activity in dialog state, so a re-prompt after the
user switches language would repeat the old language. These prompts keep the English source
string (and its values and options) instead and translate it each time they speak.

A question with options is an Adaptive Card (``cards.choice_card``). An answer is a button's
``action`` first (``cards.card_action``), else typed text; an ``action`` that is not one of the
question's options (a button on an older card) is no answer, and the question is asked again.
The second time in a row an answer is not understood, the question comes with a "Talk to a
person" button (``dialogs/handoff_dialog.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs.prompts import (
    PromptOptions,
    PromptRecognizerResult,
    PromptValidatorContext,
    TextPrompt,
)
from botbuilder.schema import Activity, InputHints

from dialogs.cards import (
    Option,
    Words,
    card_action,
    choice_card,
    every_language,
    in_words,
    message,
)
from dialogs.intents import fold, recognize_yes_no
from dialogs.texts import texts
from services.handoff import TicketReason

__all__ = ["LocalizedTextPrompt", "OptionPrompt", "ask", "options_of", "render"]

_OFFER_PERSON_AFTER = 2  # answers not understood in a row before a person is offered


def ask(
    text: str,
    *,
    retry: str | None = None,
    choices: Sequence[Option] = (),
    translate: dict[str, Words] | None = None,
    **values: Any,
) -> PromptOptions:
    """Build prompt options from English source strings (``choices`` become buttons).

    ``values`` fill the text's placeholders as they are; ``translate`` fills them with words
    put in the language of the moment whenever the prompt speaks: a source string (a tier's
    name, a step's name) or a text given in each language (a catalog offer's name).
    """
    spec = {
        "text": text,
        "retry": retry,
        # Plain dicts: dialog state is serialized.
        "choices": [{"action": str(c.action), "label": _plain(c.label)} for c in choices],
        "values": values,
        "translate": {key: _plain(words) for key, words in (translate or {}).items()},
    }
    # No rendered Activity is kept in dialog state: it would be re-serialized (and re-hashed
    # by BotState) on every turn, and it would be in the wrong language after a switch.
    return PromptOptions(validations=spec)


def _plain(words: Words) -> str | dict[str, str]:
    return words if isinstance(words, str) else dict(words)


def options_of(spec: object) -> list[Option]:
    """The options of a prompt spec built by ``ask``."""
    choices = spec.get("choices", []) if isinstance(spec, dict) else []
    return [Option(choice["action"], choice["label"]) for choice in choices]


def render(
    context: TurnContext, spec: dict[str, Any], *, is_retry: bool, offer_person: bool = False
) -> Activity:
    """Render a prompt spec as a message in the turn's language (``offer_person``: with a
    "Talk to a person" button, for an answer not understood twice in a row)."""
    t = texts(context)
    source = spec["retry"] if is_retry and spec.get("retry") else spec["text"]
    values = dict(spec.get("values", {}))
    values.update({key: in_words(t, word) for key, word in spec.get("translate", {}).items()})
    text = t.gettext(source, **values)
    options = options_of(spec)
    if not options and not offer_person:
        return MessageFactory.text(text, input_hint=InputHints.expecting_input)
    reason = TicketReason.VALIDATION.value if offer_person else None
    card = choice_card(t, text, options, person_reason=reason)
    return message(card, input_hint=InputHints.expecting_input)


class LocalizedTextPrompt(TextPrompt):
    """A text prompt that speaks the turn's language, first time and every retry.

    A button's click is not typed text: its ``text`` (Teams sends the label along) is not
    taken as the answer; a validator reads the click's ``action`` instead.
    """

    async def on_prompt(
        self,
        turn_context: TurnContext,
        state: dict[str, object],
        options: PromptOptions,
        is_retry: bool,
    ) -> None:
        """Send the prompt, rendered now."""
        if isinstance(options.validations, dict) and "text" in options.validations:
            # Not understood twice in a row: offer a person along with the question.
            stuck = is_retry and options.number_of_attempts >= _OFFER_PERSON_AFTER
            await turn_context.send_activity(
                render(turn_context, options.validations, is_retry=is_retry, offer_person=stuck)
            )
            return
        await super().on_prompt(turn_context, state, options, is_retry)

    async def on_recognize(
        self,
        turn_context: TurnContext,
        state: dict[str, object],
        options: PromptOptions,
    ) -> PromptRecognizerResult:
        """Take the typed text, unless the message is a button's click."""
        if card_action(turn_context.activity) is not None:
            return PromptRecognizerResult()
        return await super().on_recognize(turn_context, state, options)


class OptionPrompt(LocalizedTextPrompt):
    """Ask for one of the spec's options; the result is the chosen option's ``action`` id.

    A click answers with its ``action`` when that is one of the options. Typed text matches an
    option when it is the option's label in any language (the user may have switched language
    since the buttons were drawn); a yes or a no in either language matches the option given
    for it; then a button's number, or a part of one label (or a label inside the reply) when
    only one option fits.
    """

    def __init__(
        self, dialog_id: str, *, yes: Option | None = None, no: Option | None = None
    ) -> None:
        super().__init__(dialog_id, self._recognize)
        self._yes_no = {True: yes, False: no}

    async def _recognize(self, prompt: PromptValidatorContext) -> bool:
        options = options_of(prompt.options.validations)
        actions = {option.action for option in options}
        if (action := card_action(prompt.context.activity)) is not None:
            prompt.recognized.value = action
            return action in actions
        if not prompt.recognized.succeeded:
            return False
        reply = fold(prompt.recognized.value)
        for option in options:
            if reply in {fold(label) for label in every_language(option.label)}:
                prompt.recognized.value = option.action
                return True
        answer = recognize_yes_no(prompt.recognized.value)
        chosen = self._yes_no[answer] if answer is not None else None
        if chosen is not None and chosen.action in actions:
            prompt.recognized.value = chosen.action
            return True
        if (chosen := _by_number_or_part(reply, options)) is not None:
            prompt.recognized.value = chosen.action
            return True
        return False


def _by_number_or_part(reply: str, options: list[Option]) -> Option | None:
    """The option ``reply`` names by its number (1 for the first button), or by a part of its
    label in any language (or the label within a longer reply), when only one option fits."""
    if reply.isdecimal() and 1 <= int(reply) <= len(options):
        return options[int(reply) - 1]
    if len(reply) < 2:
        return None
    fitting = [
        option for option in options
        if any(reply in label or (len(label) >= 2 and label in reply)
               for label in map(fold, every_language(option.label)))
    ]  # fmt: skip
    return fitting[0] if len(fitting) == 1 else None
