"""What a test can learn from an engine's connection pool."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["count_checkouts"]


def count_checkouts(engine: AsyncEngine) -> list[int]:
    """A one-item list that counts the connections ``engine``'s pool hands out from now on."""
    checkouts = [0]

    def count(*_: object) -> None:
        checkouts[0] += 1

    event.listen(engine.sync_engine, "checkout", count)
    return checkouts
