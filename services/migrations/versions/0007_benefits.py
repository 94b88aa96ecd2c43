"""Benefits: the catalogs loaded, competency applications, orders, and the benefits held.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 18:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "benefit_catalogs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.String(length=60), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "upgrade_applications",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("tier", sa.String(length=30), nullable=False),
        sa.Column("solution_area", sa.String(length=60), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.String(length=200), nullable=False),
        sa.Column("created_by_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_upgrade_applications_organization",
        "upgrade_applications",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "benefit_orders",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("offer_id", sa.String(length=60), nullable=False),
        sa.Column("offer", sa.JSON(), nullable=False),
        sa.Column("amount", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("buyer_id", sa.String(length=200), nullable=False),
        sa.Column("buyer_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payment_reference", sa.String(length=200), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_benefit_orders_organization",
        "benefit_orders",
        ["organization_id", "status"],
        unique=False,
    )
    op.create_table(
        "benefits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("benefit_id", sa.String(length=60), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=False),
        sa.Column("order_id", sa.String(length=20), nullable=True),
        sa.Column("activated_by", sa.String(length=200), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["benefit_orders.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_benefits_organization", "benefits", ["organization_id", "term_end"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_benefits_organization", table_name="benefits")
    op.drop_table("benefits")
    op.drop_index("ix_benefit_orders_organization", table_name="benefit_orders")
    op.drop_table("benefit_orders")
    op.drop_index("ix_upgrade_applications_organization", table_name="upgrade_applications")
    op.drop_table("upgrade_applications")
    op.drop_table("benefit_catalogs")
