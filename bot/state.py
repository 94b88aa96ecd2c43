"""Conversation and user state, loaded with one read and saved with one write per turn.

The SDK's ``BotState`` reads its own document when first touched and saves it on its own, and
decides whether to save by hashing the whole state with jsonpickle on load and at save time.
Here both states of a turn are read together and written together (one SQL round trip each,
one transaction for the write), and the change-detection hash is ``state_codec.encode``, the
same deterministic text the storage writes. Property accessors and dialogs see no difference.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import BotState, ConversationState, Storage, TurnContext, UserState
from botbuilder.core.bot_state import CachedBotState

from bot import state_codec

__all__ = ["FastConversationState", "FastUserState", "TurnStates"]


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
            _cache(self, turn_context, items.get(storage_key))


class FastConversationState(_FastLoad, ConversationState):
    """``ConversationState`` with fast change detection."""


class FastUserState(_FastLoad, UserState):
    """``UserState`` with fast change detection."""


def _cache(state: BotState, turn_context: TurnContext, value: Any) -> _CachedState:
    cached = _CachedState(value)
    turn_context.turn_state[state._context_service_key] = cached
    return cached


class TurnStates:
    """The states of a turn, read in one storage call and written in one."""

    def __init__(self, storage: Storage, *states: BotState) -> None:
        self._storage = storage
        self._states = states

    async def load(self, turn_context: TurnContext) -> None:
        """Read every state of this turn at once."""
        keys = [state.get_storage_key(turn_context) for state in self._states]
        items = await self._storage.read(keys)
        for state, key in zip(self._states, keys, strict=True):
            _cache(state, turn_context, items.get(key))

    async def save(self, turn_context: TurnContext) -> None:
        """Write the states this turn changed, together (all or none)."""
        changed: dict[str, tuple[CachedBotState, Any, str]] = {}
        for state in self._states:
            cached = state.get_cached_state(turn_context)
            if cached is None:
                continue
            # ``is_changed`` would encode the state once to compare and once more after the
            # write; one encoding serves both.
            encoded = cached.compute_hash(cached.state)
            if encoded != cached.hash:
                changed[state.get_storage_key(turn_context)] = (cached, cached.state, encoded)
        if not changed:
            return
        await self._storage.write({key: value for key, (_, value, _) in changed.items()})
        for cached, _, encoded in changed.values():
            cached.hash = encoded
