"""Benefits and upgrades in the chat, as the demo users, in both languages.

Demo data (see test_journeys.py), in Hong Kong dollars for Northwind (HK): Northwind has the
Action Pack and expires on 2026-12-14; its contact verification and admin agent steps are not
done. Ana Silva is its global administrator, Kenji Sato is not. Contoso's legacy record expired
30 days ago (Mei Lin). The catalog is the one shipped (services/catalog.yaml).
"""

from __future__ import annotations

from datetime import date

import pytest
from botbuilder.core import MemoryStorage
from sqlalchemy import update

from services.benefits import OrderPurpose
from services.membership import Actor, Step, StepState
from services.tables import MembershipRow
from tests.support.chat import Chat, Reply

ANA = Actor(id="ana.silva", name="Ana Silva")


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


def chat_as(storage, services, user: str, locale: str = "en-US") -> Chat:
    return Chat(storage, services, locale=locale, user_id=user, conversation_id=f"c-{user}")


async def open_benefits(chat: Chat, path: str) -> list[Reply]:
    await chat.say("Buy and activate benefits" if chat.locale == "en-US" else "購買及啟用權益")
    return await chat.click(path)


async def in_good_standing(services, organization_id: str = "northwind") -> None:
    for step in Step:
        await services.membership.mark_step(organization_id, step, StepState.DONE, ANA)


async def paid_order(services, offer_id: str) -> str:
    # Northwind holds the Action Pack: it renews it (the next term's benefits) rather than buys.
    purpose = OrderPurpose.RENEWAL if offer_id == "action_pack" else OrderPurpose.PURCHASE
    order = await services.benefits.create_order(
        "northwind", ANA, global_admin=True, offer_id=offer_id, purpose=purpose
    )
    await services.benefits.confirm_payment(order.id, "PAY-1")
    return order.id


@pytest.mark.parametrize(
    ("locale", "summary", "buttons"),
    [
        (
            "en-US",
            "Northwind Traders Inc.: Microsoft Action Pack subscription. Benefits active: 0; "
            "ready to activate: 0; orders waiting for payment: 0. What would you like to do?",
            ["Upgrade the membership", "Buy offers", "Activate and manage benefits",
             "Add users and permissions", "Back to the menu"],
        ),
        (
            "zh-TW",
            "Northwind Traders Inc.：Microsoft 行動寶盒訂閱。使用中的權益：0；可以啟用：0；"
            "等待付款的訂單：0。您想做什麼？",
            ["升級會員資格", "購買方案", "啟用及管理權益", "新增使用者及權限"],
        ),
    ],
)  # fmt: skip
async def test_the_hub_sums_up_the_organization_and_offers_four_paths(
    storage, journey_services, locale, summary, buttons
):
    chat = chat_as(storage, journey_services, "ana.silva", locale)

    replies = await chat.say("Buy and activate benefits" if locale == "en-US" else "購買及啟用權益")

    assert replies[-1].text == summary
    assert replies[-1].buttons[: len(buttons)] == buttons


@pytest.mark.parametrize(
    ("locale", "path", "told"),
    [
        ("en-US", "Buy offers", "Only a global administrator of your organization can buy "
         "offers, and you are not one. Global administrators: Ana Silva."),
        ("zh-TW", "購買方案", "只有貴組織的全域管理員才能購買方案，而您不是全域管理員。"
         "全域管理員：Ana Silva。"),
    ],
)  # fmt: skip
async def test_someone_who_is_not_a_global_administrator_is_told_who_can_buy(
    storage, journey_services, locale, path, told
):
    chat = chat_as(storage, journey_services, "kenji.sato", locale)

    replies = await open_benefits(chat, path)

    assert replies[0].text.startswith(told)
    assert await journey_services.benefits.orders("northwind") == []


