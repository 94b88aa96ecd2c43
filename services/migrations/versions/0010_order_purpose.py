"""Orders say what they are for: a purchase, or the renewal of a paid subscription.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("benefit_orders") as table:
        table.add_column(
            sa.Column("purpose", sa.String(length=20), nullable=False, server_default="purchase")
        )


def downgrade() -> None:
    with op.batch_alter_table("benefit_orders") as table:
        table.drop_column("purpose")
