"""The activity handler: resolve the turn's language, run the main dialog, save state.

The dialog runs through a ``DialogSet`` built once, continue-else-begin, rather than through
``DialogExtensions.run_dialog``: that helper builds a dialog set and a memory-scope manager on
every turn and sends a "BotState" trace activity with a snapshot of dialog memory, which
``expectReplies`` would hand to the caller. Waterfalls and prompts need neither.
"""

from __future__ import annotations

import logging

from botbuilder.core import ActivityHandler, ConversationState, Storage, TurnContext, UserState
from botbuilder.dialogs import Dialog, DialogSet, DialogTurnStatus
from botbuilder.schema import ChannelAccount

from bot.proactive import ReferenceKeeper
from bot.state import TurnStates
from dialogs.texts import resolve_locale

__all__ = ["MembershipBot"]

logger = logging.getLogger(__name__)


class MembershipBot(ActivityHandler):
    """Route every conversational turn into the main dialog."""

    def __init__(
        self,
        storage: Storage,
        conversation_state: ConversationState,
        user_state: UserState,
        dialog: Dialog,
        *,
        references: ReferenceKeeper | None = None,
    ) -> None:
        self._states = TurnStates(storage, conversation_state, user_state)
        self._references = references
        self._dialog = dialog
        self._dialogs = DialogSet(conversation_state.create_property("DialogState"))
        self._dialogs.add(dialog)
        self.user_profile = user_state.create_property("UserProfile")

    async def on_turn(self, turn_context: TurnContext) -> None:
        """Handle the turn, then save what it changed (nothing is saved if it failed)."""
        await self._states.load(turn_context)
        await resolve_locale(self.user_profile, turn_context)
        await super().on_turn(turn_context)
        await self._states.save(turn_context)
        if self._references is not None:
            await _keep_reference(self._references, turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Continue the conversation's dialog, or begin the main one."""
        await self._run_dialog(turn_context)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        """Greet once when the bot and the user meet (the main dialog's first step welcomes)."""
        if members_added:
            await self._run_dialog(turn_context)

    async def _run_dialog(self, turn_context: TurnContext) -> None:
        dialog_context = await self._dialogs.create_context(turn_context)
        result = await dialog_context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await dialog_context.begin_dialog(self._dialog.id)


async def _keep_reference(references: ReferenceKeeper, turn_context: TurnContext) -> None:
    # Remember where to reach this user later. A failure here costs a later proactive message,
    # not this turn: the user already has their answer and their progress is saved.
    try:
        await references.keep(turn_context)
    except Exception:
        logger.exception("could not store the conversation reference")
