"""The membership journeys turn by turn, as the demo users, in both languages.

The demo data (services/demo/organizations.json) is loaded on a real SQLite database with a
fixed clock: Contoso's legacy record expired 30 days ago (Mei Lin is a global administrator,
David Chen is not); Fabrikam has no tenant (Olivia Wang); Northwind is in Partner Center and
expires in 20 days (Ana Silva is a global administrator and admin agent, Kenji Sato an agent).
"""

from __future__ import annotations

from datetime import date

import pytest
from botbuilder.core import MemoryStorage
from sqlalchemy import update

from services import db
from services.contact_verification import DeliveryState
from services.membership import Actor, Source, Step, StepState
from services.profile import LegalProfile
from services.tables import MembershipRow
from services.unit_of_work import UnitOfWorkFactory
from tests.support.chat import Chat

TODAY = date(2026, 11, 24)


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


def chat_as(storage, services, user: str, locale: str = "en-US") -> Chat:
    return Chat(storage, services, locale=locale, user_id=user, conversation_id=f"c-{user}")


async def test_status_shows_an_expired_legacy_record_as_view_only_with_the_next_step(
    storage, journey_services
):
    replies = await chat_as(storage, journey_services, "mei.lin").say("Membership status")

    card = replies[0]
    assert "Contoso Taiwan Ltd." in card.text
    assert "Silver competency, MPN ID 4100001: expired on 2026-10-25." in card.text
    assert "Expired 30 days ago." in card.text
    assert "view-only" in card.text
    assert "⬜ Sign in as a global administrator" in card.text
    assert card.buttons == ["Continue: Create the Partner Center account"]


async def test_status_in_chinese_shows_days_left_and_the_checklist(storage, journey_services):
    replies = await chat_as(storage, journey_services, "ana.silva", "zh-TW").say("會員狀態")

    card = replies[0]
    assert "Microsoft 行動寶盒訂閱，MPN ID 4100003：於 2026-12-14 到期。" in card.text
    assert "還剩 20 天。" in card.text
    assert "⏳ 主要連絡人已確認電子郵件" in card.text
    assert card.buttons == ["繼續：驗證主要連絡人"]


async def test_a_user_the_directory_does_not_know_is_told_how_to_get_known(
    storage, journey_services
):
    replies = await chat_as(storage, journey_services, "stranger").say("Membership status")

    assert replies[0].text.startswith("I can't find you in your organization's directory")


async def test_a_free_renewal_inside_the_window_is_confirmed_then_extends_a_year(
    storage, journey_services
):
    await _set_up_contoso(journey_services)  # a Silver competency renews at no charge
    chat = chat_as(storage, journey_services, "mei.lin", "zh-TW")

    question = await chat.say("續約")
    done = await chat.click("立即續約")
    shown = await chat.click("會員狀態")

    assert question[0].text.startswith("要續約 Contoso Taiwan Ltd. 的銀級專長認證")
    assert question[0].buttons == ["立即續約", "現在不要"]
    assert done[0].text == (
        "會員資格已續約\n\n已續約。您的銀級專長認證（MPN ID 4100001）現在有效至 2027-11-24。"
    )
    assert done[0].buttons == ["會員狀態"]
    assert "於 2027-11-24 到期" in shown[0].text  # the card's button shows the status
    status = await journey_services.membership.status("contoso")
    assert status.membership.expiry_date == date(2027, 11, 24)


