"""The membership journey's rules and records.

An organization has at most one membership. A membership kept in the legacy Partner
Membership Center (PMC) turns **view-only** once it has expired: nothing can be renewed or
bought until the organization creates its Partner Center account, which moves the record
into Partner Center and keeps its history. Renewal opens ``RENEWAL_WINDOW_DAYS`` before expiry
and stays open after it; a renewal adds one year to the later of the expiry date and today.

The account-creation journey is a checklist of ``Step``s per organization, each with its
state, who moved it and when, so that anyone of the organization can resume it where it
stands, days later. Agreement decisions are append-only.

**Renewing or upgrading needs the Partner Center account first** (the seed page): signed in
as a global administrator (which moves a legacy record into Partner Center), the legal
profile and primary contact given, and the agreement accepted: ``SETUP_STEPS``. The primary
contact's email confirmation is asynchronous (the review goes on after it) and the admin agent
role is for adding users: neither holds a renewal up.

A user's **goal** (renew, upgrade) is kept while the steps it needs are done, so that the
journeys go on with it, or offer it, once they are; it ends when done or dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict
from sqlalchemy import bindparam, delete, or_, select

from services.clock import Clock
from services.errors import NotFound, RenewalNotOpen, SetupIncomplete, ViewOnlyRecord
from services.i18n import N_
from services.profile import ADDRESS_FIELDS, LegalProfile
from services.tables import (
    AgreementDecisionRow,
    AgreementVersionRow,
    ChecklistEntryRow,
    JourneyGoalRow,
    MembershipEventRow,
    MembershipRow,
    OrganizationRow,
    PrimaryContactRow,
)
from services.unit_of_work import UnitOfWork, rows

__all__ = [
    "CONTACT_VERIFIED",
    "DEMO_DATA",
    "RENEWAL_WINDOW_DAYS",
    "SETUP_STEPS",
    "SYSTEM_ACTOR_NAMES",
    "Actor",
    "AgreementVersion",
    "ChecklistItem",
    "Goal",
    "MembershipService",
    "MembershipView",
    "OrganizationStatus",
    "Registration",
    "Source",
    "Step",
    "StepState",
    "Tier",
    "checklist",
    "renewal_opens_on",
    "renewed_expiry",
]

RENEWAL_WINDOW_DAYS = 90
CONTACT_VERIFIED = "verified"  # a primary contact's ``verification`` once they confirmed


class Tier(StrEnum):
    """Membership options, from the core level up."""

    NETWORK = "network"
    ACTION_PACK = "action_pack"
    SILVER = "silver_competency"
    GOLD = "gold_competency"


class Source(StrEnum):
    """Where the membership record is kept."""

    LEGACY = "legacy_pmc"
    PARTNER_CENTER = "partner_center"


class Step(StrEnum):
    """The account-creation journey, in order."""

    SIGN_IN = "sign_in"
    LEGAL_PROFILE = "legal_profile"
    CONTACT_VERIFICATION = "contact_verification"
    AGREEMENT = "agreement"
    ADMIN_AGENT = "admin_agent"


# What renewing or upgrading needs done first: the Partner Center account (see above).
SETUP_STEPS: tuple[Step, ...] = (Step.SIGN_IN, Step.LEGAL_PROFILE, Step.AGREEMENT)


class Goal(StrEnum):
    """What a user set out to do that may need other steps first."""

    RENEW = "renew"
    UPGRADE = "upgrade"
    BUY = "buy"


class StepState(StrEnum):
    """Where one step stands."""

    PENDING = "pending"
    WAITING = "waiting"  # started; waiting on someone else (the contact's email, a review)
    DONE = "done"


class Actor(BaseModel):
    """Who did something: a directory user's id and display name."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str


# Who acts when no person does. Their names are English source strings, stored as they are and
# shown in the reader's language (``ChecklistItem.by_system``): rows an earlier release wrote
# read the same.
DEMO_DATA = Actor(id="demo", name=N_("demo data"))
SYSTEM_ACTOR_NAMES = frozenset({DEMO_DATA.name})


class MembershipView(BaseModel):
    """A membership as the user sees it on a given day."""

    mpn_id: str
    tier: Tier
    source: Source
    start_date: date
    expiry_date: date
    days_left: int
    view_only: bool
    renewal_opens_on: date
    can_renew: bool


