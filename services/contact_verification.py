"""Contact verification: the primary contact confirms by email that they registered and that
the address is their organization's.

``ContactVerification`` is the port the journey calls at "Register now" (``start``), when a
user asks for the email again (``resend``), when the contact opens the link (``describe``,
then ``confirm``), and to show where things stand (``status``). ``EmailContactVerification``
is the one implementation (tests use it too, on a real database).

How it works:

- Each email carries a link with a fresh token (``secrets.token_urlsafe(32)``); only the
  token's SHA-256 is stored. The email goes into the outbox in the same transaction as the
  token row, so there is never a token without its email or the reverse.
- A link works once, until ``token_ttl`` (72 hours by default) has passed. Saving another
  contact invalidates the links sent to the earlier one; a resend leaves the earlier links to
  the same contact valid, and confirming through any of them settles them all.
- One contact gets at most ``EMAILS_PER_HOUR`` emails an hour and ``EMAILS_PER_DAY`` a day.
- Confirming moves the review on, as Partner Center does: email ownership is then done, and
  employment is verified at once when the address's domain is one the organization's tenant
  has verified (the review is then authorized), else it waits for a person.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, cast
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict
from sqlalchemy import CursorResult, bindparam, select, update

from services.clock import Clock
from services.emails import EmailComposer, VerificationRequest
from services.errors import NotFound, ResendLimited
from services.i18n import Locale, normalize_locale
from services.membership import CONTACT_VERIFIED, Actor, Step, StepState
from services.outbox import EmailKind, OutboxStatus, enqueue
from services.profile import LegalProfile, person_name
from services.settings import Settings
from services.tables import (
    ChecklistEntryRow,
    ContactVerificationTokenRow,
    EmailOutboxRow,
    OrganizationRow,
    PrimaryContactRow,
)
from services.unit_of_work import UnitOfWork, rows

__all__ = [
    "EMAILS_PER_DAY",
    "EMAILS_PER_HOUR",
    "Confirmation",
    "ContactVerification",
    "DeliveryState",
    "EmailContactVerification",
    "ReviewState",
    "StartOutcome",
    "TokenCheck",
    "TokenState",
    "VerificationStatus",
    "VettingStatus",
    "VettingSubStatus",
    "mask_email",
]

logger = logging.getLogger(__name__)

EMAILS_PER_HOUR = 3
EMAILS_PER_DAY = 10
VERIFY_PATH = "/verify/contact"

_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # what secrets.token_urlsafe(32) gives
_VERIFIED = CONTACT_VERIFIED
# The organization and its contact, in one statement built once (the status card's read).
# The contact, and the latest link to them with its email's delivery, in one statement: the
# status card reads it on many turns.
_LATEST_TOKEN = (
    select(ContactVerificationTokenRow.id)
    .where(
        ContactVerificationTokenRow.organization_id == OrganizationRow.id,
        ContactVerificationTokenRow.contact_email == PrimaryContactRow.email,
    )
    .order_by(ContactVerificationTokenRow.created_at.desc(), ContactVerificationTokenRow.id.desc())
    .limit(1)
    .correlate(OrganizationRow, PrimaryContactRow)
    .scalar_subquery()
)
_CONTACT_OF = (
    select(
        OrganizationRow.id, PrimaryContactRow.email, PrimaryContactRow.verification,
        ContactVerificationTokenRow.expires_at, EmailOutboxRow.status.label("delivery"),
        EmailOutboxRow.created_at.label("queued_at"), EmailOutboxRow.sent_at,
        EmailOutboxRow.last_error,
    )
    .outerjoin(PrimaryContactRow, PrimaryContactRow.organization_id == OrganizationRow.id)
    .outerjoin(ContactVerificationTokenRow, ContactVerificationTokenRow.id == _LATEST_TOKEN)
    .outerjoin(EmailOutboxRow, EmailOutboxRow.id == ContactVerificationTokenRow.outbox_id)
    .where(OrganizationRow.id == bindparam("organization_id"))
)  # fmt: skip
_SENT_TO = select(ContactVerificationTokenRow.created_at).where(
    ContactVerificationTokenRow.contact_email == bindparam("email"),
    ContactVerificationTokenRow.created_at > bindparam("since"),
)


class VettingStatus(StrEnum):
    """Where the review of an organization's legal profile stands (Partner Center's names)."""

    NONE = "none"
    PENDING = "pending"
    AUTHORIZED = "authorized"
    REJECTED = "rejected"


class VettingSubStatus(StrEnum):
    """Which check a pending review waits on (Partner Center's names)."""

    NONE = "none"
    EMAIL_OWNERSHIP = "emailOwnership"  # the primary contact's confirmation
    EMPLOYMENT_VERIFICATION = "employmentVerification"  # a person checks the contact's employer
    DECISION = "decision"


class TokenState(StrEnum):
    """What a link's token is worth."""

    VALID = "valid"
    EXPIRED = "expired"
    USED = "used"
    UNKNOWN = "unknown"  # malformed, never issued, or replaced (the contact changed)


class DeliveryState(StrEnum):
    """Where the latest verification email stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class StartOutcome(StrEnum):
    """What ``start`` did."""

    QUEUED = "queued"  # a new email is on its way
    ALREADY_VERIFIED = "already_verified"  # the same contact confirmed before: nothing sent
    LIMITED = "limited"  # the contact had as many emails as allowed lately: nothing sent


class ReviewState(BaseModel):
    """The review (vetting) of an organization's legal profile."""

    model_config = ConfigDict(frozen=True)

    status: VettingStatus
    sub_status: VettingSubStatus


class TokenCheck(BaseModel):
    """What the verification page shows for a link, before anyone confirms."""

    state: TokenState
    organization_name: str | None = None  # the rest only for a valid link
    contact_name: str | None = None
    contact_email: str | None = None  # masked
    requested_by_name: str | None = None
    expires_at: datetime | None = None
    locale: Locale | None = None  # the language the email was written in (any issued link)


class Confirmation(BaseModel):
    """What confirming a link did; enough for the bot to tell the requester."""

    state: TokenState  # VALID: this call confirmed; otherwise why nothing happened
    organization_id: str | None = None
    requested_by: Actor | None = None
    contact_name: str | None = None
    review: ReviewState | None = None

    @property
    def confirmed(self) -> bool:
        """The link was valid and this call used it."""
        return self.state is TokenState.VALID


class VerificationStatus(BaseModel):
    """Where an organization's contact verification stands."""

    organization_id: str
    contact_email: str | None
    verified: bool
    queued_at: datetime | None = None  # the latest email's
    sent_at: datetime | None = None
    delivery: DeliveryState | None = None
    delivery_error: str | None = None  # the transport's last reason, while not sent
    expires_at: datetime | None = None  # the latest link's
    resends_left: int = 0  # this hour (and within the day's allowance)


_ValidToken = tuple[ContactVerificationTokenRow, OrganizationRow, PrimaryContactRow]


class ContactVerification(Protocol):
    """Asks a primary contact to confirm their email address, and takes their answer."""

    async def start(
        self,
        organization_id: str,
        profile: LegalProfile,
        requested_by: Actor,
        *,
        locale: Locale = Locale.EN_US,
    ) -> StartOutcome:
        """Ask the profile's primary contact to confirm."""
        ...

    async def resend(
        self, organization_id: str, requested_by: Actor, locale: Locale = Locale.EN_US
    ) -> VerificationStatus:
        """Send the current contact a new link (raises ``ResendLimited``)."""
        ...

    async def describe(self, token: str) -> TokenCheck:
        """What a link's token is worth, changing nothing."""
        ...

    async def confirm(self, token: str) -> Confirmation:
        """Use a link: the contact confirms."""
        ...

    async def status(self, organization_id: str, *, allowance: bool = True) -> VerificationStatus:
        """Where the organization's contact verification stands (``allowance``: with the
        emails that may still go this hour; the status card does not show them)."""
        ...


def mask_email(address: str) -> str:
    """``mei.lin@contoso.example`` → ``m***@contoso.example``."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}" if local else "***"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; every stored one is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _same_address(one: str, other: str) -> bool:
    return one.casefold() == other.casefold()


def _state(row: ContactVerificationTokenRow, now: datetime) -> TokenState:
    if row.invalidated_at is not None:
        return TokenState.UNKNOWN
    if row.used_at is not None:
        return TokenState.USED
    if _utc(row.expires_at) <= now:
        return TokenState.EXPIRED
    return TokenState.VALID


def _allowance(sent: list[datetime], now: datetime) -> tuple[int, datetime | None]:
    """Emails a contact may still get now, and when the next is allowed if none."""
    day = sorted(moment for moment in sent if moment > now - _DAY)
    hour = [moment for moment in day if moment > now - _HOUR]
    left = max(0, min(EMAILS_PER_HOUR - len(hour), EMAILS_PER_DAY - len(day)))
    if left:
        return left, None
    allowed = now
    if len(hour) >= EMAILS_PER_HOUR:
        allowed = max(allowed, hour[len(hour) - EMAILS_PER_HOUR] + _HOUR)
    if len(day) >= EMAILS_PER_DAY:
        allowed = max(allowed, day[len(day) - EMAILS_PER_DAY] + _DAY)
    return 0, allowed


def _delivery(status: str) -> DeliveryState:
    match OutboxStatus(status):
        case OutboxStatus.SENT:
            return DeliveryState.SENT
        case OutboxStatus.FAILED:
            return DeliveryState.FAILED
        case _:
            return DeliveryState.PENDING


class EmailContactVerification:
    """Contact verification by an emailed link; each call one transaction."""

    def __init__(
        self,
        units: Callable[[], UnitOfWork],
        clock: Clock,
        composer: EmailComposer,
        *,
        public_base_url: str,
        token_ttl: timedelta = timedelta(hours=72),
        wake: asyncio.Event | None = None,
    ) -> None:
        self._units = units
        self._clock = clock
        self._composer = composer
        self._link_base = public_base_url.rstrip("/") + VERIFY_PATH
        self._token_ttl = token_ttl
        self._wake = wake  # the outbox sender's: set once an email is queued

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        units: Callable[[], UnitOfWork],
        clock: Clock,
        *,
        wake: asyncio.Event | None = None,
    ) -> EmailContactVerification:
        """Build it from the service's settings (sender, public URL, link lifetime)."""
        return cls(
            units,
            clock,
            EmailComposer.from_settings(settings),
            public_base_url=settings.public_base_url,
            token_ttl=timedelta(hours=settings.verification_token_hours),
            wake=wake,
        )

    async def start(
        self,
        organization_id: str,
        profile: LegalProfile,
        requested_by: Actor,
        *,
        locale: Locale = Locale.EN_US,
    ) -> StartOutcome:
        """Email the profile's primary contact a link, unless they confirmed already."""
        now = self._clock.now()
        address = profile.contact_email
        async with self._units() as unit:
            organization = await self._organization(unit, organization_id)
            contact = await unit.session.get(PrimaryContactRow, organization_id)
            if (
                contact is not None
                and _same_address(contact.email, address)
                and contact.verification == _VERIFIED
            ):
                return StartOutcome.ALREADY_VERIFIED
            await self._invalidate_other_contacts(unit, organization_id, address, now)
            left, _ = _allowance(await self._sent_to(unit, address, now), now)
            if left:
                name = person_name(profile.contact_first_name, profile.contact_last_name)
                await self._issue(unit, organization, name, address, requested_by, locale, now)
            await unit.commit()
        if not left:
            logger.warning(
                "contact verification not sent: too many emails lately",
                extra={"organization_id": organization_id},
            )
            return StartOutcome.LIMITED
        self._queued(organization_id)
        return StartOutcome.QUEUED

    async def resend(
        self, organization_id: str, requested_by: Actor, locale: Locale = Locale.EN_US
    ) -> VerificationStatus:
        """Email the current contact a new link; earlier links to them stay valid."""
        now = self._clock.now()
        async with self._units() as unit:
            organization = await self._organization(unit, organization_id)
            contact = await unit.session.get(PrimaryContactRow, organization_id)
            if contact is None:
                raise NotFound(f"organization {organization_id!r} has no primary contact")
            if contact.verification != _VERIFIED:
                _left, next_allowed_at = _allowance(
                    await self._sent_to(unit, contact.email, now), now
                )
                if next_allowed_at is not None:
                    raise ResendLimited(next_allowed_at)
                await self._invalidate_other_contacts(unit, organization_id, contact.email, now)
                name = person_name(contact.first_name, contact.last_name)
                await self._issue(
                    unit, organization, name, contact.email, requested_by, locale, now
                )
                await unit.commit()
                self._queued(organization_id)
            return await self._status(unit, organization_id, now)

    async def _open(
        self, unit: UnitOfWork, token: str, now: datetime
    ) -> tuple[TokenState, ContactVerificationTokenRow | None, _ValidToken | None]:
        """The token's state and row, and its organization and contact while it is valid.

        A link that no longer works (replaced, expired) to the address that the organization's
        contact has since confirmed through another link is as good as used: the contact has
        nothing left to do, and is told so rather than that the link is not valid.
        """
        row = await self._token(unit, token)
        if row is None:
            return TokenState.UNKNOWN, None, None
        state = _state(row, now)
        organization = await unit.session.get(OrganizationRow, row.organization_id)
        contact = await unit.session.get(PrimaryContactRow, row.organization_id)
        same = contact is not None and _same_address(contact.email, row.contact_email)
        if state is not TokenState.VALID:
            confirmed = same and contact is not None and contact.verification == _VERIFIED
            return (TokenState.USED if confirmed else state), row, None
        if organization is None or contact is None or not same:
            return TokenState.UNKNOWN, row, None  # a link sent to an earlier contact
        return state, row, (row, organization, contact)

    async def describe(self, token: str) -> TokenCheck:
        """What the page behind a link shows; reveals nothing for a link that is not valid."""
        now = self._clock.now()
        async with self._units() as unit:
            state, known, found = await self._open(unit, token, now)
            if found is None:
                # Only the language the email was written in: the page speaks it.
                locale = normalize_locale(known.locale) if known is not None else None
                return TokenCheck(state=state, locale=locale)
            row, organization, contact = found
            return TokenCheck(
                state=state,
                organization_name=organization.legal_name,
                contact_name=person_name(contact.first_name, contact.last_name),
                contact_email=mask_email(row.contact_email),
                requested_by_name=row.requested_by_name,
                expires_at=_utc(row.expires_at),
                locale=normalize_locale(row.locale),
            )

    async def confirm(self, token: str) -> Confirmation:
        """Use a link once: the contact is verified and the review moves on."""
        now = self._clock.now()
        async with self._units() as unit:
            state, _known, found = await self._open(unit, token, now)
            if found is None:
                return Confirmation(state=state)
            row, organization, contact = found
            used = await unit.session.execute(
                update(ContactVerificationTokenRow)
                .where(
                    ContactVerificationTokenRow.id == row.id,
                    ContactVerificationTokenRow.used_at.is_(None),
                    ContactVerificationTokenRow.invalidated_at.is_(None),
                )
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            )
            if cast(CursorResult[Any], used).rowcount != 1:
                return Confirmation(state=TokenState.USED)  # a concurrent confirmation won
            # The other links sent to this contact have nothing left to confirm.
            await unit.session.execute(
                update(ContactVerificationTokenRow)
                .where(
                    ContactVerificationTokenRow.organization_id == row.organization_id,
                    ContactVerificationTokenRow.contact_email == row.contact_email,
                    ContactVerificationTokenRow.used_at.is_(None),
                    ContactVerificationTokenRow.invalidated_at.is_(None),
                )
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            )
            contact.verification, contact.updated_at = _VERIFIED, now
            contact_name = person_name(contact.first_name, contact.last_name)
            review = self._review_after_email_ownership(organization, row.contact_email, now)
            await self._mark_done(unit, row.organization_id, contact_name, now)
            requested_by = Actor(id=row.requested_by_id, name=row.requested_by_name)
            organization_id = row.organization_id
            await unit.commit()
        logger.info(
            "primary contact confirmed",
            extra={"organization_id": organization_id, "review": review.status.value},
        )
        return Confirmation(
            state=TokenState.VALID,
            organization_id=organization_id,
            requested_by=requested_by,
            contact_name=contact_name,
            review=review,
        )

    async def status(self, organization_id: str, *, allowance: bool = True) -> VerificationStatus:
        """The contact, whether they confirmed, and the latest email's delivery (``allowance``:
        and the emails that may still go this hour)."""
        async with self._units() as unit:
            return await self._status(unit, organization_id, self._clock.now(), allowance)

    async def _status(
        self, unit: UnitOfWork, organization_id: str, now: datetime, allowance: bool = True
    ) -> VerificationStatus:
        found = await rows(unit, _CONTACT_OF, {"organization_id": organization_id})
        if not found:
            raise NotFound(f"organization {organization_id!r}")
        contact = found[0]
        if contact.email is None:
            return VerificationStatus(
                organization_id=organization_id, contact_email=None, verified=False
            )
        verified = contact.verification == _VERIFIED
        latest = contact if contact.expires_at is not None else None
        left = 0
        if allowance and not verified:
            sent = await rows(unit, _SENT_TO, {"email": contact.email, "since": now - _DAY})
            left, _ = _allowance([_utc(row.created_at) for row in sent], now)
        email: dict[str, Any] = {}  # the latest link's email, once one was queued
        if latest is not None and latest.delivery is not None:
            delivery = _delivery(latest.delivery)
            email = {
                "queued_at": _utc(latest.queued_at),
                "sent_at": _utc(latest.sent_at) if latest.sent_at else None,
                "delivery": delivery,
                "delivery_error": None if delivery is DeliveryState.SENT else latest.last_error,
            }
        return VerificationStatus(
            organization_id=organization_id,
            contact_email=contact.email,
            verified=verified,
            expires_at=_utc(latest.expires_at) if latest is not None else None,
            resends_left=left,
            **email,
        )

    async def _organization(self, unit: UnitOfWork, organization_id: str) -> OrganizationRow:
        organization = await unit.session.get(OrganizationRow, organization_id)
        if organization is None:
            raise NotFound(f"organization {organization_id!r}")
        return organization

    async def _token(self, unit: UnitOfWork, token: str) -> ContactVerificationTokenRow | None:
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            return None
        digest = _hash(token)
        row = await unit.session.scalar(
            select(ContactVerificationTokenRow).where(
                ContactVerificationTokenRow.token_hash == digest
            )
        )
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        return row

    async def _sent_to(self, unit: UnitOfWork, address: str, now: datetime) -> list[datetime]:
        """When the links of the last day to ``address`` were created (any organization)."""
        created = await unit.session.scalars(
            select(ContactVerificationTokenRow.created_at).where(
                ContactVerificationTokenRow.contact_email == address,
                ContactVerificationTokenRow.created_at > now - _DAY,
            )
        )
        return [_utc(moment) for moment in created]

    async def _invalidate_other_contacts(
        self, unit: UnitOfWork, organization_id: str, address: str, now: datetime
    ) -> None:
        """The contact changed: links sent to the earlier one stop working."""
        await unit.session.execute(
            update(ContactVerificationTokenRow)
            .where(
                ContactVerificationTokenRow.organization_id == organization_id,
                ContactVerificationTokenRow.contact_email != address,
                ContactVerificationTokenRow.used_at.is_(None),
                ContactVerificationTokenRow.invalidated_at.is_(None),
                ContactVerificationTokenRow.expires_at > now,
            )
            .values(invalidated_at=now)
            .execution_options(synchronize_session=False)
        )

    async def _issue(
        self,
        unit: UnitOfWork,
        organization: OrganizationRow,
        contact_name: str,
        address: str,
        requested_by: Actor,
        locale: Locale,
        now: datetime,
    ) -> None:
        """A new token and its email, in the outbox, in this transaction."""
        token = secrets.token_urlsafe(32)
        expires_at = now + self._token_ttl
        message = self._composer.contact_verification(
            VerificationRequest(
                contact_name=contact_name,
                contact_email=address,
                organization=organization.legal_name,
                requested_by=requested_by.name,
                link=f"{self._link_base}?{urlencode({'token': token})}",
                expires_at=expires_at,
            ),
            locale,
            now=now,
        )
        outbox = await enqueue(
            unit.session,
            message,
            kind=EmailKind.CONTACT_VERIFICATION,
            now=now,
            organization_id=organization.id,
        )
        unit.session.add(
            ContactVerificationTokenRow(
                organization_id=organization.id,
                contact_email=address,
                token_hash=_hash(token),
                locale=locale.value,
                requested_by_id=requested_by.id,
                requested_by_name=requested_by.name,
                created_at=now,
                expires_at=expires_at,
                outbox_id=outbox.id,
            )
        )
        if organization.vetting_status == VettingStatus.PENDING:
            organization.vetting_sub_status = VettingSubStatus.EMAIL_OWNERSHIP.value

    def _review_after_email_ownership(
        self, organization: OrganizationRow, address: str, now: datetime
    ) -> ReviewState:
        """Email ownership is done; employment is verified at once on a verified domain."""
        domain = address.rpartition("@")[2].casefold()
        if domain in {verified.casefold() for verified in organization.verified_domains}:
            review = ReviewState(status=VettingStatus.AUTHORIZED, sub_status=VettingSubStatus.NONE)
        else:
            review = ReviewState(
                status=VettingStatus.PENDING,
                sub_status=VettingSubStatus.EMPLOYMENT_VERIFICATION,
            )
        organization.vetting_status = review.status.value
        organization.vetting_sub_status = review.sub_status.value
        organization.updated_at = now
        return review

    async def _mark_done(
        self, unit: UnitOfWork, organization_id: str, by: str, now: datetime
    ) -> None:
        step = Step.CONTACT_VERIFICATION.value
        entry = await unit.session.get(ChecklistEntryRow, (organization_id, step))
        if entry is None:
            entry = ChecklistEntryRow(organization_id=organization_id, step=step)
            unit.session.add(entry)
        entry.state, entry.by_user, entry.at = StepState.DONE.value, by, now

    def _queued(self, organization_id: str) -> None:
        logger.info("contact verification email queued", extra={"organization_id": organization_id})
        if self._wake is not None:
            self._wake.set()
