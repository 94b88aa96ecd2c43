"""``Waterfall``: the SDK's waterfall, with run ids drawn without a system call."""

from __future__ import annotations

import uuid
from typing import Any

from botbuilder.core import (
    ConversationState,
    MemoryStorage,
    NullTelemetryClient,
    TurnContext,
)
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import (
    DialogSet,
    DialogTurnResult,
    DialogTurnStatus,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.prompts import PromptOptions, TextPrompt
from botbuilder.schema import Activity

from dialogs.waterfall import Waterfall
from tests.support.chat import build_bot, dialog_tree


class Telemetry(NullTelemetryClient):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, dict[str, Any]]] = []

    def track_event(self, name: str, properties: dict[str, Any] | None = None, *_: Any) -> None:
        self.events.append((name, dict(properties or {})))


async def test_a_run_keeps_its_options_and_values_and_each_run_has_its_own_id() -> None:
    seen: list[tuple[object, str, str]] = []

    async def ask(step: WaterfallStepContext) -> DialogTurnResult:
        step.values["asked"] = True
        prompt = PromptOptions(prompt=Activity(type="message", text="Your name?"))
        return await step.prompt("name", prompt)

    async def answer(step: WaterfallStepContext) -> DialogTurnResult:
        state = step.active_dialog.state  # what the SDK keeps for the run
        seen.append((step.options, state["instanceId"], step.result))
        assert step.values == {"asked": True}
        return await step.end_dialog(step.result)

    storage = MemoryStorage()
    conversation = ConversationState(storage)
    dialogs = DialogSet(conversation.create_property("DialogState"))
    telemetry = Telemetry()
    waterfall = Waterfall("ask", [ask, answer])
    waterfall.telemetry_client = telemetry
    dialogs.add(waterfall)
    dialogs.add(TextPrompt("name"))

    async def turn(context: TurnContext) -> None:
        dc = await dialogs.create_context(context)
        result = await dc.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await dc.begin_dialog("ask", {"from": "menu"})
        await conversation.save_changes(context)

    adapter = TestAdapter(turn)
    for name in ("Mei", "Kenji"):
        await (await adapter.send("hi")).assert_reply("Your name?")
        await adapter.send(name)

    assert [(options, answer) for options, _, answer in seen] == [
        ({"from": "menu"}, "Mei"),
        ({"from": "menu"}, "Kenji"),
    ]
    ids = [uuid.UUID(run_id) for _, run_id, _ in seen]
    assert ids[0] != ids[1] and all(run_id.version == 4 for run_id in ids)
    starts = [props for name, props in telemetry.events if name == "WaterfallStart"]
    assert starts == [{"DialogId": "ask", "InstanceId": str(run_id)} for run_id in ids]


def test_every_waterfall_of_the_bot_is_a_waterfall_without_the_system_calls(
    journey_services: Any,
) -> None:
    bot = build_bot(MemoryStorage(), journey_services)

    waterfalls = [d for d in dialog_tree(bot._dialog) if isinstance(d, WaterfallDialog)]

    assert len(waterfalls) > 10
    assert [w.id for w in waterfalls if type(w) is not Waterfall] == []
