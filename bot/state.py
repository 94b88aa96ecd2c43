"""Conversation and user state whose change detection costs one fast encode, not a jsonpickle walk.

``BotState`` decides whether to save by hashing the whole state on load and again at save
time, with jsonpickle (``CachedBotState.compute_hash``). These subclasses keep the SDK's
behaviour and swap only that hash for ``state_codec.encode``, the same deterministic text
the SQL storage writes. ``load`` is the SDK's own, with the cached-state class changed.
"""

from __future__ import annotations

from botbuilder.core import ConversationState, TurnContext, UserState
from botbuilder.core.bot_state import CachedBotState

from bot import state_codec

__all__ = ["FastConversationState", "FastUserState"]


class _CachedState(CachedBotState):
    def compute_hash(self, obj: object) -> str:
        return state_codec.encode(obj)


class _FastLoad:
    """The SDK's ``BotState.load``, caching a ``_CachedState``."""

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        cached_state = self.get_cached_state(turn_context)  # type: ignore[attr-defined]
        if force or not cached_state or not cached_state.state:
            storage_key = self.get_storage_key(turn_context)  # type: ignore[attr-defined]
            items = await self._storage.read([storage_key])  # type: ignore[attr-defined]
            turn_context.turn_state[self._context_service_key] = _CachedState(  # type: ignore[attr-defined]
                items.get(storage_key)
            )


class FastConversationState(_FastLoad, ConversationState):
    """``ConversationState`` with fast change detection."""


class FastUserState(_FastLoad, UserState):
    """``UserState`` with fast change detection."""
