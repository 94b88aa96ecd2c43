"""Lean dialog contexts: the same dialogs, without a memory-scope manager nobody asks for."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botbuilder.core import ConversationState, MemoryStorage, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import (
    ComponentDialog,
    DialogInstance,
    DialogReason,
    DialogState,
    DialogTurnResult,
    DialogTurnStatus,
    WaterfallStepContext,
)
from botbuilder.dialogs.memory import DialogStateManager
from botbuilder.dialogs.prompts import PromptOptions, TextPrompt
from botbuilder.schema import Activity

from dialogs.contexts import Component, LeanDialogContext, LeanDialogSet
from dialogs.waterfall import Waterfall
from tests.support.chat import Chat, build_bot, dialog_tree


@contextmanager
def _cyclic_garbage() -> Iterator[list[Any]]:
    """What the collector finds unreachable, in reference cycles, while the block runs."""
    found: list[Any] = []
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found.extend(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


async def test_journey_turns_leave_no_dialog_context_for_the_garbage_collector(
    journey_services: Any,
) -> None:
    chat = Chat(MemoryStorage(), journey_services, locale="zh-TW")
    await chat.join()

    with _cyclic_garbage() as garbage:
        status = await chat.say("7")  # a component journey, begun and ended, then the menu
        retry = await chat.say("menu")  # a prompt's retry
        help_text = await chat.say("help")  # an interruption

    assert status and retry and help_text  # the turns answered
    # (The test adapter's own turn context is in a cycle of the SDK's, with what it holds.)
    contexts = (DialogStateManager, LeanDialogContext, WaterfallStepContext)
    assert [type(item).__name__ for item in garbage if isinstance(item, contexts)] == []


async def test_a_lean_context_still_has_its_memory_scopes_when_asked() -> None:
    adapter = TestAdapter()
    context = TurnContext(adapter, Activity(type="message", text="hi", channel_id="test"))
    dialogs = LeanDialogSet(ConversationState(MemoryStorage()).create_property("DialogState"))
    dialog_context = LeanDialogContext(dialogs, context, DialogState())

    manager = dialog_context.state

    assert isinstance(manager, DialogStateManager)
    assert dialog_context.state is manager  # built once
    assert {"turn", "dialog", "conversation", "user"} <= set(manager.keys)
    assert manager.get_memory_snapshot() is not None  # its scopes read this context


def test_every_component_dialog_of_the_bot_has_lean_inner_contexts(journey_services: Any) -> None:
    bot = build_bot(MemoryStorage(), journey_services)

    components = [d for d in dialog_tree(bot._dialog) if isinstance(d, ComponentDialog)]

    assert len(components) > 5
    assert [c.id for c in components if not isinstance(c, Component)] == []
    assert isinstance(bot._dialogs, LeanDialogSet)


class _Asking(Component):
    """A component around a two-step waterfall, noting what its hooks see."""

    def __init__(self, seen: list[str]) -> None:
        super().__init__("asking")
        self.seen = seen

        async def ask(step: WaterfallStepContext) -> DialogTurnResult:
            seen.append(type(step).__name__)
            prompt = PromptOptions(prompt=Activity(type="message", text="Your name?"))
            return await step.prompt("name", prompt)

        async def thank(step: WaterfallStepContext) -> DialogTurnResult:
            await step.context.send_activity(f"Thanks, {step.result}.")
            return await step.end_dialog(step.result)

        self.add_dialog(Waterfall("steps", [ask, thank]))
        self.add_dialog(TextPrompt("name"))

    async def on_reprompt_dialog(self, turn_context: TurnContext, instance: DialogInstance) -> None:
        self.seen.append("reprompted")

    async def on_end_dialog(
        self, context: TurnContext, instance: DialogInstance, reason: DialogReason
    ) -> None:
        self.seen.append(f"ended: {reason}")


async def test_a_component_begins_continues_reprompts_and_cancels_as_the_sdks_does() -> None:
    seen: list[str] = []
    conversation = ConversationState(MemoryStorage())
    dialogs = LeanDialogSet(conversation.create_property("DialogState"))
    dialogs.add(_Asking(seen))
    finished: list[object] = []

    async def turn(context: TurnContext) -> None:
        dc = await dialogs.create_context(context)
        if context.activity.text == "again":
            await dc.reprompt_dialog()
        elif context.activity.text == "stop":
            await dc.cancel_all_dialogs()
        else:
            result = await dc.continue_dialog()
            if result.status == DialogTurnStatus.Empty:
                await dc.begin_dialog("asking")
            elif result.status == DialogTurnStatus.Complete:
                finished.append(result.result)
        await conversation.save_changes(context)

    adapter = TestAdapter(turn)
    await (await adapter.send("hi")).assert_reply("Your name?")
    await (await adapter.send("again")).assert_reply("Your name?")
    await (await adapter.send("Mei")).assert_reply("Thanks, Mei.")
    await (await adapter.send("hi")).assert_reply("Your name?")
    await adapter.send("stop")

    assert finished == ["Mei"]
    assert seen == [
        "LeanStepContext",
        "reprompted",
        "ended: DialogReason.EndCalled",
        "LeanStepContext",
        "ended: DialogReason.CancelCalled",
    ]


async def test_a_component_cannot_begin_a_dialog_that_only_its_parent_holds() -> None:
    class Outer(Component):
        def __init__(self) -> None:
            super().__init__("outer")

            async def reach(step: WaterfallStepContext) -> DialogTurnResult:
                return await step.begin_dialog("parents_prompt")

            self.add_dialog(Waterfall("steps", [reach]))

    conversation = ConversationState(MemoryStorage())
    dialogs = LeanDialogSet(conversation.create_property("DialogState"))
    dialogs.add(Outer())
    dialogs.add(TextPrompt("parents_prompt"))
    raised: list[Exception] = []

    async def turn(context: TurnContext) -> None:
        dc = await dialogs.create_context(context)
        try:
            await dc.begin_dialog("outer")
        except Exception as error:  # the SDK's own error for a dialog it cannot find
            raised.append(error)

    await TestAdapter(turn).send("hi")

    # The SDK would find it in the parent, then fail to re-prompt or cancel it later.
    assert len(raised) == 1
    assert "A dialog with an id of 'parents_prompt' wasn't found" in str(raised[0])
