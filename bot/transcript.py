"""The last lines of each chat, kept in conversation state for the help desk's tickets.

A request for a person carries what was said just before (``services/handoff.py`` redacts it
when the ticket stores it). The lines live in conversation state, so they survive a restart,
bounded to the last ``kept``; team channels are not recorded (the help desk's own chatter).

They are kept as a list of ``[at, sender, text]`` lists, not of objects: conversation state
is encoded on every turn, and plain lists are what the C encoder writes without calling back
(issue 9, decision 0011). Older states read the same: a list of objects, or one JSON text of
the lists (kept so while the codec walked state in Python).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from botbuilder.core import ConversationState, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ResourceResponse

from bot.proactive import CHANNEL
from services.handoff import TranscriptLine
from services.i18n import unmarked

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
        stored = await self._lines.get(context, list)
        lines = _parse(stored)
        if lines is not stored:  # an older form, or none yet: state holds the lines from now
            await self._lines.set(context, lines)
        turn = _TurnLines(self._kept, lines)
        if activity.type == ActivityTypes.message and (text := _said(activity)):
            turn.keep("user", text)
        context.on_send_activities(turn.on_send)

    async def lines(self, context: TurnContext) -> list[TranscriptLine]:
        """The lines kept for this turn's conversation, oldest first."""
        stored = _parse(await self._lines.get(context, list))
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

    __slots__ = ("_kept", "_lines")

    def __init__(self, kept: int, lines: list[list[str]]) -> None:
        self._kept, self._lines = kept, lines  # the list in conversation state, changed in place

    def keep(self, sender: str, text: str) -> None:
        lines = self._lines
        lines.append([datetime.now(UTC).isoformat(), sender, text[:_LINE_LENGTH]])
        del lines[: -self._kept]

    async def on_send(
        self,
        context: TurnContext,
        activities: list[Activity],
        send: Callable[[], Awaitable[list[ResourceResponse]]],
    ) -> list[ResourceResponse]:
        for sent in activities:
            if sent.type == ActivityTypes.message and (said := _said(sent)):
                self.keep("bot", unmarked(said))
        return await send()


def _parse(stored: Any) -> list[list[str]]:
    """The kept lines: ``stored`` itself when it holds them as lists, else read from an older
    form (one JSON text of them, or a list of objects)."""
    if isinstance(stored, str):
        return list(json.loads(stored)) if stored else []
    if isinstance(stored, list):
        if all(isinstance(line, list) for line in stored):
            return stored
        return [[line["at"], line["sender"], line["text"]] for line in stored]
    return []