async def test_a_paid_subscription_renews_through_an_order_and_its_payment(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "ana.silva", "zh-TW")

    question = await chat.say("續約")
    ordered = await chat.click("下續約訂單")
    again = await chat.say("續約")  # before the payment: the order waits, none is added
    [order] = await journey_services.benefits.orders("northwind", open_only=True)
    await journey_services.benefits.confirm_payment(order.id, "HSBC-7781")

    assert question[0].text == (
        "要續約 Northwind Traders Inc. 的Microsoft 行動寶盒訂閱（MPN ID 4100003）嗎？目前於 "
        "2026-12-14 到期。此訂閱每年費用為 HKD 4,150：我會建立一筆等待付款的訂單，付款後會員資格將"
        "有效至 2027-12-14。"
    )
    assert question[0].buttons == ["下續約訂單", "現在不要"]
    assert ordered[0].text.startswith(f"已建立續約訂單 {order.id}：HKD 4,150，等待付款中。")
    assert f"付款時請註明訂單編號 {order.id}" in ordered[0].text
    assert again[0].text.startswith(f"續約已經下單：訂單 {order.id}，HKD 4,150")
    status = await journey_services.membership.status("northwind")
    assert status.membership.expiry_date == date(2027, 12, 14)  # once paid


async def test_renewal_before_the_window_says_when_it_opens(storage, journey_services):
    await _set_up_contoso(journey_services)
    chat = chat_as(storage, journey_services, "mei.lin")
    await chat.say("renew")
    await chat.say("yes")

    replies = await chat.say("renew")

    assert replies[0].text == (
        "Renewal opens on 2027-08-26, 90 days before your membership expires on 2027-11-24. "
        "I'll be able to renew it from then on."
    )


async def test_declining_the_renewal_changes_nothing(storage, journey_services):
    chat = chat_as(storage, journey_services, "ana.silva")
    await chat.say("renew")

    replies = await chat.say("Not now")

    assert replies[0].text == "OK, nothing was changed."
    status = await journey_services.membership.status("northwind")
    assert status.membership.days_left == 20


async def _set_up_contoso(services) -> None:
    """Contoso's account set up (signed in, profile, agreement): its renewal is open."""
    mei = Actor(id="mei.lin", name="林美玲 Mei Lin")
    membership = services.membership
    await membership.create_partner_center_account(
        "contoso", "7f3c2a10-0000-4000-8000-000000c0de01", mei
    )
    await membership.register("contoso", LegalProfile(**PROFILE_FIELDS), mei)
    version = (await membership.current_agreement()).version
    await membership.decide_agreement(
        "contoso", version, mei, accepted=True, claimed_authority=True
    )


async def test_an_unclear_answer_to_a_question_re_asks_it_with_its_buttons(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "ana.silva", "zh-TW")
    await chat.say("續約")

    replies = await chat.say("也許吧")

    assert replies[0].buttons == ["下續約訂單", "現在不要"]


async def test_a_legacy_record_must_go_through_account_creation_before_renewal(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "mei.lin")

    question = await chat.say("renew")
    start = await chat.say("yes")

    assert question[0].text.startswith("Your membership has expired, and its record")
    assert question[1].buttons == ["Continue: Create the Partner Center account", "Not now"]
    assert start[0].text.startswith("Creating the Partner Center account takes a few minutes")
    assert start[0].buttons == ["Next", "Check what I need first", "Not now"]


async def test_someone_who_is_not_a_global_admin_is_stopped_and_told_who_can(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "david.chen", "zh-TW")
    await chat.say("建立帳戶")

    replies = await chat.say("下一步")

    assert replies[0].text.startswith("只有貴租用戶的全域管理員才能建立帳戶")
    assert "林美玲 Mei Lin" in replies[0].text
    status = await journey_services.membership.status("contoso")
    assert status.checklist[0].state is StepState.PENDING


async def test_an_organization_without_a_tenant_is_told_to_create_one(storage, journey_services):
    chat = chat_as(storage, journey_services, "olivia.wang")
    await chat.say("create account")

    replies = await chat.say("next")

    assert replies[0].text.startswith(
        "Fabrikam Design Co. has no Microsoft Entra ID (formerly Azure AD) tenant yet."
    )


