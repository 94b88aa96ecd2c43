"""Tables of the benefits feature (catalog, applications, orders, benefits), on the schema's
``Base`` (imported by ``services/schema.py``; migration ``0007_benefits``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.tables import Base

__all__ = ["BenefitRow", "CatalogRow", "OrderRow", "UpgradeApplicationRow"]


class CatalogRow(Base):
    """One catalog an operator loaded, whole; the latest is in force (older ones are history)."""

    __tablename__ = "benefit_catalogs"

    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(500), default="")
    document: Mapped[dict[str, Any]] = mapped_column(JSON())  # the validated catalog
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UpgradeApplicationRow(Base):
    """An application for a competency, with the user's answers, kept for the review."""

    __tablename__ = "upgrade_applications"
    __table_args__ = (Index("ix_upgrade_applications_organization", "organization_id"),)

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    tier: Mapped[str] = mapped_column(String(30))
    solution_area: Mapped[str | None] = mapped_column(String(60), nullable=True)
    answers: Mapped[dict[str, str]] = mapped_column(JSON())  # requirement id -> answer
    status: Mapped[str] = mapped_column(String(20))
    created_by_id: Mapped[str] = mapped_column(String(200))
    created_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OrderRow(Base):
    """An order of an offer, priced when it was placed; ``offer`` is the offer as sold then.

    ``amount`` is the exact decimal as text: SQLite has no decimal type, and a float is not a
    price.
    """

    __tablename__ = "benefit_orders"
    __table_args__ = (Index("ix_benefit_orders_organization", "organization_id", "status"),)

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    offer_id: Mapped[str] = mapped_column(String(60))
    # "purchase", or "renewal": paying it extends the membership (a paid subscription's term).
    purpose: Mapped[str] = mapped_column(String(20), default="purchase", server_default="purchase")
    offer: Mapped[dict[str, Any]] = mapped_column(JSON())
    amount: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    buyer_id: Mapped[str] = mapped_column(String(200))
    buyer_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    payment_reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class BenefitRow(Base):
    """A benefit an organization holds: how much, how much used, until when, who activated it.

    ``spec`` is the benefit's catalog entry as it was provisioned, so a later catalog does not
    change what was bought.
    """

    __tablename__ = "benefits"
    __table_args__ = (Index("ix_benefits_organization", "organization_id", "term_end"),)

    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    benefit_id: Mapped[str] = mapped_column(String(60))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON())
    quantity: Mapped[int] = mapped_column(Integer())
    used: Mapped[int] = mapped_column(Integer(), default=0)
    term_end: Mapped[date] = mapped_column(Date())
    order_id: Mapped[str | None] = mapped_column(
        ForeignKey("benefit_orders.id", ondelete="SET NULL"), nullable=True
    )
    activated_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
