"""What the requester reads in the chat when the primary contact has confirmed."""

from __future__ import annotations

from datetime import UTC, datetime

from dialogs.notices import contact_confirmed
from services.contact_verification import (
    Confirmation,
    ReviewState,
    TokenState,
    VettingStatus,
    VettingSubStatus,
)
from services.i18n import Locale, translator
from services.membership import Actor, ChecklistItem, OrganizationStatus, Step, StepState
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