async def test_an_order_is_priced_in_the_organizations_currency_and_waits_for_payment(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "ana.silva")

    offers = await open_benefits(chat, "Buy offers")
    assert "Product support incidents (5-pack): HKD 19,500" in offers[0].text
    assert "Action Pack" not in offers[0].text  # Northwind holds it: it renews it instead
    assert offers[-1].buttons[-1] == "Not now"
    question = await chat.click("Product support incidents (5-pack)")
    assert question[-1].text.startswith("Order Product support incidents (5-pack) for HKD 19,500?")
    placed = await chat.click("Place the order")

    [order] = await journey_services.benefits.orders("northwind", open_only=True)
    assert placed[0].text.startswith(
        f"Order {order.id} is placed: HKD 19,500, waiting for payment."
    )
    assert placed[0].text.endswith(
        "To pay: The program's finance team sends the invoice with the payment details to the "
        f"buyer; quote the order number {order.id} with the payment."
    )
    assert (order.amount, order.currency, order.buyer_id) == (19500, "HKD", "ana.silva")
    [card, *_] = await chat.say("Membership status")
    assert f"⏳ Order {order.id}: HKD 19,500, waiting for payment since 2026-11-24." in card.text
    assert "Buy and activate benefits" in card.buttons


async def test_not_now_places_no_order(storage, journey_services):
    chat = chat_as(storage, journey_services, "ana.silva", "zh-TW")

    await open_benefits(chat, "購買方案")
    await chat.click("產品支援事件 (5 件組)")
    replies = await chat.click("現在不要")

    assert replies[0].text == "好的，沒有做任何變更。"
    assert await journey_services.benefits.orders("northwind") == []


async def test_a_paid_benefit_activates_once_even_when_its_button_is_clicked_twice(
    storage, journey_services
):
    await paid_order(journey_services, "support_incident_pack")
    chat = chat_as(storage, journey_services, "ana.silva")

    listed = await open_benefits(chat, "Activate and manage benefits")
    assert "Ready to activate" in listed[0].text
    assert "Product support incidents: 0 of 5 incidents used, until 2026-12-14." in listed[0].text
    button = next(
        a for a in listed[-1].actions if a["title"] == "Activate: Product support incidents"
    )
    first = await chat.submit({"action": button["data"]["action"]})
    again = await chat.submit({"action": button["data"]["action"]})  # the same, older card

    assert first[0].text == (
        "Product support incidents is active: activated by Ana Silva on 2026-11-24, until "
        "2026-12-14."
    )
    assert again[0].text == (
        "Product support incidents was already activated, by Ana Silva on 2026-11-24."
    )
    [benefit] = await journey_services.benefits.benefits("northwind")
    assert benefit.activated_by == "Ana Silva"
    [card, *_] = await chat.say("Membership status")
    assert "✅ Product support incidents: 0 of 5 incidents used, until 2026-12-14." in card.text


async def test_seats_are_asked_for_and_a_wrong_number_is_asked_again_in_chinese(
    storage, journey_services
):
    await paid_order(journey_services, "action_pack")
    chat = chat_as(storage, journey_services, "ana.silva", "zh-TW")

    await open_benefits(chat, "啟用及管理權益")
    asked = await chat.click("啟用：Microsoft 365 商務進階版 (內部使用)")
    wrong = await chat.say("12")
    done = await chat.say("３")

    assert (
        asked[0].text == "您現在需要多少個 Microsoft 365 商務進階版 (內部使用) 的授權數（1 到 5）？"
    )
    assert wrong[0].text == "請輸入 1 到 5 之間的整數。"
    assert done[0].text.startswith("Microsoft 365 商務進階版 (內部使用) 已啟用：由 Ana Silva")
    benefit = next(
        b for b in await journey_services.benefits.benefits("northwind")
        if b.spec.id == "m365_business_premium"
    )  # fmt: skip
    assert benefit.detail == "3"


async def test_a_tenant_is_asked_for_and_the_organizations_own_is_one_click_away(
    storage, journey_services
):
    await paid_order(journey_services, "action_pack")
    chat = chat_as(storage, journey_services, "ana.silva")

    await open_benefits(chat, "Activate and manage benefits")
    asked = await chat.click("Activate: Azure credits")
    wrong = await chat.say("my tenant")
    done = await chat.click("Our tenant: Northwind Traders (northwind.example)")

    assert asked[0].buttons == ["Our tenant: Northwind Traders (northwind.example)"]
    assert asked[0].text.startswith(
        "Which Microsoft Entra ID (formerly Azure AD) tenant should Azure credits go to?"
    )
    assert wrong[0].text.startswith("That is not a tenant ID or an onmicrosoft.com domain.")
    assert done[0].text.startswith("Azure credits is active: activated by Ana Silva")
    benefit = next(
        b for b in await journey_services.benefits.benefits("northwind")
        if b.spec.id == "azure_credit"
    )  # fmt: skip
    assert benefit.detail == "7f3c2a10-0000-4000-8000-000000c0de02"


