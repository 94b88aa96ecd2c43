"""Primary contact verification on each real database, with a fixed clock and the demo data."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from services import db
from services.contact_verification import (
    EMAILS_PER_DAY,
    DeliveryState,
    EmailContactVerification,
    ReviewState,
    StartOutcome,
    TokenState,
    VettingStatus,
    VettingSubStatus,
)
from services.demo_data import load_demo
from services.emails import EmailComposer
from services.errors import NotFound, ResendLimited
from services.i18n import Locale
from services.mailer import FakeMailer
from services.membership import Actor, MembershipService, Step, StepState
from services.outbox import OutboxSender, read_message
from services.profile import LegalProfile
from services.tables import (
    ContactVerificationTokenRow,
    EmailOutboxRow,
    OrganizationRow,
    PrimaryContactRow,
)
from services.unit_of_work import UnitOfWorkFactory

MEI = Actor(id="mei.lin", name="林美玲 Mei Lin")
CONTOSO_TENANT = "7f3c2a10-0000-4000-8000-000000c0de01"
PROFILE = LegalProfile(
    legal_name="Contoso Taiwan Ltd.", address_line1="7F, No. 100, Xinyi Rd. Sec. 5",
    city="Taipei", region="Taipei City", postal_code="110", country="TW",
    contact_first_name="David", contact_last_name="Chen",
    contact_email="david.chen@contoso.example", contact_phone="+886227201234",
)  # fmt: skip
_LINK = re.compile(r"https://bot\.example\.test/verify/contact\?token=[A-Za-z0-9_-]+")


@pytest.fixture
async def units(database_url, clock):
    engine = db.create_engine(database_url)
    units = UnitOfWorkFactory(engine)
    await load_demo(units, clock)
    yield units
    await engine.dispose()


@pytest.fixture
def membership(units, clock) -> MembershipService:
    return MembershipService(units, clock)


@pytest.fixture
def wake() -> asyncio.Event:
    return asyncio.Event()


@pytest.fixture
def verification(units, clock, wake) -> EmailContactVerification:
    return EmailContactVerification(
        units,
        clock,
        EmailComposer("membership-bot@bot.example.test", "Partner membership assistant"),
        public_base_url="https://bot.example.test/",
        token_ttl=timedelta(hours=72),
        wake=wake,
    )


async def register(membership, verification, profile=PROFILE, *, domains=("contoso.example",)):
    """Create Contoso's account (its tenant's verified domains) and register its profile."""
    await membership.create_partner_center_account("contoso", CONTOSO_TENANT, MEI, domains)
    await membership.register("contoso", profile, MEI)
    return await verification.start("contoso", profile, MEI, locale=Locale.ZH_TW)


async def latest_token(units) -> str:
    """The token in the link of the latest email queued (what the contact clicks)."""
    async with units() as unit:
        data = await unit.session.scalar(
            select(EmailOutboxRow.message).order_by(EmailOutboxRow.id.desc()).limit(1)
        )
    assert data
    [link] = set(_LINK.findall(read_message(data).get_body(("plain",)).get_content()))
    return parse_qs(urlsplit(link).query)["token"][0]


async def token_rows(units) -> list[ContactVerificationTokenRow]:
    async with units() as unit:
        found = list(
            await unit.session.scalars(
                select(ContactVerificationTokenRow).order_by(ContactVerificationTokenRow.id)
            )
        )
        unit.session.expunge_all()
        return found


async def review_of(units, organization_id: str = "contoso") -> tuple[str, str, str]:
    """The organization's review state and its contact's verification."""
    async with units() as unit:
        organization = await unit.session.get(OrganizationRow, organization_id)
        contact = await unit.session.get(PrimaryContactRow, organization_id)
        assert organization is not None and contact is not None
        return organization.vetting_status, organization.vetting_sub_status, contact.verification


async def test_start_keeps_only_the_tokens_hash_and_queues_its_email_in_the_same_transaction(
    membership, verification, units, clock, wake
):
    assert await register(membership, verification) is StartOutcome.QUEUED

    token = await latest_token(units)
    [row] = await token_rows(units)
    async with units() as unit:
        [(outbox_id, organization_id, data)] = (
            await unit.session.execute(
                select(EmailOutboxRow.id, EmailOutboxRow.organization_id, EmailOutboxRow.message)
            )
        ).all()
    email = read_message(data)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr([getattr(row, c.key) for c in ContactVerificationTokenRow.__table__.c])
    assert row.outbox_id == outbox_id and organization_id == "contoso"
    assert (row.contact_email, row.locale, row.requested_by_name) == (
        "david.chen@contoso.example", "zh-TW", MEI.name,
    )  # fmt: skip
    assert row.expires_at.replace(tzinfo=None) == (clock.now() + timedelta(hours=72)).replace(
        tzinfo=None
    )
    assert email["To"].addresses[0].addr_spec == "david.chen@contoso.example"
    assert email["Subject"] == "請確認您是 Contoso Taiwan Ltd. 的主要連絡人"
    assert wake.is_set()  # the outbox sender is told at once
    assert await review_of(units) == ("pending", "emailOwnership", "pending")


class CommitFails:
    """Units of work whose commit fails, as when the database goes away at that moment."""

    def __init__(self, units) -> None:
        self._units = units

    def __call__(self):
        unit = self._units()

        async def commit() -> None:
            raise ConnectionError("the database went away")

        unit.commit = commit
        return unit


async def test_when_the_transaction_fails_there_is_neither_a_token_nor_an_email(
    membership, units, clock
):
    await membership.register("contoso", PROFILE, MEI)
    failing = EmailContactVerification(
        CommitFails(units), clock, EmailComposer("bot@bot.example.test", "Assistant"),
        public_base_url="https://bot.example.test",
    )  # fmt: skip

    with pytest.raises(ConnectionError):
        await failing.start("contoso", PROFILE, MEI)

    assert await token_rows(units) == []
    async with units() as unit:
        assert await unit.session.scalar(select(func.count()).select_from(EmailOutboxRow)) == 0


async def test_once_the_email_is_sent_the_raw_token_is_nowhere_in_the_database(
    membership, verification, units, clock
):
    await register(membership, verification)
    token = await latest_token(units)

    assert await OutboxSender(units, FakeMailer(), clock).run_once() == 1

    async with units() as unit:
        outbox = [
            [getattr(row, c.key) for c in EmailOutboxRow.__table__.c]
            for row in await unit.session.scalars(select(EmailOutboxRow))
        ]
    assert token not in repr(outbox) and token.encode() not in repr(outbox).encode()


async def test_confirming_verifies_the_contact_and_authorizes_the_review_on_a_verified_domain(
    membership, verification, units
):
    await register(membership, verification, domains=("contoso.example", "contoso.com.tw"))

    confirmation = await verification.confirm(await latest_token(units))

    assert confirmation.confirmed and confirmation.state is TokenState.VALID
    assert confirmation.organization_id == "contoso"
    assert confirmation.requested_by == MEI
    assert confirmation.contact_name == "David Chen"
    assert confirmation.review == ReviewState(
        status=VettingStatus.AUTHORIZED, sub_status=VettingSubStatus.NONE
    )
    assert await review_of(units) == ("authorized", "none", "verified")
    step = next(
        item for item in (await membership.status("contoso")).checklist
        if item.step is Step.CONTACT_VERIFICATION
    )  # fmt: skip
    assert (step.state, step.by) == (StepState.DONE, "David Chen")


async def test_confirming_an_address_outside_the_verified_domains_waits_for_employment_review(
    membership, verification, units
):
    outside = PROFILE.model_copy(update={"contact_email": "david.chen@mail.example"})
    await register(membership, verification, outside, domains=("contoso.example",))

    confirmation = await verification.confirm(await latest_token(units))

    assert confirmation.confirmed
    assert confirmation.review == ReviewState(
        status=VettingStatus.PENDING, sub_status=VettingSubStatus.EMPLOYMENT_VERIFICATION
    )
    assert await review_of(units) == ("pending", "employmentVerification", "verified")


async def test_a_link_works_once(membership, verification, units):
    await register(membership, verification)
    token = await latest_token(units)

    first = await verification.confirm(token)
    second = await verification.confirm(token)

    assert first.confirmed
    assert second.state is TokenState.USED and not second.confirmed
    assert second.organization_id is None and second.requested_by is None
    assert (await verification.describe(token)).state is TokenState.USED


async def test_two_clicks_at_the_same_moment_confirm_once(membership, verification, units):
    await register(membership, verification)
    token = await latest_token(units)

    results = await asyncio.gather(verification.confirm(token), verification.confirm(token))

    assert sorted(result.state for result in results) == [TokenState.USED, TokenState.VALID]


async def test_a_link_past_its_lifetime_is_expired_and_changes_nothing(
    membership, verification, units, clock
):
    await register(membership, verification)
    token = await latest_token(units)

    clock.at += timedelta(hours=71, minutes=59)
    assert (await verification.describe(token)).state is TokenState.VALID
    clock.at += timedelta(minutes=1)
    assert (await verification.describe(token)).state is TokenState.EXPIRED
    assert (await verification.confirm(token)).state is TokenState.EXPIRED
    assert await review_of(units) == ("pending", "emailOwnership", "pending")


async def test_tampered_malformed_and_unknown_links_are_unknown(membership, verification, units):
    await register(membership, verification)
    token = await latest_token(units)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

    for candidate in (tampered, "", "abc", token + "x", token[:20] + "%2F" + token[23:],
                      "x" * 43, hashlib.sha256(token.encode()).hexdigest()):  # fmt: skip
        assert (await verification.describe(candidate)).state is TokenState.UNKNOWN, candidate
        assert (await verification.confirm(candidate)).state is TokenState.UNKNOWN, candidate
    assert (await verification.describe(token)).state is TokenState.VALID


async def test_the_page_shows_the_organization_the_masked_contact_and_who_asked(
    membership, verification, units, clock
):
    await register(membership, verification)
    token = await latest_token(units)

    check = await verification.describe(token)

    assert check.state is TokenState.VALID
    assert check.organization_name == "Contoso Taiwan Ltd."
    assert check.contact_name == "David Chen"
    assert check.contact_email == "d***@contoso.example"
    assert check.requested_by_name == MEI.name
    assert check.expires_at == clock.now() + timedelta(hours=72)
    assert (await verification.describe(token)).state is TokenState.VALID  # reading used nothing


async def test_resends_are_limited_to_three_an_hour_and_ten_a_day(
    membership, verification, units, clock
):
    start = clock.now()
    await register(membership, verification)  # the first email counts
    first = await latest_token(units)

    for hour in range(4):
        clock.at = start + timedelta(hours=hour)
        for _ in range(2 if hour == 0 else 3 if hour < 3 else 1):
            await verification.resend("contoso", MEI, Locale.EN_US)
        if hour < 3:
            with pytest.raises(ResendLimited) as limited:
                await verification.resend("contoso", MEI)
            assert limited.value.next_allowed_at == clock.now() + timedelta(hours=1)
    with pytest.raises(ResendLimited) as limited:
        await verification.resend("contoso", MEI)

    assert len(await token_rows(units)) == EMAILS_PER_DAY
    assert limited.value.next_allowed_at == start + timedelta(days=1)
    assert (await verification.status("contoso")).resends_left == 0
    clock.at = start + timedelta(days=1)
    assert (await verification.resend("contoso", MEI)).resends_left == 2
    # Earlier links to the same contact still work (until they expire).
    clock.at = start + timedelta(hours=3)
    assert (await verification.describe(first)).state is TokenState.VALID


async def test_a_new_contact_invalidates_the_links_sent_to_the_earlier_one(
    membership, verification, units
):
    await register(membership, verification)
    earlier = await latest_token(units)
    mei = PROFILE.model_copy(
        update={"contact_first_name": "Mei", "contact_last_name": "Lin",
                "contact_email": "mei.lin@contoso.example"}
    )  # fmt: skip

    await membership.register("contoso", mei, MEI)
    assert await verification.start("contoso", mei, MEI) is StartOutcome.QUEUED
    current = await latest_token(units)

    assert (await verification.describe(earlier)).state is TokenState.UNKNOWN
    assert (await verification.confirm(earlier)).state is TokenState.UNKNOWN
    assert (await verification.status("contoso")).resends_left == 2  # the new contact's own
    confirmation = await verification.confirm(current)
    assert confirmation.confirmed and confirmation.contact_name == "Mei Lin"


async def test_a_confirmed_contact_is_not_asked_again(membership, verification, units):
    await register(membership, verification)
    await verification.confirm(await latest_token(units))

    await membership.register("contoso", PROFILE, MEI)
    again = await verification.start("contoso", PROFILE, MEI)
    status = await verification.resend("contoso", MEI)

    assert again is StartOutcome.ALREADY_VERIFIED
    assert status.verified and status.resends_left == 0
    assert len(await token_rows(units)) == 1


async def test_the_status_follows_the_latest_email_from_queued_to_sent_or_failed(
    membership, verification, units, clock
):
    mailer = FakeMailer()
    sender = OutboxSender(units, mailer, clock)
    await register(membership, verification)

    queued = await verification.status("contoso")
    await sender.run_once()
    sent = await verification.status("contoso")
    clock.at += timedelta(minutes=10)
    await verification.resend("contoso", MEI)
    mailer.fail(permanent=True, reason="SMTP 550 on RCPT: [email] mailbox unavailable")
    await sender.run_once()
    failed = await verification.status("contoso")

    assert queued.contact_email == "david.chen@contoso.example" and not queued.verified
    assert (queued.delivery, queued.sent_at, queued.resends_left) == (
        DeliveryState.PENDING, None, 2,
    )  # fmt: skip
    assert queued.queued_at == clock.now() - timedelta(minutes=10)
    assert queued.expires_at == queued.queued_at + timedelta(hours=72)
    assert (sent.delivery, sent.sent_at, sent.delivery_error) == (
        DeliveryState.SENT, queued.queued_at, None,
    )  # fmt: skip
    assert (failed.delivery, failed.delivery_error) == (
        DeliveryState.FAILED, "SMTP 550 on RCPT: [email] mailbox unavailable",
    )  # fmt: skip
    assert failed.expires_at == clock.now() + timedelta(hours=72)
    assert failed.resends_left == 1


async def test_an_unknown_organization_or_one_without_a_contact_is_refused(verification, units):
    with pytest.raises(NotFound):
        await verification.status("nobody")
    with pytest.raises(NotFound):
        await verification.resend("fabrikam", MEI)
    status = await verification.status("fabrikam")
    assert status.contact_email is None and not status.verified
    async with units() as unit:
        assert await unit.session.scalar(select(func.count()).select_from(EmailOutboxRow)) == 0
