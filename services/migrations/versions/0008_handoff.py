"""Help-desk handoff: tickets (one active per requester) and the help-desk channel.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 18:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoff_tickets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=True),
        sa.Column("requester_id", sa.String(length=200), nullable=False),
        sa.Column("requester_name", sa.String(length=200), nullable=False),
        sa.Column("active_requester", sa.String(length=200), nullable=True),
        sa.Column("conversation_id", sa.String(length=500), nullable=False),
        sa.Column("journey", sa.String(length=50), nullable=True),
        sa.Column("step", sa.String(length=50), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("agent_id", sa.String(length=200), nullable=True),
        sa.Column("agent_name", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raise_count", sa.Integer(), nullable=False),
        sa.Column("reraise_leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.Column("transcript", sa.JSON(), nullable=False),
        sa.Column("channel_message_id", sa.String(length=500), nullable=True),
        sa.Column("thread_id", sa.String(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("active_requester"),
    )
    op.create_index(
        "ix_handoff_tickets_queue", "handoff_tickets", ["status", "created_at"], unique=False
    )
    op.create_index("ix_handoff_tickets_thread", "handoff_tickets", ["thread_id"], unique=False)
    op.create_index(
        "ix_handoff_tickets_requester",
        "handoff_tickets",
        ["requester_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "help_desk_channel",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("team_id", sa.String(length=500), nullable=False),
        sa.Column("channel_id", sa.String(length=500), nullable=False),
        sa.Column("service_url", sa.String(length=500), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("help_desk_channel")
    op.drop_index("ix_handoff_tickets_requester", table_name="handoff_tickets")
    op.drop_index("ix_handoff_tickets_thread", table_name="handoff_tickets")
    op.drop_index("ix_handoff_tickets_queue", table_name="handoff_tickets")
    op.drop_table("handoff_tickets")