async def test_the_tenant_button_is_named_in_the_language_of_the_moment_and_can_be_typed(
    storage, journey_services
):
    await paid_order(journey_services, "action_pack")
    chat = chat_as(storage, journey_services, "kenji.sato", "zh-TW")

    await open_benefits(chat, "啟用及管理權益")
    asked = await chat.click("啟用：Azure 點數")
    switched = await chat.say("English")
    done = await chat.say("我們的租用戶：Northwind Traders（northwind.example）")

    assert asked[0].buttons == ["我們的租用戶：Northwind Traders（northwind.example）"]
    assert switched[-1].buttons == ["Our tenant: Northwind Traders (northwind.example)"]
    assert done[0].text.startswith("Azure credits is active")
    benefit = next(
        b for b in await journey_services.benefits.benefits("northwind")
        if b.spec.id == "azure_credit"
    )  # fmt: skip
    assert benefit.detail == "7f3c2a10-0000-4000-8000-000000c0de02"


async def test_benefits_end_with_the_membership_term(storage, journey_services, clock):
    await paid_order(journey_services, "support_incident_pack")
    chat = chat_as(storage, journey_services, "ana.silva")
    clock.at = clock.at.replace(month=12, day=15)  # the day after the term ended

    listed = await open_benefits(chat, "Activate and manage benefits")

    assert "Expired" in listed[0].text
    assert "Ready to activate" not in listed[0].text
    assert not any(reply.text == "Activate one?" for reply in listed)


@pytest.mark.parametrize(
    ("locale", "path", "said", "buttons"),
    [
        ("en-US", "Upgrade the membership",
         "To upgrade, Contoso Taiwan Ltd. first sets up its Partner Center account. Still to do: "
         "Sign in as a global administrator; Legal business profile and primary contact; "
         "Partner agreement accepted.",
         ["Continue: Create the Partner Center account", "Not now"]),
        ("zh-TW", "升級會員資格",
         "若要升級，Contoso Taiwan Ltd. 須先完成合作夥伴中心帳戶的設定。尚待完成：以全域管理員身分"
         "登入、法律商務設定檔及主要連絡人、已接受合作夥伴合約。",
         ["繼續：建立合作夥伴中心帳戶", "現在不要"]),
    ],
)  # fmt: skip
async def test_an_expired_legacy_record_must_create_its_account_before_upgrading(
    storage, journey_services, locale, path, said, buttons
):
    chat = chat_as(storage, journey_services, "mei.lin", locale)

    replies = await open_benefits(chat, path)

    assert said in replies[-1].text
    assert replies[-1].buttons == buttons
    started = await chat.click(buttons[0])  # account creation starts at its first step
    assert started[0].text.startswith(
        "Creating the Partner Center account takes a few minutes"
        if locale == "en-US"
        else "建立合作夥伴中心帳戶需要幾分鐘"
    )


@pytest.mark.parametrize(
    ("locale", "path", "current", "tiers", "question"),
    [
        ("en-US", "Upgrade the membership", "You have the Microsoft Action Pack subscription.",
         ("Silver competency", "Gold competency"), "Which one would you like?"),
        ("zh-TW", "升級會員資格", "您目前是Microsoft 行動寶盒訂閱。",
         ("銀級專長認證", "金級專長認證"), "您想要哪一個？"),
    ],
)  # fmt: skip
async def test_an_account_set_up_upgrades_while_the_contact_email_and_admin_agent_wait(
    storage, journey_services, locale, path, current, tiers, question
):
    chat = chat_as(storage, journey_services, "ana.silva", locale)

    replies = await open_benefits(chat, path)

    card = replies[0]
    assert current in card.text
    assert all(tier in card.text for tier in tiers)
    assert replies[-1].text == question
    assert replies[-1].buttons[:2] == list(tiers)


