"""The renewal reminder's buttons, clicked in the chat: whatever is under way, or first thing.

Demo data (see test_journeys.py): Northwind is in Partner Center and expires in 20 days (Ana
Silva, a global administrator); Contoso's legacy record expired 30 days ago (Mei Lin).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest
from botbuilder.core import MemoryStorage

from dialogs.cards import renewal_reminder_card
from services.i18n import Locale, translator
from services.membership import Step
from services.reminders import Member, ReminderPreference
from tests.support.chat import Chat, Reply, card_parts
from tests.support.language import check_json


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


def chat_as(storage, services, user: str, locale: str = "en-US") -> Chat:
    return Chat(storage, services, locale=locale, user_id=user, conversation_id=f"c-{user}")


def reminder_card(organization_id: str = "northwind", locale: str = "en-US") -> dict[str, Any]:
    """The card the reminder channel posts (as for Northwind's 30-day reminder)."""
    legacy = organization_id == "contoso"
    card = renewal_reminder_card(
        translator(Locale(locale)), organization_id=organization_id,
        legal_name="Contoso Taiwan Ltd." if legacy else "Northwind Traders Inc.",
        expiry_date=date(2026, 12, 14), days_left=-30 if legacy else 20,
        pending_steps=list(Step) if legacy else [Step.ADMIN_AGENT], legacy=legacy,
        view_only=legacy,
    )  # fmt: skip
    return check_json(card, locale)  # all in the reader's language


async def click_on(chat: Chat, card: dict[str, Any], title: str) -> list[Reply]:
    """Click a button of a card posted outside the conversation's turns, as Teams sends it."""
    button = next(b for b in card_parts(card)[1] if b["title"] == title)
    data = dict(button["data"])
    teams = data.pop("msteams")
    return await chat.submit({**data, **teams["value"]}, text=teams["text"])


async def test_remind_me_later_as_the_first_message_snoozes_three_days_and_offers_the_menu(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "ana.silva")

    replies = await click_on(chat, reminder_card(), "Remind me later")

    assert replies[0].text == "OK, I'll remind you again on 2026-11-27."
    assert "What would you like to do?" in replies[-1].text
    preference = await journey_services.reminders.preference("ana.silva", "northwind")
    assert preference.snoozed_until.date() == date(2026, 11, 27)


async def test_the_snooze_date_is_the_users_own_in_chinese(storage, journey_services, clock):
    clock.at = clock.at.replace(hour=20)  # 04:00 the next morning in Taipei
    chat = Chat(storage, journey_services, locale="zh-TW", timezone="Asia/Taipei",
                user_id="ana.silva", conversation_id="c-ana")  # fmt: skip

    replies = await click_on(chat, reminder_card(locale="zh-TW"), "稍後再提醒我")

    assert replies[0].text == "好的，我會在 2026-11-28 再次提醒您。"


async def test_stop_while_a_question_waits_stops_the_reminders_and_asks_the_question_again(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "ana.silva")
    await chat.say("renew")

    replies = await click_on(chat, reminder_card(), "Stop these reminders")

    assert replies[0].text == (
        "OK, you won't get these reminders any more. You can turn them back on from the "
        "status card."
    )
    assert "Renew the Microsoft Action Pack subscription" in replies[-1].text
    assert replies[-1].buttons == ["Place the renewal order", "Not now"]
    preference = await journey_services.reminders.preference("ana.silva", "northwind")
    assert preference.stopped
    # The question still holds: the renewal goes on where it was.
    ordered = "\n".join(str(r) for r in await chat.click("Place the renewal order"))
    assert "Renewal order ORD-" in ordered


async def test_the_status_card_says_reminders_are_off_and_turns_them_back_on(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "ana.silva")
    await click_on(chat, reminder_card(), "Stop these reminders")

    [card, *_] = await chat.say("Membership status")
    assert "You turned off the renewal reminders." in card.text
    assert card.buttons == ["Continue: Verify the primary contact", "Turn reminders back on"]

    replies = await chat.click("Turn reminders back on")

    assert replies[0].text == "OK, the renewal reminders are back on."
    assert "What would you like to do?" in replies[-1].text
    assert await journey_services.reminders.preference("ana.silva", "northwind") == (
        ReminderPreference()
    )
    [card, *_] = await chat.say("Membership status")
    assert "renewal reminders" not in card.text
    assert card.buttons == ["Continue: Verify the primary contact"]


async def test_a_reminder_of_another_organization_changes_nothing(storage, journey_services):
    chat = chat_as(storage, journey_services, "mei.lin")

    replies = await click_on(chat, reminder_card("northwind"), "Stop these reminders")

    assert replies[0].text == "That reminder is about another organization: I can't change it here."
    assert not (await journey_services.reminders.preference("mei.lin", "northwind")).stopped


async def test_renew_now_as_the_first_message_asks_to_renew_a_partner_center_record(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "ana.silva")

    replies = await click_on(chat, reminder_card(), "Renew now")

    assert replies[-1].text.startswith(
        "Renew the Microsoft Action Pack subscription of Northwind Traders Inc. (MPN ID 4100003)?"
    )
    assert replies[-1].buttons == ["Place the renewal order", "Not now"]


async def test_renew_now_for_a_legacy_record_starts_with_creating_the_account(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "mei.lin")

    replies = await click_on(chat, reminder_card("contoso"), "Renew now")

    assert replies[-2].text.startswith(
        "Your membership has expired, and its record in the legacy Partner Membership Center is "
        "view-only"
    )
    assert replies[-1].text.startswith(
        "To renew, Contoso Taiwan Ltd. first sets up its Partner Center account. Still to do: "
        "Sign in as a global administrator;"
    )
    assert replies[-1].buttons == ["Continue: Create the Partner Center account", "Not now"]
    replies = await chat.click("Continue: Create the Partner Center account")
    assert replies[0].text.startswith("Creating the Partner Center account takes a few minutes")


async def test_renew_now_in_chinese_for_a_legacy_record_offers_creating_the_account(
    storage, journey_services
):
    chat = chat_as(storage, journey_services, "mei.lin", "zh-TW")

    replies = await click_on(chat, reminder_card("contoso", "zh-TW"), "立即續約")

    assert replies[-1].text.startswith(
        "若要續約，Contoso Taiwan Ltd. 須先完成合作夥伴中心帳戶的設定"
    )
    assert replies[-1].buttons == ["繼續：建立合作夥伴中心帳戶", "現在不要"]


class RecordingReminders:
    """A ``Reminders`` that records the members it is told about (and may fail)."""

    def __init__(self, *, failing: bool = False) -> None:
        self.members: list[Member] = []
        self._failing = failing

    async def record_member(self, member: Member) -> None:
        self.members.append(member)
        if self._failing:
            raise ConnectionError("the database is away")

    async def preference(self, user_id: str, organization_id: str) -> ReminderPreference:
        return ReminderPreference()

    async def snooze(self, user_id: str, organization_id: str):  # pragma: no cover
        raise NotImplementedError

    async def stop(self, user_id: str, organization_id: str) -> None:  # pragma: no cover
        raise NotImplementedError

    async def resume(self, user_id: str, organization_id: str) -> None:  # pragma: no cover
        raise NotImplementedError


@pytest.mark.parametrize("failing", [False, True])
async def test_a_member_is_recorded_for_the_reminders_once_an_hour_and_a_failure_is_not_shown(
    storage, journey_services, failing
):
    reminders = RecordingReminders(failing=failing)
    services = dataclasses.replace(journey_services, reminders=reminders)
    chat = chat_as(storage, services, "ana.silva")

    first = await chat.say("Membership status")
    await chat.say("Membership status")

    assert "Northwind Traders Inc." in first[0].text
    assert reminders.members == [
        Member(organization_id="northwind", user_id="ana.silva", display_name="Ana Silva",
               email="ana.silva@northwind.example", global_admin=True)
    ]  # fmt: skip


async def test_without_a_reminders_service_the_journeys_work_as_before(storage, journey_services):
    services = dataclasses.replace(journey_services, reminders=None)
    chat = chat_as(storage, services, "ana.silva")

    [card, *_] = await chat.say("Membership status")
    replies = await click_on(chat, reminder_card(), "Remind me later")

    assert card.buttons == ["Continue: Verify the primary contact"]
    assert replies[0].text == "Renewal reminders are not available here."


@pytest.mark.parametrize(
    ("locale", "renew", "button", "order"),
    [("en-US", "renew", "Renew now", "Place the renewal order"),
     ("zh-TW", "續約", "立即續約", "下續約訂單")],
)  # fmt: skip
async def test_renew_now_on_a_reminder_while_the_renewal_question_is_open_asks_it_again(
    storage, journey_services, locale, renew, button, order
):
    chat = chat_as(storage, journey_services, "ana.silva", locale)
    question = await chat.say(renew)

    await click_on(chat, reminder_card(locale=locale), button)
    replies = await click_on(chat, reminder_card(locale=locale), button)  # a second reminder

    # Not a wrong answer: no "Talk to a person" offered for answers not understood.
    assert (replies[-1].text, replies[-1].buttons) == (question[-1].text, question[-1].buttons)
    assert len(replies) == 1
    done = await chat.click(order)
    assert "ORD-" in done[0].text