class ChecklistItem(BaseModel):
    """One journey step's state."""

    model_config = ConfigDict(frozen=True)  # shared: see _bare_item
    step: Step
    state: StepState
    by: str | None = None
    by_system: bool = False  # ``by`` names no person but the system (a source string)
    at: datetime | None = None


class OrganizationStatus(BaseModel):
    """Everything the status card shows."""

    organization_id: str
    legal_name: str
    tenant_id: str | None
    membership: MembershipView | None
    checklist: list[ChecklistItem]

    @property
    def first_pending(self) -> Step | None:
        """The first step not done yet, where a returning user resumes."""
        return next((item.step for item in self.checklist if item.state != StepState.DONE), None)

    @property
    def first_to_do(self) -> Step | None:
        """The first step the user can do now (one waiting on someone else is passed over)."""
        return next((item.step for item in self.checklist if item.state is StepState.PENDING), None)

    @property
    def setup_missing(self) -> list[Step]:
        """The steps renewing or upgrading still needs done first (``SETUP_STEPS``), in order."""
        done = {item.step for item in self.checklist if item.state is StepState.DONE}
        return [step for step in SETUP_STEPS if step not in done]

    def ready_for(self, goal: Goal) -> bool:
        """Whether ``goal`` can be done now: the setup it needs is done and the calendar allows."""
        membership = self.membership
        if membership is None or self.setup_missing:
            return False
        if goal is Goal.RENEW:
            return membership.can_renew
        return membership.days_left >= 0


class AgreementVersion(BaseModel):
    """The agreement a user is asked to accept."""

    version: str
    effective_date: date
    url: str
    summaries: dict[str, str]


class Registration(BaseModel):
    """What saving a profile changed."""

    changed: list[str]  # field names, in the form's order
    review_restarted: bool  # the legal name or address changed on an existing profile


def _add_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def renewed_expiry(expiry: date, today: date) -> date:
    """The expiry date after a renewal: one year after the later of the expiry and today."""
    return _add_year(max(expiry, today))


def renewal_opens_on(expiry: date) -> date:
    """The first day a membership expiring on ``expiry`` may be renewed."""
    return date.fromordinal(expiry.toordinal() - RENEWAL_WINDOW_DAYS)


class _MembershipFields(Protocol):
    """A membership's columns: an ORM row, or a plain result row of ``_MEMBERSHIP_COLUMNS``."""

    mpn_id: str
    tier: str
    source: str
    start_date: date
    expiry_date: date


_MEMBERSHIP_COLUMNS = (
    MembershipRow.mpn_id,
    MembershipRow.tier,
    MembershipRow.source,
    MembershipRow.start_date,
    MembershipRow.expiry_date,
)


# The reads of the status card, built once (``services.unit_of_work.rows``).
_ORGANIZATION_FOR = select(OrganizationRow.id, OrganizationRow.tenant_id).where(
    or_(
        OrganizationRow.tenant_id == bindparam("tenant_id"),
        OrganizationRow.id == bindparam("organization_id"),
    )
)
_ORGANIZATION_STATUS = (
    select(OrganizationRow.id, OrganizationRow.legal_name, OrganizationRow.tenant_id,
           *_MEMBERSHIP_COLUMNS, PrimaryContactRow.email.label("contact_email"),
           PrimaryContactRow.verification.label("contact_verification"))
    .outerjoin(MembershipRow, MembershipRow.organization_id == OrganizationRow.id)
    .outerjoin(PrimaryContactRow, PrimaryContactRow.organization_id == OrganizationRow.id)
    .where(OrganizationRow.id == bindparam("organization_id"))
)  # fmt: skip
_CHECKLIST = select(
    ChecklistEntryRow.step, ChecklistEntryRow.state, ChecklistEntryRow.by_user,
    ChecklistEntryRow.at,
).where(ChecklistEntryRow.organization_id == bindparam("organization_id"))  # fmt: skip


