"""Asking for a person, turn by turn: from the menu, mid-journey, after two misunderstandings,
after an error; cancelling; rating the help. Both languages.

The tickets are real (``HandoffService`` on the test's SQLite database). What the help desk's
Teams channel sees is the bot layer's (tests/e2e/test_handoff_http.py); here the help desk
only opens, cancels and rates tickets, and says whether a channel is set up.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from botbuilder.core import MemoryStorage

from services import db
from services.handoff import HandoffService, TicketReason, TicketStatus
from services.unit_of_work import UnitOfWorkFactory
from tests.support.chat import Chat
from tests.support.help_desk import TicketsOnlyHelpDesk


@pytest.fixture
async def handoffs(sqlite_url, clock):
    engine = db.create_engine(sqlite_url)
    yield HandoffService(UnitOfWorkFactory(engine), clock, reraise_after=timedelta(minutes=15))
    await engine.dispose()


@pytest.fixture
def services(journey_services, handoffs):
    return dataclasses.replace(journey_services, help_desk=TicketsOnlyHelpDesk(handoffs))


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


def chat_as(storage, services, user: str, locale: str = "en-US") -> Chat:
    return Chat(storage, services, locale=locale, user_id=user, conversation_id=f"c-{user}")


async def test_talk_to_a_person_from_the_menu_queues_a_request_and_offers_to_cancel(
    storage, services, handoffs
):
    chat = chat_as(storage, services, "ana.silva")
    await chat.join()

    replies = await chat.click("Talk to a person")

    [ticket] = await handoffs.queue()
    assert replies[0].text == (
        f"I've asked the help desk for a person (request {ticket.number}). You are number 1 in "
        "the queue; I'll tell you here as soon as someone joins. Meanwhile we can carry on."
    )
    assert replies[0].buttons == ["Cancel the request"]
    assert replies[-1].text.startswith("What would you like to do?")
    assert (ticket.requester_id, ticket.organization_id, ticket.reason) == (
        "ana.silva", "northwind", TicketReason.ASKED,
    )  # fmt: skip


async def test_asking_mid_journey_in_chinese_keeps_the_step_and_records_where_it_was(
    storage, services, handoffs
):
    await chat_as(storage, services, "mei.lin", "zh-TW").say("我想找真人客服")  # someone ahead
    chat = chat_as(storage, services, "ana.silva", "zh-TW")
    await chat.say("續約")

    replies = await chat.say("真人客服")

    assert replies[0].text.startswith("我已請服務台派專人協助您（申請 HD-")
    assert "您目前排在第 2 位" in replies[0].text
    assert replies[-1].buttons == ["下續約訂單", "現在不要"]  # the renewal question, asked again
    ticket = await handoffs.active_for("ana.silva")
    assert (ticket.journey, ticket.step) == ("RenewDialog", "renew_order_confirm")
    assert ticket.locale == "zh-TW"


async def test_asking_again_gives_the_same_request_and_its_place(storage, services, handoffs):
    chat = chat_as(storage, services, "ana.silva")
    await chat.say("talk to a person")

    replies = await chat.say("talk to a person")

    [ticket] = await handoffs.queue()
    assert replies[0].text.startswith(
        f"You've already asked for a person (request {ticket.number}): you are number 1"
    )


async def test_an_answer_not_understood_twice_offers_a_person_and_keeps_the_question(
    storage, services, handoffs
):
    chat = chat_as(storage, services, "ana.silva")
    await chat.say("renew")

    first = await chat.say("purple")
    second = await chat.say("elephant")
    asked = await chat.click("Talk to a person")

    assert first[-1].buttons == ["Place the renewal order", "Not now"]
    assert second[-1].buttons == ["Place the renewal order", "Not now", "Talk to a person"]
    ticket = await handoffs.active_for("ana.silva")
    assert (ticket.reason, ticket.step) == (TicketReason.VALIDATION, "renew_order_confirm")
    assert asked[0].text.startswith("I've asked the help desk for a person")
    assert asked[-1].buttons == ["Place the renewal order", "Not now"]
    # The question still takes its answer.
    ordered = "\n".join(str(r) for r in await chat.click("Place the renewal order"))
    assert "Renewal order ORD-" in ordered


async def test_after_an_error_the_apology_offers_a_person(storage, services, handoffs, monkeypatch):
    chat = chat_as(storage, services, "ana.silva")
    await chat.join()

    async def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    with monkeypatch.context() as patch:
        patch.setattr(chat.bot, "on_message_activity", broken)
        [apology] = await chat.say("status")
    await chat.click("Talk to a person")

    assert apology.text == (
        "Sorry, something went wrong on my side. What you saved is kept; please try again."
    )
    assert apology.buttons == ["Talk to a person"]
    assert (await handoffs.active_for("ana.silva")).reason is TicketReason.ERROR


async def test_cancelling_withdraws_the_request(storage, services, handoffs):
    chat = chat_as(storage, services, "ana.silva")
    await chat.say("talk to a person")

    replies = await chat.click("Cancel the request")
    again = await chat.click("Cancel the request")  # the same, older card

    ticket = await handoffs.get(1)
    assert replies[0].text == f"OK, I've withdrawn your request {ticket.number}."
    assert ticket.status is TicketStatus.ABANDONED
    assert again[0].text == "You have no request for a person waiting."
    assert await handoffs.queue() == []


async def test_typing_cancel_while_a_request_waits_asks_whether_to_withdraw_it_too(
    storage, services, handoffs
):
    chat = chat_as(storage, services, "ana.silva")
    await chat.say("renew")
    await chat.say("talk to a person")

    asked = await chat.say("cancel")
    withdrawn = await chat.say("yes")
    again = await chat.say("cancel")  # no request now: as always

    ticket = await handoffs.get(1)
    assert asked[0].text == "OK, I've stopped that. Anything you saved is kept."
    assert asked[1].text == (
        f"You are also waiting for a person (request {ticket.number}). Withdraw that request?"
    )
    assert asked[1].buttons == ["Yes, withdraw it", "No, keep it"]
    assert withdrawn[0].text == f"OK, I've withdrawn your request {ticket.number}."
    assert withdrawn[-1].text.startswith("What would you like to do?")
    assert ticket.status is TicketStatus.ABANDONED
    assert [r.text for r in again][:1] == ["OK, I've stopped that. Anything you saved is kept."]
    assert again[-1].text.startswith("What would you like to do?")


async def test_typing_cancel_in_chinese_and_keeping_the_request_leaves_it_in_the_queue(
    storage, services, handoffs
):
    chat = chat_as(storage, services, "ana.silva", "zh-TW")
    await chat.say("真人客服")

    asked = await chat.say("取消")
    unclear = await chat.say("嗯")
    kept = await chat.say("不要")

    [ticket] = await handoffs.queue()
    assert asked[-1].text == f"您也正在等候真人客服（申請 {ticket.number}）。要撤回這項申請嗎？"
    assert asked[-1].buttons == ["是，撤回申請", "否，保留申請"]
    assert unclear[-1].buttons == ["是，撤回申請", "否，保留申請"]  # asked again
    assert kept[0].text == f"好的，您的申請 {ticket.number} 仍在佇列中。"
    assert kept[-1].text.startswith("您想做什麼呢？")
    assert ticket.status is TicketStatus.OPEN


async def test_the_rating_after_the_help_is_kept_and_a_wrong_one_is_refused(
    storage, services, handoffs
):
    chat = chat_as(storage, services, "ana.silva", "zh-TW")
    await chat.say("真人客服")
    ticket = await handoffs.active_for("ana.silva")
    await handoffs.claim(ticket.id, "agent-1", "Grace Ho", is_agent=True)
    await handoffs.resolve(ticket.id, "agent-1", is_agent=True)

    wrong = await chat.submit({"action": "handoff.rate", "ticket": ticket.id, "score": 9})
    rated = await chat.submit({"action": "handoff.rate", "ticket": ticket.id, "score": 4})

    assert wrong[0].text == "抱歉，我無法記錄這個評分。"
    assert rated[0].text == "謝謝您！我已記下您對這次協助的評分：4 分（滿分 5 分）。"
    assert (await handoffs.get(ticket.id)).csat == 4


async def test_without_a_help_desk_the_user_is_told_where_to_get_help(storage, journey_services):
    chat = chat_as(storage, journey_services, "ana.silva")

    replies = await chat.say("talk to a person")

    assert replies[0].text.startswith("I can't bring a person in here: no help desk is connected")


async def test_without_a_help_desk_channel_the_request_is_kept_and_the_user_is_told(
    storage, journey_services, handoffs
):
    services = dataclasses.replace(
        journey_services, help_desk=TicketsOnlyHelpDesk(handoffs, channel=False)
    )
    chat = chat_as(storage, services, "ana.silva")

    replies = await chat.say("talk to a person")

    [ticket] = await handoffs.queue()
    assert replies[0].text.startswith(
        f"I've recorded your request {ticket.number}, but no help-desk channel is set up yet"
    )
