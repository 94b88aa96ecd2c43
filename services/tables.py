"""The SQL schema, as SQLAlchemy 2 typed declarative models (migrations in ``migrations/``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AgreementDecisionRow",
    "AgreementVersionRow",
    "Base",
    "BotStateRow",
    "ChecklistEntryRow",
    "ContactVerificationTokenRow",
    "ConversationReferenceRow",
    "EmailOutboxRow",
    "JourneyGoalRow",
    "MembershipEventRow",
    "MembershipRow",
    "OrganizationMemberRow",
    "OrganizationRow",
    "PrimaryContactRow",
    "ReminderDeliveryRow",
    "ReminderPreferenceRow",
    "TeamChannelRow",
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
    vetting_sub_status: Mapped[str] = mapped_column(
        String(30), default="none", server_default="none"
    )
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
    # The renewal reminders' scan selects memberships by expiry date.
    __table_args__ = (Index("ix_memberships_expiry_date", "expiry_date"),)

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


class JourneyGoalRow(Base):
    """What a user set out to do for an organization (renew, upgrade) and has not done yet.

    Kept while the steps it needs first are done, so that the bot goes on with it, or offers
    it, once they are; removed when it is done or the user drops it.
    """

    __tablename__ = "journey_goals"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    goal: Mapped[str] = mapped_column(String(20))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EmailOutboxRow(Base):
    """One email to send, kept with its delivery state (written in the sender's transaction).

    A sender claims a due row by setting ``status`` to sending with its own ``lease_id`` until
    ``leased_until``; a lease that runs out (a crashed sender) makes the row due again.
    ``last_error`` holds a reason without personal data.
    """

    __tablename__ = "email_outbox"
    __table_args__ = (Index("ix_email_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    organization_id: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), nullable=True
    )
    message: Mapped[bytes] = mapped_column(LargeBinary())  # the rendered RFC 5322 message
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer(), default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lease_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    delivery_id: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ContactVerificationTokenRow(Base):
    """A link sent to a primary contact; only the SHA-256 of its token is kept."""

    __tablename__ = "contact_verification_tokens"
    __table_args__ = (
        Index("ix_contact_verification_tokens_contact", "contact_email", "created_at"),
        Index("ix_contact_verification_tokens_organization", "organization_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    contact_email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    locale: Mapped[str] = mapped_column(String(10))
    requested_by_id: Mapped[str] = mapped_column(String(200))
    requested_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    invalidated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_outbox.id", ondelete="SET NULL"), nullable=True
    )


class ConversationReferenceRow(Base):
    """Where the bot can post to a user later: one of their conversations with it.

    ``document`` is the Bot Framework's serialized ``ConversationReference``; the other
    columns are what the bot looks it up and refreshes it by. ``active`` turns false when
    the channel says the conversation is gone (the bot was removed).
    """

    __tablename__ = "conversation_references"
    __table_args__ = (Index("ix_conversation_references_user", "user_id", "updated_at"),)

    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(500), primary_key=True)
    service_url: Mapped[str] = mapped_column(String(500))
    locale: Mapped[str | None] = mapped_column(String(10), nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON())
    active: Mapped[bool] = mapped_column(Boolean(), default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TeamChannelRow(Base):
    """A team channel the bot was installed in, and how to post there (the help desk's).

    ``document`` is the Bot Framework's serialized ``ConversationReference`` of the channel's
    conversation; ``active`` turns false when the bot is removed from the team.
    """

    __tablename__ = "team_channels"
    __table_args__ = (Index("ix_team_channels_team", "team_id"),)

    channel_id: Mapped[str] = mapped_column(String(500), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(500))
    name: Mapped[str] = mapped_column(String(200), default="")
    tenant_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    service_url: Mapped[str] = mapped_column(String(500))
    document: Mapped[dict[str, Any]] = mapped_column(JSON())
    active: Mapped[bool] = mapped_column(Boolean(), default=True)
    installed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    installed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OrganizationMemberRow(Base):
    """A user of an organization the bot has met, and whether they may act for it.

    Renewal reminders go to the global administrators recorded here (and to the primary
    contact); ``email`` is where they are reached when the bot cannot post to them.
    """

    __tablename__ = "organization_members"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    global_admin: Mapped[bool] = mapped_column(Boolean(), default=False)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReminderPreferenceRow(Base):
    """A recipient's choice about an organization's renewal reminders: stopped, or snoozed."""

    __tablename__ = "reminder_preferences"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(300), primary_key=True)  # a recipient id
    stopped: Mapped[bool] = mapped_column(Boolean(), default=False)
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReminderDeliveryRow(Base):
    """One renewal reminder to one recipient: claimed once, then delivered with a lease.

    The unique key (organization, term, threshold, recipient) is the exactly-once guarantee:
    the term is the membership's expiry date, so a renewal starts a new set of keys. A sender
    takes a due row by setting ``status`` to sending with its ``lease_id`` until
    ``leased_until``, like ``email_outbox``; ``last_error`` holds a reason without personal data.
    """

    __tablename__ = "reminder_deliveries"
    __table_args__ = (
        UniqueConstraint(
            "organization_id", "term", "threshold", "recipient_id",
            name="uq_reminder_deliveries_claim",
        ),
        Index("ix_reminder_deliveries_due", "status", "next_attempt_at"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    term: Mapped[date] = mapped_column(Date())  # the membership's expiry date
    threshold: Mapped[int] = mapped_column(Integer())  # days before expiry (negative: after)
    recipient_id: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(10), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer(), default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lease_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
