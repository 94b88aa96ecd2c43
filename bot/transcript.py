"""The last lines of each chat, kept in conversation state for the help desk's tickets.

A request for a person carries what was said just before (``services/handoff.py`` redacts it
when the ticket stores it). The lines live in conversation state, so they survive a restart,
bounded to the last ``kept``; team channels are not recorded (the help desk's own chatter).

They are kept as one JSON text (``[[at, sender, text], ...]``), not as a list of objects:
conversation state is encoded on every turn, and a dozen small objects were most of what
there was to walk (issue 9, decision 0011). Older states that hold a list of objects read
the same.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from botbuilder.core import ConversationState, StatePropertyAccessor, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ResourceResponse

from bot.proactive import CHANNEL
from services.handoff import TranscriptLine

__all__ = ["TranscriptRecorder"]

# Kept small: the conversation's state is encoded (and compared) on every turn.
_LINE_LENGTH = 300  # characters of one line kept in state


def _said(activity: Activity) -> str:
    """What a message says: its text, else a card's first text block."""
    if activity.text:
        return str(activity.text)
    for attachment in activity.attachments or []:
        content = attachment.content if isinstance(attachment.content, dict) else {}
        for block in content.get("body") or []:
            if isinstance(block, dict) and block.get("type") == "TextBlock" and block.get("text"):
                return str(block["text"])
    return ""


class TranscriptRecorder:
    """Record each message of a chat, the user's and the bot's, in conversation state."""

    def __init__(self, conversation_state: ConversationState, *, kept: int = 12) -> None:
        self._lines = conversation_state.create_property("Transcript")
        self._kept = kept

    async def record(self, context: TurnContext) -> None:
        """Keep this turn's message, and the bot's replies as they are sent."""
        activity = context.activity
        conversation = activity.conversation
        if conversation is None or conversation.conversation_type == CHANNEL:
            return
        turn = _TurnLines(self._lines, self._kept, _parse(await self._lines.get(context, str)))
        if activity.type == ActivityTypes.message and (text := _said(activity)):
            await turn.keep(context, "user", text)
        context.on_send_activities(turn.on_send)

    async def lines(self, context: TurnContext) -> list[TranscriptLine]:
        """The lines kept for this turn's conversation, oldest first."""
        stored = _parse(await self._lines.get(context, str))
        return [
            TranscriptLine.model_validate({"at": at, "sender": sender, "text": text})
            for at, sender, text in stored
        ]


class _TurnLines:
    """One turn's lines, and the send handler that adds the bot's replies to them.

    The turn context is an argument, never captured: the context holds the handler, and a
    handler holding the context back would make the turn a reference cycle, which only the
    garbage collector frees (issue 9, decision 0011).
    """

    __slots__ = ("_kept", "_lines", "_property")

    def __init__(self, prop: StatePropertyAccessor, kept: int, lines: list[list[str]]) -> None:
        self._property, self._kept, self._lines = prop, kept, lines

    async def keep(self, context: TurnContext, sender: str, text: str) -> None:
        lines = self._lines
        lines.append([datetime.now(UTC).isoformat(), sender, text[:_LINE_LENGTH]])
        del lines[: -self._kept]
        await self._property.set(context, json.dumps(lines, ensure_ascii=False))

    async def on_send(
        self,
        context: TurnContext,
        activities: list[Activity],
        send: Callable[[], Awaitable[list[ResourceResponse]]],
    ) -> list[ResourceResponse]:
        for sent in activities:
            if sent.type == ActivityTypes.message and (said := _said(sent)):
                await self.keep(context, "bot", said)
        return await send()


def _parse(stored: Any) -> list[list[str]]:
    """The kept lines, from their JSON text (or from the list of objects older states hold)."""
    if isinstance(stored, str):
        return list(json.loads(stored)) if stored else []
    if isinstance(stored, list):
        return [[line["at"], line["sender"], line["text"]] for line in stored]
    return []
