"""The last lines of a chat, kept in conversation state for the help desk's tickets."""

from __future__ import annotations

import json

import pytest
from botbuilder.core import ConversationState, MemoryStorage, TurnContext
from botbuilder.core.adapters import TestAdapter

from bot.transcript import TranscriptRecorder

LINES = [
    ["2026-11-24T09:00:00+00:00", "user", "renew"],
    ["2026-11-24T09:00:01+00:00", "bot", "Renew Contoso?"],
]
# What earlier versions kept: a list of objects, then one JSON text of the lines.
OLDER_FORMS = [
    [{"at": at, "sender": sender, "text": text} for at, sender, text in LINES],
    json.dumps(LINES),
]


@pytest.mark.parametrize("older", OLDER_FORMS, ids=["objects", "json-text"])
async def test_the_last_lines_survive_the_turn_and_an_older_states_lines_read_the_same(
    older: object,
) -> None:
    storage = MemoryStorage()
    conversation_state = ConversationState(storage)
    recorder = TranscriptRecorder(conversation_state, kept=3)
    seen: list[list[tuple[str, str]]] = []

    async def turn(context: TurnContext) -> None:
        await recorder.record(context)
        await context.send_activity(f"You said {context.activity.text}")
        seen.append([(line.sender, line.text) for line in await recorder.lines(context)])
        await conversation_state.save_changes(context)

    adapter = TestAdapter(turn)
    key = f"{adapter.template.channel_id}/conversations/{adapter.template.conversation.id}"
    await storage.write({key: {"Transcript": older}})

    await adapter.send("yes")
    await adapter.send("menu")

    # The older list of objects was read, and the newest three lines are kept as they come.
    assert seen[0] == [("bot", "Renew Contoso?"), ("user", "yes"), ("bot", "You said yes")]
    assert seen[1] == [("bot", "You said yes"), ("user", "menu"), ("bot", "You said menu")]