GOOD_PROFILE = {
    "action": "submit_profile",
    "legal_name": "Contoso Taiwan Ltd.",
    "address_line1": "7F, No. 100, Xinyi Rd. Sec. 5",
    "city": "Taipei",
    "region": "Taipei City",
    "postal_code": "110",
    "country": "TW",
    "contact_first_name": "Mei",
    "contact_last_name": "Lin",
    "contact_email": "mei.lin@contoso.example",
    "contact_phone": "02 2345 6789",
}


def _field(card: dict, field: str) -> dict:
    return next(item for item in card["body"] if item.get("id") == field)


def _error_after(card: dict, field: str) -> str | None:
    body = card["body"]
    index = next(i for i, item in enumerate(body) if item.get("id") == field)
    following = body[index + 1] if index + 1 < len(body) else {}
    return following.get("text") if following.get("color") == "Attention" else None


async def test_a_global_admin_creates_the_account_from_sign_in_to_what_is_left(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "mei.lin")
    await chat.say("Create the Partner Center account")

    signed_in = await chat.click("Next")
    form = signed_in[1].card
    assert signed_in[0].text == (
        "Signed in as 林美玲 Mei Lin, global administrator. Your membership record moved from "
        "the Partner Membership Center into Partner Center."
    )
    assert form is not None and form["version"] == "1.5"
    assert _field(form, "legal_name")["value"] == "Contoso Taiwan Ltd."
    assert signed_in[1].buttons == ["Register now", "Cancel"]

    bad = await chat.click("Register now", {**GOOD_PROFILE, "city": "",
                           "contact_email": "mei.lin@", "contact_phone": "12"})  # fmt: skip
    again = bad[0].card
    assert again is not None
    assert _field(again, "contact_email")["value"] == "mei.lin@"  # the user's values are kept
    assert _error_after(again, "city") == "This field is required."
    assert _error_after(again, "contact_email") == "This is not a valid email address."
    assert _error_after(again, "contact_phone") == (
        "This is not a valid phone number for the chosen country or region."
    )
    assert _error_after(again, "legal_name") is None

    registered = await chat.click("Register now", GOOD_PROFILE)
    assert registered[0].text.startswith(
        "Registered. An email will ask Mei Lin (mei.lin@contoso.example)"
    )
    assert registered[1].text.startswith("**Microsoft Partner Network agreement**, version")
    await chat.click("Yes, I can sign for it")
    accepted = await chat.click("Accept")

    assert accepted[0].text.startswith("Recorded: for Contoso Taiwan Ltd., 林美玲 Mei Lin accepted")
    assert accepted[1].text.startswith("You are in the Admin agent group")
    assert accepted[2].text == (
        "Still to do: Primary contact's email confirmed. Pick this up again from the menu."
    )
    status = await journey_services.membership.status("contoso")
    assert status.membership.source is Source.PARTNER_CENTER and not status.membership.view_only
    states = {item.step: item.state for item in status.checklist}
    assert states[Step.LEGAL_PROFILE] is StepState.DONE
    assert states[Step.CONTACT_VERIFICATION] is StepState.WAITING
    assert states[Step.ADMIN_AGENT] is StepState.DONE
    profile = await journey_services.membership.profile("contoso")
    assert profile is not None and profile.contact_phone == "+886223456789"
    verification = await journey_services.verification.status("contoso")
    assert verification.contact_email == "mei.lin@contoso.example"
    assert verification.delivery is DeliveryState.PENDING and not verification.verified


PROFILE_FIELDS = {key: value for key, value in GOOD_PROFILE.items() if key != "action"}


async def _at_the_profile_form(storage, journey_services, locale: str = "en-US") -> Chat:
    chat = chat_as(storage, journey_services, "mei.lin", locale)
    await chat.say("create account")
    await chat.say("next")
    return chat


async def test_typing_instead_of_submitting_the_form_says_what_to_do_and_shows_it_again(
    storage, journey_services
):
    chat = await _at_the_profile_form(storage, journey_services, "zh-TW")

    replies = await chat.say("我的公司是 Contoso")

    assert replies[0].text == "請填寫表單並選取「立即註冊」，或選取「取消」。"
    assert replies[1].card is not None
    assert _field(replies[1].card, "legal_name")["label"] == "法律公司名稱"


