"""Verifying the primary contact in the chat, on the real verification service and outbox.

The demo data is loaded on a real SQLite database with a fixed clock (2026-11-24 09:00 UTC).
Contoso's profile is registered with Mei Lin as its primary contact; the emails wait in the
outbox until a test runs the outbox sender with a fake mailer.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from botbuilder.core import MemoryStorage
from sqlalchemy import func, select

from services import db
from services.contact_verification import TokenState
from services.demo_data import DEMO_ORGANIZATIONS, load_demo
from services.mailer import FakeMailer
from services.membership import Actor
from services.outbox import OutboxSender, read_message
from services.profile import LegalProfile
from services.tables import EmailOutboxRow
from services.unit_of_work import UnitOfWorkFactory
from tests.conftest import journey_services_on
from tests.support.chat import Chat

MEI = Actor(id="mei.lin", name="林美玲 Mei Lin")
CONTOSO_TENANT = "7f3c2a10-0000-4000-8000-000000c0de01"
PROFILE = {
    "legal_name": "Contoso Taiwan Ltd.",
    "address_line1": "7F, No. 100, Xinyi Rd. Sec. 5",
    "city": "Taipei",
    "region": "Taipei City",
    "postal_code": "110",
    "country": "TW",
    "contact_first_name": "Mei",
    "contact_last_name": "Lin",
    "contact_email": "mei.lin@contoso.example",
    "contact_phone": "+886223456789",
}
ACTIONS = ["Send the email again", "Change the primary contact", "Back to the menu"]


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


@pytest.fixture
async def units(sqlite_url, journey_services):
    """Units of work on the journey services' database (to read and send the outbox)."""
    engine = db.create_engine(sqlite_url)
    yield UnitOfWorkFactory(engine)
    await engine.dispose()


def chat_as(storage, services, user="mei.lin", locale="en-US", timezone=None) -> Chat:
    return Chat(
        storage, services, locale=locale, timezone=timezone, user_id=user,
        conversation_id=f"c-{user}",
    )  # fmt: skip


async def register(services, **changes: str) -> None:
    """Contoso signs in and registers its profile: the first email is queued."""
    await services.membership.create_partner_center_account(
        "contoso", CONTOSO_TENANT, MEI, ("contoso.example",)
    )
    profile = LegalProfile(**{**PROFILE, **changes})
    await services.membership.register("contoso", profile, MEI)
    await services.verification.start("contoso", profile, MEI)


async def latest_email(units):
    async with units() as unit:
        data = await unit.session.scalar(
            select(EmailOutboxRow.message).order_by(EmailOutboxRow.id.desc()).limit(1)
        )
    assert data, "the latest email was sent already (its message is emptied then)"
    return read_message(data)


async def latest_token(units) -> str:
    """The token in the latest queued email's link (what the contact would click)."""
    body = (await latest_email(units)).get_body(("plain",)).get_content()
    link = next(word for word in body.split() if "/verify/contact?token=" in word)
    return parse_qs(urlsplit(link).query)["token"][0]


async def emails_queued(units) -> int:
    async with units() as unit:
        return int(await unit.session.scalar(select(func.count(EmailOutboxRow.id))) or 0)


async def send_outbox(units, clock, mailer: FakeMailer | None = None) -> None:
    await OutboxSender(units, mailer or FakeMailer(), clock).run_once()


async def test_after_registering_in_the_chat_the_journey_shows_the_email_waiting_to_be_sent(
    storage, journey_services
):
    chat = chat_as(storage, journey_services)
    await chat.say("create account")
    await chat.say("next")
    await chat.submit({"action": "submit_profile", **PROFILE})
    await chat.say("cancel")  # leave the account journey at the agreement

    replies = await chat.say("Verify the primary contact")

    assert replies[0].text == (
        "Primary contact: m***@contoso.example. They have not confirmed yet.\n\n"
        "Last email: queued 2026-11-24 09:00 UTC, waiting to be sent.\n\n"
        "Its link works until 2026-11-27 09:00 UTC.\n\n"
        "Emails you can still send this hour: 2 (at most 3 an hour and 10 a day)."
    )
    assert replies[1].text == "What would you like to do?"
    assert replies[1].buttons == ACTIONS
    assert all("mei.lin@" not in reply.text for reply in replies)


