"""The help desk's tables, on the schema's ``Base`` (imported by ``services/schema.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.tables import Base

__all__ = ["Base", "HandoffTicketRow", "HelpDeskChannelRow"]


class HandoffTicketRow(Base):
    """A user's request for a person, from opening to its end (resolved or abandoned).

    ``active_requester`` holds the requester's id while the ticket is open or claimed and is
    NULL once it ends: its unique constraint is what keeps one active ticket per requester,
    even when two turns ask at once (NULLs never collide, on SQLite as on PostgreSQL).
    ``transcript`` is the redacted list of recent lines. ``reraise_leased_until`` is the claim
    of an instance re-raising the ticket in the channel, like ``reminder_deliveries``' lease.
    """

    __tablename__ = "handoff_tickets"
    __table_args__ = (
        Index("ix_handoff_tickets_queue", "status", "created_at"),
        Index("ix_handoff_tickets_thread", "thread_id"),
        Index("ix_handoff_tickets_requester", "requester_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=True)
    # Not a foreign key: a user may ask for help before their organization is known or stored.
    organization_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    requester_id: Mapped[str] = mapped_column(String(200))
    requester_name: Mapped[str] = mapped_column(String(200))
    active_requester: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    conversation_id: Mapped[str] = mapped_column(String(500))
    journey: Mapped[str | None] = mapped_column(String(50), nullable=True)
    step: Mapped[str | None] = mapped_column(String(50), nullable=True)
    reason: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    agent_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    agent_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    raise_count: Mapped[int] = mapped_column(Integer(), default=0)
    reraise_leased_until: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    csat: Mapped[int | None] = mapped_column(Integer(), nullable=True)
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON(), default=list)
    channel_message_id: Mapped[str | None] = mapped_column(String(500), nullable=True)
    thread_id: Mapped[str | None] = mapped_column(String(500), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HelpDeskChannelRow(Base):
    """The team channel that is the help desk: one row (``id`` 1), set by an operator."""

    __tablename__ = "help_desk_channel"

    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=False)
    team_id: Mapped[str] = mapped_column(String(500))
    channel_id: Mapped[str] = mapped_column(String(500))
    service_url: Mapped[str] = mapped_column(String(500))
    tenant_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