async def test_cancelling_the_form_changes_nothing_and_goes_on_to_the_agreement(
    storage, journey_services
):
    chat = await _at_the_profile_form(storage, journey_services)

    replies = await chat.click("Cancel", GOOD_PROFILE)  # the inputs are not sent

    assert replies[0].text == "OK, the profile was not changed."
    assert replies[1].text.startswith("**Microsoft Partner Network agreement**")
    assert await journey_services.membership.profile("contoso") is None


async def test_a_contact_email_on_a_domain_the_tenant_has_not_verified_is_flagged(
    storage, journey_services
):
    chat = await _at_the_profile_form(storage, journey_services)

    replies = await chat.submit({**GOOD_PROFILE, "contact_email": "mei@gmail.example"})

    assert replies[1].text.startswith(
        "Note: gmail.example is not a domain your tenant has verified"
    )


async def test_changing_an_existing_profile_shows_the_changes_and_warns_of_a_new_review(
    storage, journey_services
):
    chat = await _at_the_profile_form(storage, journey_services)
    await chat.submit(GOOD_PROFILE)
    again = chat_as(storage, journey_services, "mei.lin")
    await again.say("cancel")
    await again.say("Verify the primary contact")
    await again.click("Change the primary contact")

    replies = await again.submit({**GOOD_PROFILE, "legal_name": "Contoso Taiwan Co., Ltd."})

    assert replies[0].text == (
        "These will change:\n\n- Legal company name: Contoso Taiwan Ltd. → Contoso Taiwan Co., Ltd."
    )
    assert replies[1].text == (
        "Changing the legal name or address starts the review of your profile again."
    )
    assert replies[2].buttons == ["Save and register", "Edit again"]
    edit = await again.click("Edit again")
    assert _field(edit[0].card, "legal_name")["value"] == "Contoso Taiwan Co., Ltd."


async def test_a_colleague_resumes_the_journey_at_the_first_pending_step(storage, journey_services):
    replies = await chat_as(storage, journey_services, "kenji.sato").say("create account")

    assert replies[0].text == (
        "Welcome back. Northwind Traders Inc.'s account setup picks up at: Admin agent role."
    )
    assert replies[1].text.startswith("The legal business profile") is False
    assert (
        replies[1].text
        == "You are in the Admin agent group, so you can finish the setup, adding users included."
    )


async def test_someone_who_cannot_sign_is_told_who_must_and_nothing_is_recorded(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "olivia.wang", "zh-TW")
    await chat.say("接受合作夥伴合約")

    replies = await chat.say("不，我沒有")

    assert replies[0].text.startswith(
        "只有有權代表 Fabrikam Design Co. 簽署法律合約的人才能接受此合約"
    )
    status = await journey_services.membership.status("fabrikam")
    assert status.checklist[3].state is StepState.PENDING


async def test_declining_the_agreement_is_recorded_and_explained(storage, journey_services):
    chat = chat_as(storage, journey_services, "olivia.wang")
    await chat.say("Accept the partner agreement")
    await chat.say("yes")

    replies = await chat.say("Decline")

    assert replies[0].text.startswith("Recorded that you declined.")


async def test_an_accepted_agreement_is_not_asked_again(storage, journey_services):
    replies = await chat_as(storage, journey_services, "kenji.sato").say("agreement")

    assert replies[0].text.startswith(
        "Northwind Traders Inc. has already accepted the partner agreement"
    )


async def test_check_again_in_english_says_a_new_check_was_made(storage, journey_services):
    chat = chat_as(storage, journey_services, "olivia.wang")
    await chat.say("Check the admin agent role")

    again = await chat.click("Check again")

    assert again[0].text == (
        "I looked your role up again just now (check 2): you are still not in the Admin agent "
        "group."
    )
    assert again[-1].buttons == ["Check again", "Later"]