async def test_the_journey_speaks_traditional_chinese_from_its_menu_item(storage, journey_services):
    await register(journey_services)

    replies = await chat_as(storage, journey_services, locale="zh-TW").say("驗證主要連絡人")

    assert replies[0].text.startswith("主要連絡人：m***@contoso.example。對方尚未確認。")
    assert "上一封電子郵件：2026-11-24 09:00 UTC 排入寄送佇列，等待寄出。" in replies[0].text
    assert replies[1].buttons == ["再寄一次電子郵件", "變更主要連絡人", "回到主選單"]


async def test_a_sent_email_shows_when_it_went_in_the_users_time_zone(
    storage, journey_services, units, clock
):
    await register(journey_services)
    await send_outbox(units, clock)

    in_utc = await chat_as(storage, journey_services).say("Verify the primary contact")
    in_taipei = await chat_as(
        storage, journey_services, user="david.chen", timezone="Asia/Taipei"
    ).say("Verify the primary contact")

    assert "Last email: queued 2026-11-24 09:00 UTC, sent 2026-11-24 09:00 UTC." in in_utc[0].text
    assert (
        "Last email: queued 2026-11-24 17:00 Asia/Taipei, sent 2026-11-24 17:00 Asia/Taipei."
        in in_taipei[0].text
    )
    assert "Its link works until 2026-11-27 17:00 Asia/Taipei." in in_taipei[0].text


async def test_a_time_zone_the_client_names_wrongly_falls_back_to_utc(storage, journey_services):
    await register(journey_services)

    replies = await chat_as(storage, journey_services, timezone="Mars/Olympus_Mons").say(
        "Verify the primary contact"
    )

    assert "queued 2026-11-24 09:00 UTC" in replies[0].text


async def test_an_email_the_server_refused_shows_why_it_could_not_be_delivered(
    storage, journey_services, units, clock
):
    await register(journey_services)
    mailer = FakeMailer()
    mailer.fail(permanent=True, reason="SMTP 550 on RCPT: [email] mailbox unavailable")
    await send_outbox(units, clock, mailer)
    chat = chat_as(storage, journey_services)
    chat.known.add("SMTP 550 on RCPT: [email] mailbox unavailable")  # the server's words, quoted

    replies = await chat.say("Verify the primary contact")

    assert (
        "Last email: queued 2026-11-24 09:00 UTC, could not be delivered: "
        "SMTP 550 on RCPT: [email] mailbox unavailable." in replies[0].text
    )


async def test_an_email_that_will_be_tried_again_says_why_the_last_try_failed(
    storage, journey_services, units, clock
):
    await register(journey_services)
    mailer = FakeMailer()
    mailer.fail(reason="SMTP SMTPConnectError: connection refused")
    await send_outbox(units, clock, mailer)
    chat = chat_as(storage, journey_services)
    chat.known.add("SMTP SMTPConnectError: connection refused")  # the diagnostic, quoted

    replies = await chat.say("Verify the primary contact")

    assert (
        "waiting to be sent (the last try failed: SMTP SMTPConnectError: connection refused)"
        in replies[0].text
    )


async def test_the_email_is_sent_again_until_the_hourly_limit_then_says_when_it_can_go(
    storage, journey_services, units
):
    await register(journey_services)
    chat = chat_as(storage, journey_services)

    sent = []
    for _ in range(2):
        await chat.say("Verify the primary contact")
        sent.append(await chat.click("Send the email again"))
    status = await chat.say("Verify the primary contact")
    limited = await chat.click("Send the email again")

    assert sent[0][0].text == (
        "A new email is on its way to m***@contoso.example. "
        "The links sent to them before still work."
    )
    assert "Emails you can still send this hour: 0" in status[0].text
    assert limited[0].text == (
        "That contact has been sent as many emails as allowed for now: at most 3 an hour and "
        "10 a day. The next one can go at 2026-11-24 10:00 UTC."
    )
    assert limited[1].text.startswith("What would you like to do?")  # back at the menu
    assert await emails_queued(units) == 3


