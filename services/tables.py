"""The SQL schema, as SQLAlchemy 2 typed declarative models (migrations in ``migrations/``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "BotStateRow"]


class Base(DeclarativeBase):
    """Base of every table."""


class BotStateRow(Base):
    """One state document (a conversation's or a user's), with its optimistic-concurrency tag."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(), primary_key=True)
    document: Mapped[str] = mapped_column(Text())
    etag: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
