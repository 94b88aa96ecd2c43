"""Time, as a service: the real clock, and a fixed one for tests and demos."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol

__all__ = ["Clock", "FixedClock", "SystemClock"]


class Clock(Protocol):
    """Tells the time (always timezone-aware, UTC)."""

    def now(self) -> datetime:
        """The current instant."""
        ...

    def today(self) -> date:
        """The current UTC date."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """The current instant."""
        return datetime.now(UTC)

    def today(self) -> date:
        """The current UTC date."""
        return self.now().date()


class FixedClock:
    """A clock that always says the same time."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        """The set instant."""
        return self.at

    def today(self) -> date:
        """The set date."""
        return self.at.date()