@pytest.mark.parametrize(
    ("locale", "said", "button"),
    [
        ("en-US", "Your membership expired on 2026-11-04: renew it first, then you can upgrade.",
         "Continue: Renew the membership"),
        ("zh-TW", "您的會員資格已於 2026-11-04 到期：請先續約，之後即可升級。",
         "繼續：續約會員資格"),
    ],
)  # fmt: skip
async def test_an_expired_membership_is_renewed_before_it_upgrades(
    storage, journey_services, locale, said, button
):
    async with journey_services.membership._units() as unit:  # Northwind expired 20 days ago
        await unit.session.execute(
            update(MembershipRow).where(MembershipRow.organization_id == "northwind")
            .values(expiry_date=date(2026, 11, 4))
        )  # fmt: skip
        await unit.commit()
    chat = chat_as(storage, journey_services, "ana.silva", locale)

    replies = await chat.say("upgrade" if locale == "en-US" else "升級")

    assert replies[0].text == said
    assert replies[0].buttons == [button]
    renewal = await chat.click(button)
    assert "2026-11-04" in renewal[0].text and len(renewal[0].buttons) == 2


async def test_a_network_member_upgrades_to_the_action_pack_by_buying_it(storage, journey_services):
    await in_good_standing(journey_services)
    async with journey_services.membership._units() as unit:  # Northwind as a network member
        await unit.session.execute(
            update(MembershipRow).where(MembershipRow.organization_id == "northwind")
            .values(tier="network")
        )  # fmt: skip
        await unit.commit()
    chat = chat_as(storage, journey_services, "ana.silva")

    await open_benefits(chat, "Upgrade the membership")
    replies = await chat.click("Microsoft Action Pack subscription")

    assert replies[-1].text.startswith("Order Microsoft Action Pack (one year) for HKD 4,150?")
    await chat.click("Place the order")
    [order] = await journey_services.benefits.orders("northwind")
    payment = await journey_services.benefits.confirm_payment(order.id, "PAY-7")
    assert payment.newly_paid
    assert (await journey_services.membership.status("northwind")).membership.tier == "action_pack"


async def test_a_competency_is_applied_for_with_attestations_and_evidence_then_in_review(
    storage, journey_services
):
    await in_good_standing(journey_services)
    chat = chat_as(storage, journey_services, "ana.silva")
    await open_benefits(chat, "Upgrade the membership")
    areas = await chat.click("Silver competency")
    replies = await chat.click(areas[-1].buttons[0])  # the first solution area

    steps = 0
    while replies[-1].text.startswith("Requirement"):
        steps += 1
        if "Describe your evidence" in replies[-1].text:
            short = await chat.say("yes")
            assert short[0].text.startswith("Please describe the evidence in a few words")
            replies = await chat.say("https://contoso.example/case-studies/2026 (three projects)")
        else:
            replies = await chat.click("Yes, we meet it")
    assert steps >= 2
    assert replies[-1].text.startswith("Send the application for the Silver competency for review?")
    done = await chat.click("Send the application")

    [application] = await journey_services.benefits.applications("northwind")
    assert done[0].text.startswith(
        f"Application {application.id} for the Silver competency is in review."
    )
    assert application.status == "in_review"
    assert (await journey_services.membership.status("northwind")).membership.tier == "action_pack"
    again = await open_benefits(chat, "Upgrade the membership")
    assert "Not yet: an application for it is in review." in again[0].text


async def test_a_requirement_not_met_ends_the_application_with_nothing_sent(
    storage, journey_services
):
    await in_good_standing(journey_services)
    chat = chat_as(storage, journey_services, "ana.silva", "zh-TW")
    await open_benefits(chat, "升級會員資格")
    areas = await chat.click("銀級專長認證")
    replies = await chat.click(areas[-1].buttons[0])
    while "證明" in replies[-1].text:  # evidence first, if any, then the attestation
        replies = await chat.say("https://contoso.example/evidence-of-our-work")

    replies = await chat.click("尚未符合")

    assert replies[0].text.startswith("那麼目前還無法送出申請")
    assert await journey_services.benefits.applications("northwind") == []


async def test_the_roles_are_explained_with_how_to_assign_them(storage, journey_services):
    chat = chat_as(storage, journey_services, "kenji.sato", "zh-TW")

    replies = await open_benefits(chat, "新增使用者及權限")

    assert replies[0].text.startswith("**合作夥伴中心的角色**")
    for role in ("全域管理員", "帳戶管理員", "系統管理代理人", "MPN 合作夥伴管理員", "轉介管理員"):
        assert role in replies[0].text


async def test_the_roles_in_chinese_name_competencies_as_the_partner_center_page_does(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "kenji.sato", "zh-TW")

    replies = await open_benefits(chat, "新增使用者及權限")

    assert "管理會員資格：專長認證、權益及行動寶盒" in replies[0].text
    assert "能力認證" not in replies[0].text
