"""botbuilder's ``Storage`` over the SQL state repository, with ETag optimistic concurrency.

State objects (the SDK's ``DialogState`` among them) are encoded by ``bot/state_codec.py``;
the ETag lives in its own column and is put back on the item when it is read. Concurrency
rules are the repository's (``services/state_repository.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from botbuilder.core import Storage

from bot import state_codec
from services.state_repository import StateRepository

__all__ = ["SqlStorage", "encode"]

_ETAG = "e_tag"


def _etag_of(item: Any) -> str | None:
    etag = item.get(_ETAG) if isinstance(item, dict) else getattr(item, _ETAG, None)
    if etag == "":
        raise ValueError("a state item's e_tag is empty; use None (new) or '*' (any)")
    return etag


def _set_etag(item: Any, etag: str) -> None:
    if isinstance(item, dict):
        item[_ETAG] = etag
    elif hasattr(item, _ETAG):
        item.e_tag = etag


class SqlStorage(Storage):
    """Conversation and user state in SQL, shared safely by several bot instances."""

    def __init__(self, repository: StateRepository) -> None:
        self._repository = repository

    async def read(self, keys: Sequence[str]) -> dict[str, Any]:
        """Return the stored items among ``keys``, each carrying its current e_tag."""
        return {key: item for key, (item, _) in (await self.read_documents(keys)).items()}

    async def write(self, changes: Mapping[str, Any]) -> None:
        """Store ``changes`` atomically; a stale e_tag raises ``StorageConflict``."""
        await self.write_documents({key: (item, encode(item)) for key, item in changes.items()})

    async def read_documents(self, keys: Sequence[str]) -> dict[str, tuple[Any, str]]:
        """Like ``read``, with each item's stored text (``encode`` of the item, as written)."""
        stored = await self._repository.read(list(keys))
        items: dict[str, tuple[Any, str]] = {}
        for key, row in stored.items():
            item = state_codec.decode(row.document)
            _set_etag(item, row.etag)
            items[key] = (item, row.document)
        return items

    async def write_documents(self, changes: Mapping[str, tuple[Any, str]]) -> None:
        """Like ``write``, given each item with its text from ``encode`` (not encoded again)."""
        if not changes:
            return
        new_etags = await self._repository.write(
            {key: (text, _etag_of(item)) for key, (item, text) in changes.items()}
        )
        # The caller keeps using its item; let a second save in the same turn present the
        # ETag it now has instead of conflicting with itself.
        for key, etag in new_etags.items():
            _set_etag(changes[key][0], etag)

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove ``keys``."""
        await self._repository.delete(list(keys))


def encode(item: Any) -> str:
    """An item's stored text: ``state_codec.encode`` of it without its e_tag.

    The e_tag lives in its own column, so two items that differ only in their e_tag are the
    same document; ``bot/state.py`` compares these texts to tell whether a state changed.
    """
    if isinstance(item, dict) and _ETAG in item:
        item = {key: value for key, value in item.items() if key != _ETAG}
    return state_codec.encode(item)