async def test_the_resend_limit_in_chinese_shows_the_time_in_the_users_zone(
    storage, journey_services
):
    await register(journey_services)
    for _ in range(2):
        await journey_services.verification.resend("contoso", MEI)
    chat = chat_as(storage, journey_services, locale="zh-TW", timezone="Asia/Taipei")
    await chat.say("驗證主要連絡人")

    replies = await chat.say("再寄一次電子郵件")

    assert "每小時最多 3 封、每天最多 10 封" in replies[0].text
    assert "2026-11-24 18:00 Asia/Taipei" in replies[0].text


async def test_an_unclear_answer_re_asks_with_the_options(storage, journey_services):
    await register(journey_services)
    chat = chat_as(storage, journey_services)
    await chat.say("Verify the primary contact")

    replies = await chat.say("maybe later?")

    assert replies[0].text == "Sorry, I didn't catch that. Pick one of the options below."
    assert replies[0].buttons == ACTIONS


async def test_back_to_the_menu_leaves_the_journey(storage, journey_services, units):
    await register(journey_services)
    chat = chat_as(storage, journey_services)
    await chat.say("Verify the primary contact")

    replies = await chat.click("Back to the menu")

    assert replies[0].text.startswith("What would you like to do? Pick an option")
    assert await emails_queued(units) == 1


async def test_changing_the_contact_invalidates_the_old_link_and_emails_the_new_contact(
    storage, journey_services, units
):
    await register(journey_services)
    old_token = await latest_token(units)
    chat = chat_as(storage, journey_services)
    await chat.say("Verify the primary contact")

    form = await chat.click("Change the primary contact")
    contact = next(item for item in form[0].card["body"] if item.get("id") == "contact_email")
    changes = await chat.click(
        "Register now", {**PROFILE, "contact_first_name": "David", "contact_last_name": "Chen",
                         "contact_email": "david.chen@contoso.example"}
    )  # fmt: skip
    saved = await chat.click("Save and register")

    assert contact["value"] == "mei.lin@contoso.example"  # the form shows the stored profile
    assert changes[0].text.startswith("These will change:")
    assert saved[0].text.startswith(
        "Registered. An email will ask David Chen (david.chen@contoso.example)"
    )
    assert saved[1].text.startswith("What would you like to do?")  # back at the menu
    assert (await journey_services.verification.describe(old_token)).state is TokenState.UNKNOWN
    new_email = await latest_email(units)
    assert new_email["To"].addresses[0].addr_spec == "david.chen@contoso.example"
    status = await chat.say("Verify the primary contact")
    assert status[0].text.startswith("Primary contact: d***@contoso.example.")


async def test_a_contact_who_confirmed_is_shown_as_confirmed(storage, journey_services, units):
    await register(journey_services)
    await journey_services.verification.confirm(await latest_token(units))

    replies = await chat_as(storage, journey_services).say("Verify the primary contact")

    assert replies[0].text == (
        "m***@contoso.example has confirmed that they are your primary contact: there is "
        "nothing more to do here."
    )
    assert replies[1].text.startswith("What would you like to do?")


async def test_without_a_contact_a_signed_in_admin_is_offered_the_profile_form(
    storage, journey_services
):
    await journey_services.membership.create_partner_center_account(
        "contoso", CONTOSO_TENANT, MEI, ("contoso.example",)
    )
    chat = chat_as(storage, journey_services)

    question = await chat.say("Verify the primary contact")
    form = await chat.click("Give the profile now")

    assert question[0].text.startswith(
        "The legal business profile and its primary contact come first"
    )
    assert question[0].buttons == ["Give the profile now", "Not now"]
    assert form[0].card is not None and form[0].buttons == ["Register now", "Cancel"]


