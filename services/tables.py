"""The SQL schema, as SQLAlchemy 2 typed declarative models (migrations in ``migrations/``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AgreementDecisionRow",
    "AgreementVersionRow",
    "Base",
    "BotStateRow",
    "ChecklistEntryRow",
    "MembershipEventRow",
    "MembershipRow",
    "OrganizationRow",
    "PrimaryContactRow",
]


class Base(DeclarativeBase):
    """Base of every table."""


class BotStateRow(Base):
    """One state document (a conversation's or a user's), with its optimistic-concurrency tag."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(), primary_key=True)
    document: Mapped[str] = mapped_column(Text())
    etag: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OrganizationRow(Base):
    """A partner organization: its legal business profile and its tenant."""

    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    tenant_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    verified_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    vetting_status: Mapped[str] = mapped_column(String(20), default="none")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PrimaryContactRow(Base):
    """The person the program contacts about an organization's application."""

    __tablename__ = "primary_contacts"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    verification: Mapped[str] = mapped_column(String(20), default="unverified")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MembershipRow(Base):
    """An organization's Microsoft Partner Network membership."""

    __tablename__ = "memberships"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    mpn_id: Mapped[str] = mapped_column(String(20), unique=True)
    tier: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(30))
    start_date: Mapped[date] = mapped_column(Date())
    expiry_date: Mapped[date] = mapped_column(Date())


class MembershipEventRow(Base):
    """What happened to a membership, kept for good (append-only)."""

    __tablename__ = "membership_events"

    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    by_user: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AgreementVersionRow(Base):
    """A version of the Microsoft Partner Network agreement, summarized per language."""

    __tablename__ = "agreement_versions"

    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    effective_date: Mapped[date] = mapped_column(Date())
    url: Mapped[str] = mapped_column(String(500))
    summaries: Mapped[dict[str, str]] = mapped_column(JSON)  # locale -> summary


class AgreementDecisionRow(Base):
    """Who accepted or declined which agreement version, when, claiming what authority."""

    __tablename__ = "agreement_decisions"

    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(ForeignKey("agreement_versions.version"))
    user_id: Mapped[str] = mapped_column(String(200))
    user_name: Mapped[str] = mapped_column(String(200))
    accepted: Mapped[bool] = mapped_column(Boolean())
    claimed_authority: Mapped[bool] = mapped_column(Boolean())
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ChecklistEntryRow(Base):
    """One step of an organization's account-creation journey: its state, who, when."""

    __tablename__ = "checklist_entries"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    step: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    by_user: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
