"""What the requester reads in the chat when the primary contact has confirmed."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dialogs.notices import contact_confirmed, order_paid
from services.benefits import OrderPurpose
from services.contact_verification import (
    Confirmation,
    ReviewState,
    TokenState,
    VettingStatus,
    VettingSubStatus,
)
from services.i18n import Locale, translator
from services.membership import (
    Actor,
    ChecklistItem,
    Goal,
    MembershipView,
    OrganizationStatus,
    Source,
    Step,
    StepState,
    Tier,
)
from tests.support.chat import ADAPTIVE_CARD, card_parts
from tests.support.language import check_json

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _status(*pending: Step) -> OrganizationStatus:
    return OrganizationStatus(
        organization_id="contoso",
        legal_name="Contoso Taiwan Ltd.",
        tenant_id=None,
        membership=None,
        checklist=[
            ChecklistItem(
                step=step,
                state=StepState.PENDING if step in pending else StepState.DONE,
                by="Mei Lin",
                at=AT,
            )
            for step in Step
        ],
    )


def _confirmation(status: VettingStatus, sub_status: VettingSubStatus) -> Confirmation:
    return Confirmation(
        state=TokenState.VALID,
        organization_id="contoso",
        requested_by=Actor(id="mei.lin", name="Mei Lin"),
        contact_name="David Chen",
        review=ReviewState(status=status, sub_status=sub_status),
    )


def test_an_authorized_review_is_said_done_and_the_button_goes_to_the_next_step():
    confirmation = _confirmation(VettingStatus.AUTHORIZED, VettingSubStatus.NONE)

    notice = contact_confirmed(translator(Locale.EN_US), confirmation, _status(Step.AGREEMENT))
    check_json(notice, Locale.EN_US)

    [attachment] = notice.attachments
    assert attachment.content_type == ADAPTIVE_CARD
    texts, [button] = card_parts(attachment.content)
    assert texts == [
        "✅ The primary contact of Contoso Taiwan Ltd., David Chen, confirmed their email address.",
        "The review of your legal business profile is complete.",
    ]
    assert button["title"] == "Continue: Accept the partner agreement"
    assert button["data"]["action"] == "accept_agreement"  # the menu item's stable id
    assert button["data"]["msteams"]["text"] == "Accept the partner agreement"


def test_an_address_outside_the_tenants_domains_waits_for_a_person_said_in_chinese():
    confirmation = _confirmation(VettingStatus.PENDING, VettingSubStatus.EMPLOYMENT_VERIFICATION)

    notice = contact_confirmed(translator(Locale.ZH_TW), confirmation, _status())
    check_json(notice, Locale.ZH_TW)

    texts, [button] = card_parts(notice.attachments[0].content)
    assert texts[0] == "✅ Contoso Taiwan Ltd. 的主要連絡人 David Chen 已確認其電子郵件地址。"
    assert "接下來會由專人確認" in texts[1]
    assert button["title"] == "會員狀態"
    assert button["data"]["action"] == "status"


def _renewable(*pending: Step) -> OrganizationStatus:
    status = _status(*pending)
    view = MembershipView(
        mpn_id="4100001", tier=Tier.SILVER, source=Source.PARTNER_CENTER,
        start_date=date(2025, 12, 1), expiry_date=date(2026, 12, 1), days_left=7,
        view_only=False, renewal_opens_on=date(2026, 9, 2), can_renew=True,
    )  # fmt: skip
    return status.model_copy(update={"membership": view})


@pytest.mark.parametrize(
    ("locale", "button"),
    [(Locale.EN_US, "Continue: Renew the membership"), (Locale.ZH_TW, "繼續：續約會員資格")],
)
def test_the_notice_offers_the_renewal_the_requester_asked_for_once_it_can_be_done(locale, button):
    confirmation = _confirmation(VettingStatus.PENDING, VettingSubStatus.NONE)
    renewable = _renewable(Step.ADMIN_AGENT)  # the admin agent role does not hold a renewal up

    notice = contact_confirmed(translator(locale), confirmation, renewable, Goal.RENEW)
    waiting = contact_confirmed(
        translator(locale), confirmation, _renewable(Step.AGREEMENT), Goal.RENEW
    )
    check_json([notice, waiting], locale)

    assert [b["title"] for b in card_parts(notice.attachments[0].content)[1]] == [button]
    assert [b["data"]["action"] for b in card_parts(waiting.attachments[0].content)[1]] == [
        "accept_agreement"
    ]


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        (Locale.EN_US, "Your membership is renewed until 2027-12-14."),
        (Locale.ZH_TW, "您的會員資格已續約至 2027-12-14。"),
    ],
)
async def test_payment_received_for_a_renewal_order_says_until_when_it_is_renewed(
    journey_services, locale, said
):
    benefits = journey_services.benefits
    order = await benefits.create_order(
        "northwind", Actor(id="ana.silva", name="Ana Silva"), global_admin=True,
        offer_id="action_pack", purpose=OrderPurpose.RENEWAL,
    )  # fmt: skip
    payment = await benefits.confirm_payment(order.id, "HSBC-1")

    notice = order_paid(translator(locale), payment.order, payment.benefits)
    check_json(notice, locale)

    texts, _ = card_parts(notice.attachments[0].content)
    assert texts[1] == said