async def test_without_a_contact_or_a_partner_center_account_the_account_journey_starts(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, locale="zh-TW")
    await chat.say("驗證主要連絡人")

    replies = await chat.say("現在提供設定檔")

    assert replies[0].buttons == ["下一步", "先確認需要準備什麼", "現在不要"]


async def test_saving_the_profile_of_a_contact_who_confirmed_meanwhile_says_nothing_more_is_needed(
    storage, journey_services, units
):
    await register(journey_services)
    chat = chat_as(storage, journey_services)
    await chat.say("Verify the primary contact")
    await chat.click("Change the primary contact")
    await chat.submit({"action": "submit_profile", **PROFILE, "contact_phone": "02 2345 6780"})
    # The contact confirms while the form's changes wait to be saved.
    await journey_services.verification.confirm(await latest_token(units))

    replies = await chat.say("Save and register")

    assert replies[0].text == (
        "Registered. Mei Lin (mei.lin@contoso.example) already confirmed this address, so there "
        "is nothing more to do for the contact."
    )
    assert await emails_queued(units) == 1


async def test_saving_the_profile_when_the_contact_had_enough_emails_says_to_resend_later(
    storage, journey_services, units
):
    await register(journey_services)
    for _ in range(2):
        await journey_services.verification.resend("contoso", MEI)
    chat = chat_as(storage, journey_services, locale="zh-TW")
    await chat.say("驗證主要連絡人")
    await chat.say("變更主要連絡人")
    await chat.submit({"action": "submit_profile", **PROFILE, "contact_phone": "02 2345 6780"})

    replies = await chat.say("儲存並註冊")

    assert replies[0].text.startswith("已註冊。")
    assert "「驗證主要連絡人」" in replies[0].text
    assert await emails_queued(units) == 3


async def test_the_status_card_shows_the_last_email_until_the_contact_confirms(
    storage, journey_services, units, clock
):
    await register(journey_services)
    token = await latest_token(units)
    chat = chat_as(storage, journey_services)

    waiting = await chat.say("Membership status")
    continued = await chat.click("Continue: Verify the primary contact")
    await chat.click("Back to the menu")
    await send_outbox(units, clock)
    sent = await chat.say("Membership status")
    await journey_services.verification.confirm(token)
    confirmed = await chat.say("Membership status")

    assert waiting[0].text.endswith(
        "⏳ Primary contact's email confirmed\n\n⬜ Partner agreement accepted\n\n"
        "⬜ Admin agent role\n\nLast email to m***@contoso.example: waiting to be sent"
    )
    assert waiting[0].buttons == ["Continue: Verify the primary contact"]
    assert continued[0].text.startswith("Primary contact: m***@contoso.example.")
    assert sent[0].text.endswith("Last email to m***@contoso.example: sent 2026-11-24 09:00 UTC")
    assert "Last email" not in confirmed[0].text


async def test_the_status_card_in_chinese_shows_the_last_email_in_the_users_zone(
    storage, journey_services, units, clock
):
    await register(journey_services)
    await send_outbox(units, clock)

    replies = await chat_as(storage, journey_services, locale="zh-TW", timezone="Asia/Taipei").say(
        "會員狀態"
    )

    assert replies[0].text.endswith(
        "寄給 m***@contoso.example 的上一封電子郵件：已於 2026-11-24 17:00 Asia/Taipei 寄出"
    )


# One truth about an organization (issue 20, section 4): the status card, "Verify the primary
# contact" and the account journey read the same stored profile and contact.

NORTHWIND_CONTACT = "a***@northwind.example"


