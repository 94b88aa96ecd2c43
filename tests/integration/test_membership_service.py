"""The membership rules against a real database (SQLite and PostgreSQL), with a fixed clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import func, select

from services import db
from services.clock import FixedClock
from services.demo_data import load_demo
from services.errors import NotFound, RenewalNotOpen, SetupIncomplete, ViewOnlyRecord
from services.membership import Actor, MembershipService, Source, Step, StepState
from services.profile import LegalProfile
from services.tables import AgreementDecisionRow, MembershipEventRow
from services.unit_of_work import UnitOfWorkFactory

TODAY = date(2026, 11, 24)
MEI = Actor(id="mei.lin", name="林美玲 Mei Lin")
PROFILE = {
    "legal_name": "Contoso Taiwan Ltd.", "address_line1": "7F, No. 100, Xinyi Rd. Sec. 5",
    "city": "Taipei", "region": "Taipei City", "postal_code": "110", "country": "TW",
    "contact_first_name": "Mei", "contact_last_name": "Lin",
    "contact_email": "mei.lin@contoso.example", "contact_phone": "02 2345 6789",
}  # fmt: skip
ANA = Actor(id="ana.silva", name="Ana Silva")
CONTOSO_TENANT = "7f3c2a10-0000-4000-8000-000000c0de01"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))


@pytest.fixture
async def units(database_url):
    engine = db.create_engine(database_url)
    yield UnitOfWorkFactory(engine)
    await engine.dispose()


@pytest.fixture
async def service(units, clock) -> MembershipService:
    await load_demo(units, clock)
    return MembershipService(units, clock)


async def test_an_expired_legacy_record_is_view_only_and_cannot_be_renewed(service):
    status = await service.status("contoso")

    assert status.membership is not None
    assert status.membership.source is Source.LEGACY and status.membership.view_only
    assert status.membership.days_left == -30
    with pytest.raises(ViewOnlyRecord):
        await service.renew("contoso", MEI)


async def test_creating_the_account_moves_the_legacy_record_into_partner_center_with_history(
    service, units
):
    status = await service.create_partner_center_account("contoso", CONTOSO_TENANT, MEI)

    assert status.membership is not None and status.membership.source is Source.PARTNER_CENTER
    assert not status.membership.view_only
    assert status.tenant_id == CONTOSO_TENANT
    assert status.checklist[0].step is Step.SIGN_IN and status.checklist[0].state is StepState.DONE
    assert status.checklist[0].by == MEI.name
    async with units() as unit:
        kinds = list(await unit.session.scalars(select(MembershipEventRow.kind)))
    assert kinds == ["moved_to_partner_center"]


async def _set_up(service: MembershipService, organization: str, by: Actor) -> None:
    """The rest of the account setup: the profile and contact given, the agreement accepted."""
    await service.register(organization, LegalProfile(**PROFILE), by)
    version = (await service.current_agreement()).version
    await service.decide_agreement(organization, version, by, accepted=True, claimed_authority=True)


async def test_a_moved_record_is_not_renewed_before_its_profile_and_agreement(service):
    await service.create_partner_center_account("contoso", CONTOSO_TENANT, MEI)

    with pytest.raises(SetupIncomplete) as refused:
        await service.renew("contoso", MEI)

    assert refused.value.missing == ["legal_profile", "agreement"]
    status = await service.status("contoso")
    assert status.membership is not None and status.membership.expiry_date < TODAY


async def test_after_moving_an_expired_record_renewal_starts_a_year_from_today(service):
    await service.create_partner_center_account("contoso", CONTOSO_TENANT, MEI)
    await _set_up(service, "contoso", MEI)

    renewed = await service.renew("contoso", MEI)

    assert renewed.expiry_date == date(2027, 11, 24)
    assert renewed.days_left == 365


async def test_renewal_inside_the_window_adds_a_year_to_the_expiry_date(service):
    renewed = await service.renew("northwind", ANA)

    assert renewed.expiry_date == TODAY + timedelta(days=20) + timedelta(days=365)


async def test_renewal_before_the_window_says_when_it_opens(service, clock, units):
    await service.renew("northwind", ANA)  # now about 385 days left

    with pytest.raises(RenewalNotOpen) as refused:
        await service.renew("northwind", ANA)

    expiry = (await service.status("northwind")).membership.expiry_date  # type: ignore[union-attr]
    assert refused.value.opens_on == expiry - timedelta(days=90)


async def test_the_checklist_resumes_at_the_first_pending_step_for_anyone_of_the_organization(
    service,
):
    status = await service.status("northwind")

    assert [item.state for item in status.checklist] == [
        StepState.DONE, StepState.DONE, StepState.WAITING, StepState.DONE, StepState.PENDING,
    ]  # fmt: skip
    assert status.first_pending is Step.CONTACT_VERIFICATION


async def test_agreement_decisions_are_kept_and_only_acceptance_completes_the_step(service, units):
    agreement = await service.current_agreement()

    await service.decide_agreement("fabrikam", agreement.version, MEI, accepted=False,
                                   claimed_authority=False)  # fmt: skip
    declined = await service.status("fabrikam")
    await service.decide_agreement("fabrikam", agreement.version, MEI, accepted=True,
                                   claimed_authority=True)  # fmt: skip
    accepted = await service.status("fabrikam")

    assert declined.checklist[3].state is StepState.PENDING
    assert accepted.checklist[3].state is StepState.DONE
    async with units() as unit:
        count = await unit.session.scalar(select(func.count()).select_from(AgreementDecisionRow))
    assert count == 2
    assert set(agreement.summaries) == {"en-US", "zh-TW"}


async def test_users_find_their_organization_by_tenant_or_by_the_directory_link(service):
    assert await service.organization_for(tenant_id=None, organization_id="fabrikam") == "fabrikam"
    assert (
        await service.organization_for(tenant_id="7f3c2a10-0000-4000-8000-000000c0de02",
                                       organization_id=None) == "northwind"
    )  # fmt: skip
    assert await service.organization_for(tenant_id="unknown", organization_id=None) is None
    # The tenant decides when it and the directory's link disagree.
    assert (
        await service.organization_for(tenant_id="7f3c2a10-0000-4000-8000-000000c0de02",
                                       organization_id="fabrikam") == "northwind"
    )  # fmt: skip
    assert (
        await service.organization_for(tenant_id="unknown", organization_id="fabrikam")
        == "fabrikam"
    )


async def test_an_unknown_organization_is_not_found(service):
    with pytest.raises(NotFound):
        await service.status("nobody")


async def test_loading_the_demo_again_keeps_progress_unless_reset(service, units, clock):
    await service.renew("northwind", ANA)
    renewed = (await service.status("northwind")).membership

    assert await load_demo(units, clock) == []
    assert (await service.status("northwind")).membership == renewed
    assert "northwind" in await load_demo(units, clock, reset=True)
    assert (await service.status("northwind")).membership.days_left == 20  # type: ignore[union-attr]


def test_the_migrations_build_exactly_the_schema_the_models_describe(tmp_path):
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    db.upgrade(url)

    command.check(db.alembic_config(url))  # raises if a model and the migrations disagree