async def test_an_admin_agent_completes_the_step_at_once(storage, journey_services):
    replies = await chat_as(storage, journey_services, "ana.silva", "zh-TW").say(
        "檢查系統管理代理人角色"
    )

    assert replies[0].text == "您已在系統管理代理人群組中，可以完成設定，包括新增使用者。"
    status = await journey_services.membership.status("northwind")
    assert status.checklist[4].state is StepState.DONE


async def test_help_inside_a_journey_answers_and_asks_the_journeys_question_again(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "ana.silva")
    await chat.say("renew")

    replies = await chat.say("help")

    assert "At any step you can type" in replies[0].text
    assert replies[1].text.startswith("Renew the Microsoft Action Pack subscription of Northwind")


async def test_switching_language_inside_a_journey_re_asks_in_the_new_language(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "ana.silva")
    await chat.say("renew")

    replies = await chat.say("中文")

    assert replies[1].text.startswith("要續約 Northwind Traders Inc. 的Microsoft 行動寶盒訂閱")
    assert replies[1].buttons == ["下續約訂單", "現在不要"]


async def test_cancel_inside_a_journey_returns_to_the_menu(storage, journey_services):
    chat = chat_as(storage, journey_services, "ana.silva")
    await chat.say("renew")

    replies = await chat.say("cancel")

    assert replies[0].text == "OK, I've stopped that. Anything you saved is kept."
    assert replies[1].text.startswith("What would you like to do?")


async def test_before_you_begin_gives_advice_for_each_missing_prerequisite_then_welcomes_again(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "david.chen", "zh-TW")
    await chat.say("建立帳戶")

    first = await chat.click("先確認需要準備什麼")
    no_admin = await chat.click("否")
    await chat.say("是")
    await chat.click("是")
    summary = await chat.say("是")

    assert first[0].text.startswith(
        "您是否有貴組織 Microsoft Entra ID（前稱 Azure AD）租用戶的全域管理員認證？"
    )
    assert first[0].buttons == ["是", "否"]
    assert no_admin[0].text.startswith("還沒有租用戶？")
    assert "林美玲 Mei Lin" in no_admin[0].text
    assert summary[0].text == "準備好缺少的項目後，就可以建立帳戶了。"
    assert summary[1].buttons == ["下一步", "先確認需要準備什麼", "現在不要"]


async def test_with_every_prerequisite_at_hand_the_user_is_told_they_are_ready(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "mei.lin")
    await chat.say("create account")
    await chat.say("Check what I need first")
    for _ in range(3):
        await chat.say("yes")

    replies = await chat.say("yes")

    assert replies[0].text == "You have everything: you're ready."


async def test_someone_outside_the_admin_agent_group_gets_the_steps_and_can_check_again(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "olivia.wang", "zh-TW")

    steps = await chat.say("檢查系統管理代理人角色")
    again = await chat.click("再檢查一次")
    third = await chat.say("再檢查一次")
    later = await chat.click("稍後")

    assert steps[0].text.startswith("您尚未加入系統管理代理人群組")
    assert "[帳戶設定] > [使用者管理]" in steps[0].text
    # Each check says that it was made, so that "Check again" never just repeats itself.
    assert (
        again[0].text == "我剛剛又查了一次您的角色（第 2 次查詢）：您仍不在系統管理代理人群組中。"
    )
    assert third[0].text.startswith("我剛剛又查了一次您的角色（第 3 次查詢）")
    assert again[-1].buttons == ["再檢查一次", "稍後"]
    assert later[0].text.startswith("好的。此步驟會維持待處理")
    status = await journey_services.membership.status("fabrikam")
    assert status.checklist[4].state is StepState.PENDING


async def test_after_creating_the_account_an_expired_membership_can_be_renewed(
    storage, journey_services
):
    await _set_up_contoso(journey_services)
    chat = chat_as(storage, journey_services, "mei.lin", "zh-TW")
    await chat.say("續約")

    replies = await chat.say("是")

    assert replies[0].text.endswith(
        "已續約。您的銀級專長認證（MPN ID 4100001）現在有效至 2027-11-24。"
    )