async def test_ana_sees_the_same_contact_on_the_status_card_and_in_its_journey(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, user="ana.silva")

    card = await chat.say("Membership status")
    journey = await chat.click("Continue: Verify the primary contact")
    sent = await chat.click("Send the email")
    after = await chat.say("Membership status")

    assert (
        "✅ Legal business profile and primary contact\n\n⏳ Primary contact's email confirmed"
        in card[0].text
    )
    assert journey[0].text == (
        f"Primary contact: {NORTHWIND_CONTACT}. They have not confirmed yet.\n\n"
        "No email has gone to them yet.\n\n"
        "Emails you can still send this hour: 3 (at most 3 an hour and 10 a day)."
    )
    assert journey[1].buttons == [
        "Send the email", "Change the primary contact", "Back to the menu"
    ]  # fmt: skip
    assert sent[0].text == f"An email is on its way to {NORTHWIND_CONTACT}."
    assert after[0].text.endswith(f"Last email to {NORTHWIND_CONTACT}: waiting to be sent")


async def test_kenji_in_chinese_sends_northwinds_first_email_by_typing_it(
    storage, journey_services, units
):
    chat = chat_as(storage, journey_services, user="kenji.sato", locale="zh-TW")

    journey = await chat.say("驗證主要連絡人")
    sent = await chat.say("寄出電子郵件")
    again = await chat.say("驗證主要連絡人")

    assert journey[0].text.startswith(f"主要連絡人：{NORTHWIND_CONTACT}。對方尚未確認。")
    assert "尚未寄送任何電子郵件給對方。" in journey[0].text
    assert journey[1].buttons == ["寄出電子郵件", "變更主要連絡人", "回到主選單"]
    assert sent[0].text == f"電子郵件正寄往 {NORTHWIND_CONTACT}。"
    assert again[1].buttons == ["再寄一次電子郵件", "變更主要連絡人", "回到主選單"]
    email = await latest_email(units)
    assert email["To"].addresses[0].addr_spec == "ana.silva@northwind.example"


async def test_changing_northwinds_contact_opens_the_stored_profile_and_emails_the_new_one(
    storage, journey_services, units
):
    chat = chat_as(storage, journey_services, user="ana.silva")
    await chat.say("Verify the primary contact")

    form = await chat.click("Change the primary contact")
    values = {item["id"]: item.get("value") for item in form[0].card["body"] if "id" in item}
    changes = await chat.click(
        "Register now", {**values, "contact_first_name": "Kenji", "contact_last_name": "Sato",
                         "contact_email": "kenji.sato@northwind.example"}
    )  # fmt: skip
    saved = await chat.click("Save and register")

    assert values["legal_name"] == "Northwind Traders Inc."
    assert values["contact_email"] == "ana.silva@northwind.example"
    assert changes[0].text.startswith("These will change:")
    assert saved[0].text.startswith(
        "Registered. An email will ask Kenji Sato (kenji.sato@northwind.example)"
    )
    email = await latest_email(units)
    assert email["To"].addresses[0].addr_spec == "kenji.sato@northwind.example"


async def test_a_database_of_the_previous_release_without_northwinds_contact_reads_sensibly(
    storage, tmp_path, clock
):
    # The previous release's demo marked Northwind's profile done but stored no contact.
    demo = json.loads(DEMO_ORGANIZATIONS.read_text(encoding="utf-8"))
    for organization in demo["organizations"]:
        organization.pop("primary_contact", None)
        organization.pop("verified_domains", None)
    previous = tmp_path / "organizations.json"
    previous.write_text(json.dumps(demo), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'previous.db'}"
    await db.upgrade_async(url)
    engine = db.create_engine(url)
    try:
        units = UnitOfWorkFactory(engine)
        await load_demo(units, clock, path=previous)
        services = journey_services_on(units, clock)
        chat = chat_as(storage, services, user="ana.silva")

        card = await chat.say("Membership status")
        journey = await chat.say("Verify the primary contact")
        form = await chat.click("Give the profile now")
    finally:
        await engine.dispose()

    assert (
        "⬜ Legal business profile and primary contact\n\n⬜ Primary contact's email confirmed"
        in card[0].text
    )
    assert card[0].buttons == ["Continue: Create the Partner Center account"]
    assert journey[0].text.startswith("The legal business profile and its primary contact come")
    values = {item["id"]: item.get("value") for item in form[0].card["body"] if "id" in item}
    assert values["legal_name"] == "Northwind Traders Inc." and values["contact_email"] == ""