def _stored_state(
    step: Step, contact_email: str | None, verification: str | None
) -> StepState | None:
    """What the stored primary contact says of ``step`` (None: the contact says nothing of it).

    The profile is given once its contact is stored, and the contact's check stands where the
    contact row says: the checklist's record of these two steps only adds who and when, so the
    status card, the journeys and the verification read the same facts.
    """
    if step is Step.LEGAL_PROFILE:
        return StepState.DONE if contact_email else StepState.PENDING
    if step is Step.CONTACT_VERIFICATION:
        if not contact_email:
            return StepState.PENDING
        return StepState.DONE if verification == CONTACT_VERIFIED else StepState.WAITING
    return None


_STEP_STATES = {state.value: state for state in StepState}


@cache
def _bare_item(step: Step, state: StepState) -> ChecklistItem:
    """An item that names no one: the same for every organization, built once (the status is
    read on many turns)."""
    return ChecklistItem(step=step, state=state)


def _item(step: Step, recorded: Any, stored: StepState | None) -> ChecklistItem:
    """The checklist's record of ``step`` (a row, or None), overruled by the stored facts."""
    state = _STEP_STATES[recorded.state] if recorded is not None else StepState.PENDING
    if stored is not None and stored is not state:
        return _bare_item(step, stored)  # who and when are not known
    if recorded is None:
        return _bare_item(step, state)
    return ChecklistItem(
        step=step, state=state, by=recorded.by_user, at=recorded.at,
        by_system=recorded.by_user in SYSTEM_ACTOR_NAMES,
    )  # fmt: skip


def checklist(
    recorded: Mapping[str, Any], contact_email: str | None, verification: str | None
) -> list[ChecklistItem]:
    """The journey's steps as they stand: the checklist's rows by step (``step``, ``state``,
    ``by_user``, ``at``), with the two profile steps as the stored primary contact says."""
    return [
        _item(step, recorded.get(step.value), _stored_state(step, contact_email, verification))
        for step in Step
    ]


def _view(row: _MembershipFields, today: date) -> MembershipView:
    source = Source(row.source)
    view_only = source is Source.LEGACY and row.expiry_date < today
    opens = renewal_opens_on(row.expiry_date)
    return MembershipView(
        mpn_id=row.mpn_id,
        tier=Tier(row.tier),
        source=source,
        start_date=row.start_date,
        expiry_date=row.expiry_date,
        days_left=(row.expiry_date - today).days,
        view_only=view_only,
        renewal_opens_on=opens,
        can_renew=today >= opens and source is Source.PARTNER_CENTER,
    )


