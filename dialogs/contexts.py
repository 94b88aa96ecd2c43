"""Dialog contexts that build their memory-scope manager only when it is asked for.

The SDK's ``DialogContext.__init__`` (botbuilder-dialogs 4.17.1) builds a
``DialogStateManager`` for every context: the top-level one, each component dialog's inner
one and each waterfall step's, about five a journey turn. The manager refers back to its
context, so every one is a reference cycle that outlives the turn until the garbage collector
finds it: building them and collecting them was about 3 % of a turn (issue 9, decision 0011
lever 24), and they were the only cyclic garbage a turn left. Nothing in this bot reads a
context's ``state`` (the memory scopes serve adaptive dialogs and ``DialogExtensions``); here
it is built on first use, the same manager as before.

The SDK constructs contexts by class name in three places, so each has its counterpart:

- ``LeanDialogSet.create_context``: the turn's top-level context (``bot/membership_bot.py``);
- ``Component``: a ``ComponentDialog`` whose inner contexts are lean (every component dialog
  here derives from it);
- ``LeanStepContext``: a waterfall step's context (``dialogs/waterfall.py``'s ``run_step``).

Each is the SDK's method with the class changed; ``tests/unit/test_contexts.py`` holds them
to that.

One rule is stricter than the SDK's: a context finds only the dialogs of its own set, never a
parent's. The SDK lets a component begin a dialog its parent holds, but rebuilds the inner
context without its parent to re-prompt or cancel it, and then cannot find that dialog again:
"help" at such a step failed the turn. A journey that runs another holds its own instance of it.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import BotAssert, TurnContext
from botbuilder.dialogs import (
    ComponentDialog,
    Dialog,
    DialogContext,
    DialogInstance,
    DialogReason,
    DialogSet,
    DialogState,
    DialogTurnResult,
    DialogTurnStatus,
    WaterfallStepContext,
)
from botbuilder.dialogs.memory import DialogStateManager

__all__ = ["Component", "LeanDialogContext", "LeanDialogSet", "LeanStepContext"]


class LeanDialogContext(DialogContext):
    """A ``DialogContext`` whose ``state`` (its ``DialogStateManager``) is built on first use."""

    def __init__(self, dialog_set: DialogSet, turn_context: TurnContext, state: DialogState):
        # DialogContext.__init__, 4.17.1, but for the manager.
        if dialog_set is None:
            raise TypeError("DialogContext(): dialog_set cannot be None.")
        if turn_context is None:
            raise TypeError("DialogContext(): turn_context cannot be None.")
        self._turn_context = turn_context
        self._dialogs = dialog_set
        self._stack = state.dialog_stack
        self.services: dict[Any, Any] = {}
        self.parent: DialogContext | None = None

    async def find_dialog(self, dialog_id: str) -> Dialog | None:
        """The dialog of this context's own set called ``dialog_id`` (never a parent's)."""
        found: Dialog | None = self.dialogs.find_dialog(dialog_id)
        return found

    def find_dialog_sync(self, dialog_id: str) -> Dialog | None:
        """``find_dialog``, without waiting."""
        found: Dialog | None = self.dialogs.find_dialog(dialog_id)
        return found

    @property
    def state(self) -> DialogStateManager:
        """The context's memory scopes, as the SDK's context has them (built on first use)."""
        manager: DialogStateManager | None = self.__dict__.get("_state_manager")
        if manager is None:
            manager = self.__dict__["_state_manager"] = DialogStateManager(self)
        return manager

    @state.setter
    def state(self, manager: DialogStateManager) -> None:
        self.__dict__["_state_manager"] = manager


class LeanStepContext(WaterfallStepContext, LeanDialogContext):
    """A waterfall step's context: ``WaterfallStepContext``'s own ``__init__`` reaches
    ``LeanDialogContext``'s through ``super()``, so only the manager is left out."""

    def __init__(
        self,
        parent: Any,
        dc: DialogContext,
        options: object,
        values: dict[str, object],
        index: int,
        reason: DialogReason,
        result: object = None,
    ) -> None:
        WaterfallStepContext.__init__(self, parent, dc, options, values, index, reason, result)


class LeanDialogSet(DialogSet):
    """A ``DialogSet`` whose contexts are lean."""

    async def create_context(self, turn_context: TurnContext) -> DialogContext:
        # DialogSet.create_context, 4.17.1, with the context's class changed.
        BotAssert.context_not_none(turn_context)
        if not self._dialog_state:
            raise RuntimeError(
                "DialogSet.CreateContextAsync(): DialogSet created with a null "
                "IStatePropertyAccessor."
            )
        state: DialogState = await self._dialog_state.get(turn_context, DialogState)
        return LeanDialogContext(self, turn_context, state)


class Component(ComponentDialog):
    """A ``ComponentDialog`` whose inner contexts are lean.

    The four methods that build an inner context are the SDK's (4.17.1) with the context's
    class changed; everything else is inherited.
    """

    def _inner(self, context: TurnContext, state: DialogState) -> LeanDialogContext:
        return LeanDialogContext(self._dialogs, context, state)

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        if dialog_context is None:
            raise TypeError("ComponentDialog.begin_dialog(): outer_dc cannot be None.")
        dialog_state = DialogState()
        dialog_context.active_dialog.state[self.persisted_dialog_state] = dialog_state
        inner_dc = self._inner(dialog_context.context, dialog_state)
        inner_dc.parent = dialog_context
        turn_result = await self.on_begin_dialog(inner_dc, options)
        if turn_result.status != DialogTurnStatus.Waiting:
            return await self.end_component(dialog_context, turn_result.result)
        return Dialog.end_of_turn

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        if dialog_context is None:
            raise TypeError("ComponentDialog.begin_dialog(): outer_dc cannot be None.")
        dialog_state = dialog_context.active_dialog.state[self.persisted_dialog_state]
        inner_dc = self._inner(dialog_context.context, dialog_state)
        inner_dc.parent = dialog_context
        turn_result = await self.on_continue_dialog(inner_dc)
        if turn_result.status != DialogTurnStatus.Waiting:
            return await self.end_component(dialog_context, turn_result.result)
        return Dialog.end_of_turn

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        dialog_state = instance.state[self.persisted_dialog_state]
        inner_dc = self._inner(context, dialog_state)
        await inner_dc.reprompt_dialog()
        await self.on_reprompt_dialog(context, instance)

    async def end_dialog(
        self, context: TurnContext, instance: DialogInstance, reason: DialogReason
    ) -> None:
        if reason == DialogReason.CancelCalled:
            dialog_state = instance.state[self.persisted_dialog_state]
            inner_dc = self._inner(context, dialog_state)
            await inner_dc.cancel_all_dialogs()
        await self.on_end_dialog(context, instance, reason)