async def test_switching_language_at_the_form_shows_the_form_again_in_the_new_language(
    storage, journey_services
):
    chat = await _at_the_profile_form(storage, journey_services)

    replies = await chat.say("繁體中文")

    assert replies[0].text == "好的，從現在起我會用繁體中文和您對話。"
    assert replies[1].card is not None
    assert _field(replies[1].card, "contact_email")["label"] == "主要連絡人的電子郵件"


async def test_a_button_from_an_older_card_re_asks_the_current_question(storage, journey_services):
    chat = chat_as(storage, journey_services, "ana.silva")
    await chat.say("hello")  # the menu card
    await chat.say("renew")

    replies = await chat.click("Membership status")  # on the menu card, above the question

    assert replies[0].text.startswith("Renew the Microsoft Action Pack subscription")
    assert replies[0].buttons == ["Place the renewal order", "Not now"]
    status = await journey_services.membership.status("northwind")
    assert status.membership.days_left == 20


async def test_a_button_is_read_by_its_action_whatever_label_teams_sends_along(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "ana.silva")
    await chat.say("renew")

    # Teams sends a messageBack's text with its value; the value decides.
    replies = await chat.submit({"action": "renew.not_now"}, text="Renew now")

    assert replies[0].text == "OK, nothing was changed."


async def test_clicking_the_form_button_of_an_older_card_keeps_the_form_waiting(
    storage, journey_services
):
    chat = await _at_the_profile_form(storage, journey_services)

    replies = await chat.click("Check what I need first")  # the welcome card, above the form

    assert replies[0].text == "Please fill in the form and select “Register now”, or “Cancel”."
    assert replies[1].card is not None and replies[1].buttons == ["Register now", "Cancel"]


async def test_the_status_cards_button_continues_the_next_step(storage, journey_services):
    chat = chat_as(storage, journey_services, "mei.lin", "zh-TW")
    await chat.say("會員狀態")

    replies = await chat.click("繼續：建立合作夥伴中心帳戶")

    assert replies[0].text.startswith("建立合作夥伴中心帳戶需要幾分鐘")
    assert replies[0].buttons == ["下一步", "先確認需要準備什麼", "現在不要"]


def _input_ids(card: dict) -> list[str]:
    return [item["id"] for item in card["body"] if item.get("type", "").startswith("Input.")]


async def test_the_chinese_form_asks_the_family_name_first_and_the_english_one_the_given_name(
    storage, journey_services
):
    chinese = await _at_the_profile_form(storage, journey_services, "zh-TW")
    form = (await chinese.say("說明"))[-1].card  # the form, shown again
    english = (await chinese.say("English"))[-1].card

    names = ["contact_last_name", "contact_first_name"]
    assert [i for i in _input_ids(form) if i in names] == names
    assert _field(form, "contact_last_name")["label"] == "主要連絡人的姓氏"
    assert [i for i in _input_ids(english) if i in names] == names[::-1]


async def test_a_chinese_name_reads_family_name_first_without_a_space_in_either_language(
    storage, journey_services
):
    chinese = await _at_the_profile_form(storage, journey_services, "zh-TW")
    name = {"contact_last_name": "林", "contact_first_name": "美玲"}

    registered = await chinese.submit({**GOOD_PROFILE, **name})
    await chinese.say("cancel")
    await chinese.say("English")
    await chinese.say("Verify the primary contact")
    await chinese.click("Change the primary contact")
    await chinese.submit({**GOOD_PROFILE, **name, "contact_phone": "02 2345 6780"})
    saved = await chinese.say("Save and register")

    assert registered[0].text.startswith(
        "已註冊。我們會寄電子郵件請 林美玲（mei.lin@contoso.example）"
    )
    assert saved[0].text.startswith(
        "Registered. An email will ask 林美玲 (mei.lin@contoso.example)"
    )


