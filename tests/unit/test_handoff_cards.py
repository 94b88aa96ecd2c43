"""The help desk's cards: the ticket card in every state, the rating and the waiting notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import dialogs.main_dialog  # noqa: F401 (every journey, imported)
from dialogs.handoff_cards import JOURNEYS, rating_card, still_waiting_card, ticket_card
from dialogs.intents import JOURNEY_LABELS, Intent
from dialogs.journey_dialog import JourneyDialog
from services.handoff import Ticket, TicketReason, TicketStatus, TranscriptLine
from services.i18n import Locale, translator
from tests.support.chat import card_parts
from tests.unit.test_cards import LOCALES, _membership, _status, assert_valid

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _ticket(status: TicketStatus, **fields: object) -> Ticket:
    claimed = status is not TicketStatus.OPEN
    values: dict[str, object] = dict(
        id=42, number="HD-0042", organization_id="northwind", requester_id="ana.silva",
        requester_name="Ana Silva", conversation_id="a:1", journey="RenewDialog",
        step="renew_prompt", reason=TicketReason.VALIDATION, locale=Locale.EN_US,
        status=status, agent_id="kenji.sato" if claimed else None,
        agent_name="Kenji Sato" if claimed else None, created_at=AT,
        claimed_at=AT + timedelta(minutes=3) if claimed else None,
        resolved_at=AT + timedelta(minutes=9)
        if status in (TicketStatus.RESOLVED, TicketStatus.ABANDONED) else None,
        raised_at=AT, raise_count=0, csat=None,
        transcript=[TranscriptLine(at=AT, sender="user", text="renew"),
                    TranscriptLine(at=AT, sender="bot", text="Renew now?")],
        channel_message_id="m1", thread_id="19:t;messageid=m1",
    )  # fmt: skip
    values.update(fields)
    return Ticket.model_validate(values)


@pytest.mark.parametrize(
    ("status", "buttons", "shown"),
    [
        (TicketStatus.OPEN, ["Claim", "Resolve"], "Status: Waiting for someone to claim it"),
        (TicketStatus.CLAIMED, ["Resolve"], "Status: Claimed by Kenji Sato"),
        (TicketStatus.RESOLVED, [], "Status: Resolved by Kenji Sato"),
        (TicketStatus.ABANDONED, [], "Status: Cancelled by the user"),
    ],
)
def test_the_ticket_card_shows_where_the_request_stands_and_only_the_buttons_that_apply(
    status, buttons, shown
):
    card = ticket_card(translator(Locale.EN_US), _ticket(status), None)

    assert_valid(card)
    said, actions = card_parts(card)
    assert said[0] == "Request HD-0042: Ana Silva"
    assert shown in said
    assert "User: renew" in said and "Bot: Renew now?" in said
    assert [a["title"] for a in actions] == buttons
    assert all(a["data"]["ticket"] == 42 for a in actions)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_ticket_card_names_the_organization_and_its_mpn_id_not_the_bots_id(locale):
    contoso = _status({}, _membership(20))

    said = card_parts(ticket_card(translator(locale), _ticket(TicketStatus.OPEN), contoso))[0]

    assert said[2:4] == (
        ["Organization: Contoso Taiwan Ltd.", "MPN ID: 4100003"]
        if locale is Locale.EN_US
        else ["組織: Contoso Taiwan Ltd.", "MPN ID: 4100003"]
    )
    assert not any("northwind" in line or "contoso" in line for line in said)


def test_the_ticket_card_says_so_when_the_organization_is_not_known():
    t = translator(Locale.EN_US)

    unknown = card_parts(ticket_card(t, _ticket(TicketStatus.OPEN, organization_id=None), None))
    gone = card_parts(ticket_card(t, _ticket(TicketStatus.OPEN), None))

    assert "Organization: not known" in unknown[0]
    assert "Organization: northwind" in gone[0]  # its record is gone: the id is all there is


@pytest.mark.parametrize("locale", LOCALES)
def test_the_rating_card_has_one_button_per_score_from_1_to_5(locale):
    card = rating_card(translator(locale), _ticket(TicketStatus.RESOLVED))

    assert_valid(card)
    values = [a["data"]["msteams"]["value"] for a in card_parts(card)[1]]
    assert values == [
        {"action": "handoff.rate", "ticket": 42, "score": score} for score in range(1, 6)
    ]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_still_waiting_notice_says_the_place_in_the_queue_and_offers_to_cancel(locale):
    card = still_waiting_card(translator(locale), _ticket(TicketStatus.OPEN), 3)

    assert_valid(card)
    assert [a["data"]["action"] for a in card_parts(card)[1]] == ["handoff.cancel"]
    assert "3" in card_parts(card)[0][0]


def test_a_request_from_any_journey_names_it_as_the_menu_does_in_the_help_desks_language():
    journeys = {cls.__name__ for cls in JourneyDialog.__subclasses__()}
    t = translator(Locale.ZH_TW)

    assert set(JOURNEYS) <= journeys
    assert set(JOURNEYS.values()) == set(JOURNEY_LABELS) - {
        Intent.RENEW_OR_UPGRADE,
        Intent.UPGRADE,
        Intent.HUMAN,
        Intent.HELP,
    }
    for journey, intent in JOURNEYS.items():
        said = card_parts(ticket_card(t, _ticket(TicketStatus.OPEN, journey=journey), None))[0]
        assert f"流程: {t.gettext(JOURNEY_LABELS[intent])}" in said
    at_the_menu = card_parts(ticket_card(t, _ticket(TicketStatus.OPEN, journey=None), None))[0]
    assert "流程: 無" in at_the_menu
