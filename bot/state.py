"""Conversation and user state, loaded with one read and saved with one write per turn.

The SDK's ``BotState`` reads its own document when first touched and saves it on its own, and
decides whether to save by hashing the whole state with jsonpickle on load and at save time.
Here both states of a turn are read together and written together (one SQL round trip each,
one transaction for the write), and the change-detection hash is the document's stored text
(``bot.sql_storage.encode``): on load it is the text just read, so nothing is encoded; at save
each state is encoded once, and that text is both the comparison and what is written. Property
accessors and dialogs see no difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from botbuilder.core import BotState, ConversationState, Storage, TurnContext, UserState
from botbuilder.core.bot_state import CachedBotState

from bot.sql_storage import encode

__all__ = ["DocumentStorage", "FastConversationState", "FastUserState", "TurnStates", "peek"]


@runtime_checkable
class DocumentStorage(Protocol):
    """A storage that hands out, and takes, each item's stored text (``SqlStorage``)."""

    async def read_documents(self, keys: Sequence[str]) -> dict[str, tuple[Any, str]]:
        """The stored items among ``keys``, each with its text."""
        ...

    async def write_documents(self, changes: Mapping[str, tuple[Any, str]]) -> None:
        """Store each item, given with its text."""
        ...


class _Documents:
    """``DocumentStorage`` over any botbuilder ``Storage`` (the tests' ``MemoryStorage``)."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    async def read_documents(self, keys: Sequence[str]) -> dict[str, tuple[Any, str]]:
        items = await self._storage.read(list(keys))
        return {key: (item, encode(item)) for key, item in items.items()}

    async def write_documents(self, changes: Mapping[str, tuple[Any, str]]) -> None:
        await self._storage.write({key: item for key, (item, _) in changes.items()})


def documents(storage: Storage) -> DocumentStorage:
    """``storage`` itself when it deals in texts, else an adapter that encodes."""
    if isinstance(storage, DocumentStorage):
        return storage
    return _Documents(storage)


class _CachedState(CachedBotState):
    """A state and the text it was read as (``hash``), for ``is_changed``."""

    def __init__(self, state: dict[str, object] | None, text: str) -> None:
        self.state = state if state is not None else {}
        self.hash = text

    def compute_hash(self, obj: object) -> str:
        return encode(obj)


_EMPTY = encode({})


def _cache(state: BotState, turn_context: TurnContext, document: tuple[Any, str] | None) -> None:
    item, text = document if document is not None else (None, _EMPTY)
    turn_context.turn_state[state._context_service_key] = _CachedState(item, text)


class _FastLoad:
    """The SDK's ``BotState.load``, reading through ``DocumentStorage``."""

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        cached_state = self.get_cached_state(turn_context)  # type: ignore[attr-defined]
        if force or not cached_state or not cached_state.state:
            storage_key = self.get_storage_key(turn_context)  # type: ignore[attr-defined]
            found = await documents(self._storage).read_documents([storage_key])  # type: ignore[attr-defined]
            _cache(self, turn_context, found.get(storage_key))


class FastConversationState(_FastLoad, ConversationState):
    """``ConversationState`` with fast change detection."""


class FastUserState(_FastLoad, UserState):
    """``UserState`` with fast change detection."""


class TurnStates:
    """The states of a turn, read in one storage call and written in one."""

    def __init__(self, storage: Storage, *states: BotState) -> None:
        self._documents = documents(storage)
        self._states = states

    async def load(self, turn_context: TurnContext) -> None:
        """Read every state of this turn at once."""
        keys = [state.get_storage_key(turn_context) for state in self._states]
        found = await self._documents.read_documents(keys)
        for state, key in zip(self._states, keys, strict=True):
            _cache(state, turn_context, found.get(key))

    async def save(self, turn_context: TurnContext) -> None:
        """Write the states this turn changed, together (all or none)."""
        changed: dict[str, tuple[Any, str]] = {}
        caches: list[tuple[CachedBotState, str]] = []
        for state in self._states:
            cached = state.get_cached_state(turn_context)
            if cached is None:
                continue
            text = cached.compute_hash(cached.state)  # one encoding: the comparison and the write
            if text != cached.hash:
                changed[state.get_storage_key(turn_context)] = (cached.state, text)
                caches.append((cached, text))
        if not changed:
            return
        await self._documents.write_documents(changed)
        for cached, text in caches:
            cached.hash = text


def peek(state: BotState, turn_context: TurnContext, name: str) -> Any:
    """``state``'s property ``name`` as this turn loaded it (None when absent), without an
    accessor's load and checks: for what every turn looks at and few turns have."""
    cached = state.get_cached_state(turn_context)
    return cached.state.get(name) if cached is not None else None