async def test_the_chinese_form_offers_countries_only_in_stroke_order(storage, journey_services):
    chat = await _at_the_profile_form(storage, journey_services, "zh-TW")
    form = (await chat.say("說明"))[-1].card

    choices = [choice["title"] for choice in _field(form, "country")["choices"]]
    refused = await chat.submit({**GOOD_PROFILE, "country": "XK"})

    assert choices[:3] == ["千里達及托巴哥 (TT)", "土耳其 (TR)", "土克斯及開科斯群島 (TC)"]
    assert len(choices) == 249 and not any(c.endswith(("(XA)", "(XB)", "(XK)")) for c in choices)
    assert _error_after(refused[0].card, "country") == "請從清單中選擇國家或地區。"


async def test_an_expiry_in_the_past_is_said_as_past_on_the_card_and_in_the_renewal_question(
    storage, journey_services, sqlite_url
):
    engine = db.create_engine(sqlite_url)
    async with UnitOfWorkFactory(engine)() as unit:  # Northwind's expired 3 days ago
        await unit.session.execute(
            update(MembershipRow)
            .where(MembershipRow.organization_id == "northwind")
            .values(expiry_date=date(2026, 11, 21))
        )
        await unit.commit()
    await engine.dispose()
    chinese = chat_as(storage, journey_services, "kenji.sato", "zh-TW")
    english = chat_as(storage, journey_services, "ana.silva")

    card = await chinese.say("會員狀態")
    question = await english.say("renew")
    contoso = await chat_as(storage, journey_services, "mei.lin", "zh-TW").say("會員狀態")

    assert "Microsoft 行動寶盒訂閱，MPN ID 4100003：已於 2026-11-21 到期。" in card[0].text
    assert "It expired on 2026-11-21. The subscription costs HKD 4,150 a year" in question[0].text
    assert "銀級專長認證，MPN ID 4100001：已於 2026-10-25 到期。" in contoso[0].text


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("en-US", "Only a global administrator of your tenant can go on with “Create the Partner "
                  "Center account”: 林美玲 Mei Lin. Ask one of them to open this chat."),
        ("zh-TW", "只有貴租用戶的全域管理員才能繼續「建立合作夥伴中心帳戶」：林美玲 Mei Lin。"
                  "請其中一位開啟此對話。"),
    ],
)  # fmt: skip
async def test_the_status_card_names_the_global_admins_instead_of_a_journey_david_cannot_do(
    storage, journey_services, locale, said
):
    replies = await chat_as(storage, journey_services, "david.chen", locale).say("status")

    assert replies[0].buttons == []
    assert replies[0].text.endswith(said)


async def test_a_global_admin_still_gets_the_continue_button(storage, journey_services):
    replies = await chat_as(storage, journey_services, "mei.lin").say("status")

    assert replies[0].buttons == ["Continue: Create the Partner Center account"]


@pytest.mark.parametrize(
    ("locale", "typed", "named"),
    [
        ("en-US", "Azure AD", "Microsoft Entra ID (formerly Azure AD) tenant"),
        ("en-US", "sign in to azure active directory", "Microsoft Entra ID (formerly Azure AD)"),
        ("zh-TW", "我要登入 Azure AD", "Microsoft Entra ID（前稱 Azure AD）租用戶"),
        ("zh-TW", "建立新的租用戶", "Microsoft Entra ID（前稱 Azure AD）租用戶"),
    ],
)
async def test_azure_ad_typed_at_the_menu_is_taken_as_microsoft_entra_id_sign_in(
    storage, journey_services, locale, typed, named
):
    chat = chat_as(storage, journey_services, "mei.lin", locale)
    await chat.join()

    replies = await chat.say(typed)

    assert named in replies[0].text  # the account journey, whose first step is signing in
    assert replies[0].buttons[0] in ("Next", "下一步")
