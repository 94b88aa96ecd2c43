"""The last lines of a chat, kept in conversation state for the help desk's tickets."""

from __future__ import annotations

from botbuilder.core import ConversationState, MemoryStorage, TurnContext
from botbuilder.core.adapters import TestAdapter

from bot.transcript import TranscriptRecorder

OLDER_STATE = {
    "Transcript": [
        {"at": "2026-11-24T09:00:00+00:00", "sender": "user", "text": "renew"},
        {"at": "2026-11-24T09:00:01+00:00", "sender": "bot", "text": "Renew Contoso?"},
    ]
}


async def test_the_last_lines_survive_the_turn_and_an_older_states_lines_read_the_same():
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
    await storage.write({key: dict(OLDER_STATE)})

    await adapter.send("yes")
    await adapter.send("menu")

    # The older list of objects was read, and the newest three lines are kept as they come.
    assert seen[0] == [("bot", "Renew Contoso?"), ("user", "yes"), ("bot", "You said yes")]
    assert seen[1] == [("bot", "You said yes"), ("user", "menu"), ("bot", "You said menu")]
