"""Prompts whose words are rendered when they are shown, in the language of that moment.

Stock prompts keep the already-rendered activity in dialog state, so a re-prompt after the
user switches language would repeat the old language. These prompts keep the English source
string (and its values and choices) instead and translate it each time they speak.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.dialogs.prompts import PromptOptions, TextPrompt
from botbuilder.schema import ActionTypes, Activity, CardAction, HeroCard, InputHints

from dialogs.texts import texts

__all__ = ["LocalizedTextPrompt", "ask"]


def ask(
    text: str,
    *,
    retry: str | None = None,
    choices: list[str] | None = None,
    **values: Any,
) -> PromptOptions:
    """Build prompt options from English source strings (``choices`` become buttons)."""
    spec = {"text": text, "retry": retry, "choices": list(choices or []), "values": values}
    # No rendered Activity is kept in dialog state: it would be re-serialized (and re-hashed
    # by BotState) on every turn, and it would be in the wrong language after a switch.
    return PromptOptions(validations=spec)


def render(context: TurnContext, spec: dict[str, Any], *, is_retry: bool) -> Activity:
    """Render a prompt spec as a message in the turn's language."""
    t = texts(context)
    source = spec["retry"] if is_retry and spec.get("retry") else spec["text"]
    text = t.gettext(source, **spec.get("values", {}))
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