class MembershipService:
    """Read and change an organization's membership and journey; each call one transaction."""

    def __init__(self, units: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._units = units
        self._clock = clock

    async def organization_for(
        self, *, tenant_id: str | None, organization_id: str | None
    ) -> str | None:
        """Find the organization of a user: by their tenant, else by the directory's link."""
        if not tenant_id and not organization_id:
            return None
        async with self._units() as unit:
            found = await rows(
                unit,
                _ORGANIZATION_FOR,
                {"tenant_id": tenant_id or None, "organization_id": organization_id or None},
            )
        by_tenant = [row.id for row in found if tenant_id and row.tenant_id == tenant_id]
        return next(iter(by_tenant or [row.id for row in found]), None)

    async def status(self, organization_id: str) -> OrganizationStatus:
        """The organization's membership and journey checklist, today."""
        async with self._units() as unit:
            return await self._status(unit, organization_id)

    async def _status(self, unit: UnitOfWork, organization_id: str) -> OrganizationStatus:
        # Two statements, plain columns, built once: the status card is read on many turns.
        parameters = {"organization_id": organization_id}
        found = next(iter(await rows(unit, _ORGANIZATION_STATUS, parameters)), None)
        if found is None:
            raise NotFound(f"organization {organization_id!r}")
        entries = {row.step: row for row in await rows(unit, _CHECKLIST, parameters)}
        return OrganizationStatus(
            organization_id=found.id,
            legal_name=found.legal_name,
            tenant_id=found.tenant_id,
            membership=_view(found, self._clock.today()) if found.mpn_id is not None else None,
            checklist=checklist(entries, found.contact_email, found.contact_verification),
        )

    async def profile_values(self, organization_id: str) -> dict[str, str]:
        """The profile's fields as stored (contact fields empty while there is no contact)."""
        async with self._units() as unit:
            organization = await self._organization(unit, organization_id)
            contact = await unit.session.get(PrimaryContactRow, organization_id)
            values = {field: getattr(organization, field) for field in ADDRESS_FIELDS}
            values.update(
                contact_first_name=contact.first_name if contact else "",
                contact_last_name=contact.last_name if contact else "",
                contact_email=contact.email if contact else "",
                contact_phone=contact.phone if contact else "",
            )
            return values

    async def profile(self, organization_id: str) -> LegalProfile | None:
        """The organization's current profile, once it has a primary contact."""
        values = await self.profile_values(organization_id)
        return LegalProfile(**values) if values["contact_email"] else None

    async def register(
        self, organization_id: str, profile: LegalProfile, by: Actor
    ) -> Registration:
        """Save the profile and contact ("Register now"); the contact's check is then waited on."""
        before = await self.profile(organization_id)
        changed = [
            field for field, value in profile.model_dump().items()
            if before is None or getattr(before, field) != value
        ]  # fmt: skip
        restarted = before is not None and any(field in ADDRESS_FIELDS for field in changed)
        now = self._clock.now()
        async with self._units() as unit:
            organization = await self._organization(unit, organization_id)
            for field in ADDRESS_FIELDS:
                setattr(organization, field, getattr(profile, field))
            organization.updated_at = now
            if restarted or before is None:
                organization.vetting_status = "pending"
            contact = await unit.session.get(PrimaryContactRow, organization_id)
            if contact is None:
                contact = PrimaryContactRow(organization_id=organization_id)
                unit.session.add(contact)
            contact.first_name, contact.last_name = (
                profile.contact_first_name, profile.contact_last_name,
            )  # fmt: skip
            if contact.email != profile.contact_email:
                contact.verification = "pending"
            contact.email, contact.phone, contact.updated_at = (
                profile.contact_email, profile.contact_phone, now,
            )  # fmt: skip
            await self._mark(unit, organization_id, Step.LEGAL_PROFILE, StepState.DONE, by)
            if contact.verification != CONTACT_VERIFIED:
                await self._mark(
                    unit, organization_id, Step.CONTACT_VERIFICATION, StepState.WAITING, by
                )
            await unit.commit()
        return Registration(changed=changed, review_restarted=restarted)

    async def mark_step(
        self, organization_id: str, step: Step, state: StepState, by: Actor
    ) -> None:
        """Record where a journey step stands, who moved it, and when."""
        async with self._units() as unit:
            await self._organization(unit, organization_id)
            await self._mark(unit, organization_id, step, state, by)
            await unit.commit()

    async def create_partner_center_account(
        self,
        organization_id: str,
        tenant_id: str,
        by: Actor,
        verified_domains: Sequence[str] = (),
    ) -> OrganizationStatus:
        """Tie the organization to its tenant and move a legacy record into Partner Center."""
        async with self._units() as unit:
            organization = await self._organization(unit, organization_id)
            organization.tenant_id = tenant_id
            organization.verified_domains = list(verified_domains)
            organization.updated_at = self._clock.now()
            membership = await unit.session.get(MembershipRow, organization_id)
            if membership is not None and membership.source == Source.LEGACY:
                membership.source = Source.PARTNER_CENTER
                self._event(
                    unit,
                    organization_id,
                    "moved_to_partner_center",
                    by,
                    {"from": Source.LEGACY.value},
                )
            await self._mark(unit, organization_id, Step.SIGN_IN, StepState.DONE, by)
            await unit.commit()
            return await self._status(unit, organization_id)

    async def renew(self, organization_id: str, by: Actor) -> MembershipView:
        """Extend the membership one year, if its record, its setup and the calendar allow it."""
        today = self._clock.today()
        async with self._units() as unit:
            membership = await unit.session.get(MembershipRow, organization_id)
            if membership is None:
                raise NotFound(f"organization {organization_id!r} has no membership")
            view = _view(membership, today)
            if view.source is Source.LEGACY:
                raise ViewOnlyRecord(organization_id)
            if missing := (await self._status(unit, organization_id)).setup_missing:
                raise SetupIncomplete([step.value for step in missing])
            if not view.can_renew:
                raise RenewalNotOpen(view.renewal_opens_on)
            previous = membership.expiry_date
            membership.expiry_date = renewed_expiry(previous, today)
            renewal = {"from": previous.isoformat(), "to": membership.expiry_date.isoformat()}
            self._event(unit, organization_id, "renewed", by, renewal)
            await unit.session.execute(
                delete(JourneyGoalRow).where(
                    JourneyGoalRow.organization_id == organization_id,
                    JourneyGoalRow.goal == Goal.RENEW.value,
                )
            )
            await unit.commit()
            return _view(membership, today)

    async def set_goal(self, organization_id: str, user_id: str, goal: Goal) -> None:
        """Remember that ``user_id`` set out to ``goal`` for the organization."""
        async with self._units() as unit:
            row = await unit.session.get(JourneyGoalRow, (organization_id, user_id))
            if row is None:
                row = JourneyGoalRow(organization_id=organization_id, user_id=user_id)
                unit.session.add(row)
            row.goal, row.set_at = goal.value, self._clock.now()
            await unit.commit()

    async def goal(self, organization_id: str, user_id: str) -> Goal | None:
        """What ``user_id`` set out to do for the organization and has not done, if anything."""
        async with self._units() as unit:
            row = await unit.session.get(JourneyGoalRow, (organization_id, user_id))
            return Goal(row.goal) if row is not None else None

    async def drop_goals(self, user_id: str) -> None:
        """Forget whatever ``user_id`` set out to do, for every organization (they cancelled)."""
        async with self._units() as unit:
            await unit.session.execute(
                delete(JourneyGoalRow).where(JourneyGoalRow.user_id == user_id)
            )
            await unit.commit()

    async def drop_goal(self, organization_id: str, user_id: str) -> None:
        """Forget ``user_id``'s goal for the organization (done, or they dropped it)."""
        async with self._units() as unit:
            await unit.session.execute(
                delete(JourneyGoalRow).where(
                    JourneyGoalRow.organization_id == organization_id,
                    JourneyGoalRow.user_id == user_id,
                )
            )
            await unit.commit()

    async def current_agreement(self) -> AgreementVersion:
        """The agreement version in force today."""
        async with self._units() as unit:
            row = await unit.session.scalar(
                select(AgreementVersionRow)
                .where(AgreementVersionRow.effective_date <= self._clock.today())
                .order_by(AgreementVersionRow.effective_date.desc())
                .limit(1)
            )
            if row is None:
                raise NotFound("no agreement version is in force")
            return AgreementVersion(
                version=row.version,
                effective_date=row.effective_date,
                url=row.url,
                summaries=dict(row.summaries),
            )

    async def decide_agreement(
        self,
        organization_id: str,
        version: str,
        by: Actor,
        *,
        accepted: bool,
        claimed_authority: bool,
    ) -> None:
        """Record an acceptance or a refusal, for good; an acceptance completes the step."""
        async with self._units() as unit:
            await self._organization(unit, organization_id)
            if await unit.session.get(AgreementVersionRow, version) is None:
                raise NotFound(f"agreement version {version!r}")
            unit.session.add(
                AgreementDecisionRow(
                    organization_id=organization_id,
                    version=version,
                    user_id=by.id,
                    user_name=by.name,
                    accepted=accepted,
                    claimed_authority=claimed_authority,
                    at=self._clock.now(),
                )
            )
            if accepted:
                await self._mark(unit, organization_id, Step.AGREEMENT, StepState.DONE, by)
            await unit.commit()

    async def _organization(self, unit: UnitOfWork, organization_id: str) -> OrganizationRow:
        organization = await unit.session.get(OrganizationRow, organization_id)
        if organization is None:
            raise NotFound(f"organization {organization_id!r}")
        return organization

    async def _mark(
        self, unit: UnitOfWork, organization_id: str, step: Step, state: StepState, by: Actor
    ) -> None:
        entry = await unit.session.get(ChecklistEntryRow, (organization_id, step.value))
        if entry is None:
            entry = ChecklistEntryRow(organization_id=organization_id, step=step.value)
            unit.session.add(entry)
        entry.state, entry.by_user, entry.at = state.value, by.name, self._clock.now()

    def _event(
        self, unit: UnitOfWork, organization_id: str, kind: str, by: Actor, detail: dict[str, Any]
    ) -> None:
        unit.session.add(
            MembershipEventRow(
                organization_id=organization_id,
                kind=kind,
                detail=detail,
                by_user=by.name,
                at=self._clock.now(),
            )
        )
