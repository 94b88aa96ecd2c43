"""The errors the services layer raises, and what each means to a caller.

    ServiceError                 anything a service wants its caller to handle
    ├── StorageConflict          a write lost an optimistic-concurrency race (stale ETag)
    └── StoreUnavailable         the database could not be reached

Dialogs and the bot turn these into words for the user; nothing here knows about chat.
"""

from __future__ import annotations

__all__ = ["ServiceError", "StorageConflict", "StoreUnavailable"]


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""


class StorageConflict(ServiceError):
    """A write carried an ETag that no longer matches the stored one.

    The message starts with "Etag conflict" because botbuilder's own components (for example
    the Teams SSO token-exchange de-duplication) recognise a conflict by that text.
    """

    def __init__(self, key: str) -> None:
        super().__init__(f"Etag conflict: {key!r} was changed by another writer")
        self.key = key


class StoreUnavailable(ServiceError):
    """The database did not answer."""
