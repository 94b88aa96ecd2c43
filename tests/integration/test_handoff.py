"""Help-desk handoff on each real database: tickets, the queue, claims, re-raising, restarts."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Literal

import pytest

from services import db
from services.clock import FixedClock
from services.conversations import SqlTeamChannels, TeamChannel
from services.errors import NotFound
from services.handoff import (
    AlreadyClaimed,
    HandoffService,
    NotAnAgent,
    NotResolved,
    NotTheRequester,
    Ticket,
    TicketClosed,
    TicketReason,
    TicketStatus,
    TranscriptLine,
)
from services.i18n import Locale
from services.unit_of_work import UnitOfWorkFactory

RERAISE = timedelta(minutes=10)
Sender = Literal["user", "bot", "agent"]


@pytest.fixture
async def units(database_url):
    engine = db.create_engine(database_url)
    yield UnitOfWorkFactory(engine)
    await engine.dispose()


@pytest.fixture
def handoff(units, clock: FixedClock) -> HandoffService:
    return HandoffService(units, clock, reraise_after=RERAISE)


def line(clock: FixedClock, sender: Sender, text: str) -> TranscriptLine:
    return TranscriptLine(at=clock.now(), sender=sender, text=text)


async def ask(
    handoff: HandoffService,
    clock: FixedClock,
    requester: str = "mei",
    *,
    reason: TicketReason = TicketReason.ASKED,
    transcript: list[TranscriptLine] | None = None,
) -> tuple[Ticket, bool]:
    """``requester`` asks for a person from the renewal journey's contact step."""
    return await handoff.open(
        requester_id=requester,
        requester_name=requester.title(),
        conversation_id=f"a:{requester}",
        organization_id="northwind",
        journey="renewal",
        step="contact",
        reason=reason,
        locale="zh-tw",
        transcript=transcript or [line(clock, "user", "I need a person")],
    )


async def test_a_ticket_keeps_the_last_turns_with_emails_and_phone_numbers_redacted(units, clock):
    earlier = [line(clock, "bot", f"question {n}") for n in range(5)]
    said = [
        line(clock, "bot", "Who is the primary contact?"),
        line(clock, "user", "ana.silva@northwind.example, +886 2 2345 6789"),
        line(clock, "bot", "That address did not work. Who is the primary contact?"),
        line(clock, "user", "call me on (02) 2345-6789 please, before 2026-11-30"),
    ]
    handoff = HandoffService(units, clock, reraise_after=RERAISE, transcript_turns=4)

    ticket, opened = await ask(
        handoff, clock, reason=TicketReason.VALIDATION, transcript=earlier + said
    )

    assert opened
    assert ticket.number.startswith("HD-")
    assert (ticket.status, ticket.reason, ticket.locale) == (
        TicketStatus.OPEN, TicketReason.VALIDATION, Locale.ZH_TW,
    )  # fmt: skip
    assert (ticket.journey, ticket.step, ticket.organization_id) == (
        "renewal", "contact", "northwind",
    )  # fmt: skip
    assert [each.text for each in ticket.transcript] == [
        "Who is the primary contact?",
        "[email], [phone]",
        "That address did not work. Who is the primary contact?",
        "call me on [phone] please, before 2026-11-30",
    ]
    assert (await handoff.get(ticket.id)).transcript == ticket.transcript


async def test_asking_again_gives_back_the_ticket_already_open(handoff, clock):
    first, opened = await ask(handoff, clock)
    clock.at += timedelta(minutes=1)
    again, opened_again = await ask(handoff, clock, reason=TicketReason.ERROR)

    assert opened and not opened_again
    assert again.id == first.id and again.reason is TicketReason.ASKED
    assert (await handoff.active_for("mei")).id == first.id

    await handoff.cancel("mei")
    after, opened_after = await ask(handoff, clock)
    assert opened_after and after.id != first.id


async def test_two_requests_of_one_user_at_once_open_one_ticket(handoff, clock):
    results = await asyncio.gather(*(ask(handoff, clock) for _ in range(4)))

    assert len({ticket.id for ticket, _ in results}) == 1
    assert sum(opened for _, opened in results) == 1


async def test_waiting_users_are_told_their_place_in_the_queue(handoff, clock):
    tickets = []
    for requester in ("mei", "ana", "raj"):
        tickets.append((await ask(handoff, clock, requester))[0])
        clock.at += timedelta(minutes=1)
    mei, ana, raj = tickets

    assert [await handoff.position(each.id) for each in tickets] == [1, 2, 3]

    await handoff.claim(mei.id, "agent-1", "Olga", is_agent=True)
    await handoff.cancel("ana")

    assert await handoff.position(raj.id) == 1
    assert await handoff.position(mei.id) == 0  # talking with Olga, not waiting
    assert await handoff.position(ana.id) == 0  # gave up waiting
    assert [each.id for each in await handoff.queue()] == [raj.id]


async def test_an_agent_claims_a_ticket_and_claiming_it_again_changes_nothing(handoff, clock):
    ticket, _ = await ask(handoff, clock)
    clock.at += timedelta(minutes=3)

    claimed = await handoff.claim(ticket.id, "agent-1", "Olga", is_agent=True)
    clock.at += timedelta(minutes=1)
    again = await handoff.claim(ticket.id, "agent-1", "Olga", is_agent=True)

    assert claimed.status is TicketStatus.CLAIMED
    assert (claimed.agent_id, claimed.agent_name) == ("agent-1", "Olga")
    assert claimed.claimed_at == clock.now() - timedelta(minutes=1)
    assert again == claimed
    assert (await handoff.active_for("mei")).status is TicketStatus.CLAIMED


async def test_someone_outside_the_help_desk_cannot_claim_or_resolve(handoff, clock):
    ticket, _ = await ask(handoff, clock)

    with pytest.raises(NotAnAgent):
        await handoff.claim(ticket.id, "mallory", "Mallory", is_agent=False)
    with pytest.raises(NotAnAgent):
        await handoff.resolve(ticket.id, "mallory", is_agent=False)

    unchanged = await handoff.get(ticket.id)
    assert (unchanged.status, unchanged.agent_id) == (TicketStatus.OPEN, None)


async def test_a_ticket_claimed_by_someone_else_is_refused_with_their_name(handoff, clock):
    ticket, _ = await ask(handoff, clock)
    await handoff.claim(ticket.id, "agent-1", "Olga", is_agent=True)

    with pytest.raises(AlreadyClaimed) as refused:
        await handoff.claim(ticket.id, "agent-2", "Piotr", is_agent=True)

    assert refused.value.by == "Olga"
    assert (await handoff.get(ticket.id)).agent_name == "Olga"


async def test_two_agents_claiming_at_once_one_wins_the_other_learns_who(handoff, clock):
    ticket, _ = await ask(handoff, clock)

    results = await asyncio.gather(
        handoff.claim(ticket.id, "agent-1", "Olga", is_agent=True),
        handoff.claim(ticket.id, "agent-2", "Piotr", is_agent=True),
        return_exceptions=True,
    )

    won = [each for each in results if isinstance(each, Ticket)]
    lost = [each for each in results if isinstance(each, AlreadyClaimed)]
    assert len(won) == 1 and len(lost) == 1
    assert lost[0].by == won[0].agent_name


async def test_the_user_rates_the_help_from_1_to_5_once_it_is_resolved(handoff, clock):
    ticket, _ = await ask(handoff, clock)
    await handoff.claim(ticket.id, "agent-1", "Olga", is_agent=True)

    with pytest.raises(NotResolved):
        await handoff.rate(ticket.id, "mei", 5)

    clock.at += timedelta(minutes=20)
    resolved = await handoff.resolve(ticket.id, "agent-1", is_agent=True)
    assert (resolved.status, resolved.resolved_at) == (TicketStatus.RESOLVED, clock.now())
    assert await handoff.active_for("mei") is None

    for score in (0, 6):
        with pytest.raises(ValueError):
            await handoff.rate(ticket.id, "mei", score)
    with pytest.raises(NotTheRequester):
        await handoff.rate(ticket.id, "ana", 1)
    rated = await handoff.rate(ticket.id, "mei", 4)

    assert rated.csat == 4
    assert (await handoff.get(ticket.id)).csat == 4
    with pytest.raises(TicketClosed):
        await handoff.claim(ticket.id, "agent-2", "Piotr", is_agent=True)


async def test_the_user_cancels_their_request_and_nobody_is_asked_to_take_it(handoff, clock):
    ticket, _ = await ask(handoff, clock)

    cancelled = await handoff.cancel("mei")
    clock.at += RERAISE * 3

    assert cancelled is not None and cancelled.id == ticket.id
    assert cancelled.status is TicketStatus.ABANDONED
    assert await handoff.active_for("mei") is None
    assert await handoff.cancel("mei") is None
    assert await handoff.due_for_reraise() == []
    with pytest.raises(TicketClosed):
        await handoff.claim(ticket.id, "agent-1", "Olga", is_agent=True)
    with pytest.raises(TicketClosed):
        await handoff.resolve(ticket.id, "agent-1", is_agent=True)


async def test_an_unclaimed_ticket_is_raised_again_once_each_period(handoff, clock):
    waiting, _ = await ask(handoff, clock, "mei")
    taken, _ = await ask(handoff, clock, "ana")
    await handoff.claim(taken.id, "agent-1", "Olga", is_agent=True)
    opened_at = clock.now()

    clock.at = opened_at + RERAISE - timedelta(seconds=1)
    assert await handoff.due_for_reraise() == []

    clock.at = opened_at + RERAISE
    due = await handoff.due_for_reraise()
    assert [each.id for each in due] == [waiting.id]
    assert await handoff.due_for_reraise() == []  # being raised: not twice
    raised = await handoff.reraised(waiting.id)
    assert raised is not None
    assert (raised.raise_count, raised.raised_at) == (1, clock.now())

    clock.at = opened_at + 2 * RERAISE - timedelta(seconds=1)
    assert await handoff.due_for_reraise() == []

    clock.at = opened_at + 2 * RERAISE
    assert [each.id for each in await handoff.due_for_reraise()] == [waiting.id]
    assert (await handoff.reraised(waiting.id)).raise_count == 2

    await handoff.claim(waiting.id, "agent-2", "Piotr", is_agent=True)
    clock.at += RERAISE * 5
    assert await handoff.due_for_reraise() == []


async def test_a_reraise_an_instance_did_not_finish_is_taken_again_after_its_lease(units, clock):
    handoff = HandoffService(
        units, clock, reraise_after=RERAISE, reraise_lease=timedelta(minutes=1)
    )
    ticket, _ = await ask(handoff, clock)
    clock.at += RERAISE

    assert [each.id for each in await handoff.due_for_reraise()] == [ticket.id]
    clock.at += timedelta(seconds=59)
    assert await handoff.due_for_reraise() == []
    clock.at += timedelta(seconds=1)  # the instance died: its lease ran out

    assert [each.id for each in await handoff.due_for_reraise()] == [ticket.id]
    assert (await handoff.get(ticket.id)).raise_count == 0


async def test_a_ticket_claimed_while_being_raised_is_not_marked_raised(handoff, clock):
    ticket, _ = await ask(handoff, clock)
    clock.at += RERAISE
    await handoff.due_for_reraise()

    await handoff.claim(ticket.id, "agent-1", "Olga", is_agent=True)

    assert await handoff.reraised(ticket.id) is None
    assert (await handoff.get(ticket.id)).raise_count == 0


async def test_two_instances_re_raising_at_once_take_disjoint_tickets(database_url, clock):
    engines = [db.create_engine(database_url) for _ in range(2)]
    try:
        instances = [
            HandoffService(UnitOfWorkFactory(engine), clock, reraise_after=RERAISE)
            for engine in engines
        ]
        opened = [(await ask(instances[0], clock, f"user-{n}"))[0].id for n in range(30)]
        clock.at += RERAISE

        first, second = await asyncio.gather(*(each.due_for_reraise() for each in instances))

        ids = [[ticket.id for ticket in batch] for batch in (first, second)]
        assert set(ids[0]).isdisjoint(ids[1])
        assert sorted(ids[0] + ids[1]) == sorted(opened)
        assert await instances[1].due_for_reraise() == []
    finally:
        for engine in engines:
            await engine.dispose()


async def test_relayed_messages_are_kept_redacted_and_bounded(units, clock):
    handoff = HandoffService(
        units, clock, reraise_after=RERAISE, transcript_turns=2, transcript_limit=5
    )
    ticket, _ = await ask(handoff, clock)
    await handoff.claim(ticket.id, "agent-1", "Olga", is_agent=True)

    for n in range(5):
        await handoff.append(ticket.id, line(clock, "agent", f"reply {n}"))
    kept = await handoff.append(ticket.id, line(clock, "user", "write to mei@northwind.example"))

    assert [(each.sender, each.text) for each in kept.transcript] == [
        ("agent", "reply 1"), ("agent", "reply 2"), ("agent", "reply 3"), ("agent", "reply 4"),
        ("user", "write to [email]"),
    ]  # fmt: skip
    await handoff.resolve(ticket.id, "agent-1", is_agent=True)
    with pytest.raises(TicketClosed):
        await handoff.append(ticket.id, line(clock, "agent", "too late"))


async def test_a_restart_in_the_middle_of_a_claimed_ticket_loses_nothing(database_url, clock):
    engine = db.create_engine(database_url)
    before = HandoffService(UnitOfWorkFactory(engine), clock, reraise_after=RERAISE)
    ticket, _ = await ask(before, clock)
    await before.posted(ticket.id, "1732438800000", "19:helpdesk@thread.tacv2;messageid=17")
    await before.claim(ticket.id, "agent-1", "Olga", is_agent=True)
    await before.append(ticket.id, line(clock, "agent", "Hello Mei, I am looking at it"))
    claimed = await before.get(ticket.id)
    await engine.dispose()

    engine = db.create_engine(database_url)
    try:
        after = HandoffService(UnitOfWorkFactory(engine), clock, reraise_after=RERAISE)

        assert await after.get(ticket.id) == claimed
        assert await after.active_for("mei") == claimed
        assert await after.by_thread("19:helpdesk@thread.tacv2;messageid=17") == claimed
        assert claimed.channel_message_id == "1732438800000"
        assert (claimed.journey, claimed.step) == ("renewal", "contact")  # where to resume
        resolved = await after.resolve(ticket.id, "agent-1", is_agent=True)
        assert resolved.agent_name == "Olga"
    finally:
        await engine.dispose()


async def test_an_unknown_ticket_or_thread_is_not_found(handoff):
    with pytest.raises(NotFound):
        await handoff.get(404)
    assert await handoff.by_thread("19:nothing@thread.tacv2") is None


async def test_the_help_desk_channel_setting_is_kept(units, clock):
    handoff = HandoffService(units, clock, reraise_after=RERAISE)
    assert await handoff.help_desk() is None

    await handoff.set_help_desk(
        "team-1", "19:old@thread.tacv2", "https://smba.test/", "tenant-1", "operator"
    )
    await SqlTeamChannels(units, clock).record(
        TeamChannel(
            channel_id="19:desk@thread.tacv2", team_id="team-2", name="Help desk",
            tenant_id="tenant-1", service_url="https://smba.test/amer/",
            document={"conversation": {"id": "19:desk@thread.tacv2"}},
        )
    )  # fmt: skip
    clock.at += timedelta(days=1)
    await handoff.set_help_desk(
        "team-2", "19:desk@thread.tacv2", "https://smba.test/amer/", "tenant-1", "olga"
    )

    restarted = HandoffService(units, clock, reraise_after=RERAISE)
    desk = await restarted.help_desk()
    assert desk is not None
    assert (desk.team_id, desk.channel_id, desk.service_url, desk.set_by, desk.set_at) == (
        "team-2", "19:desk@thread.tacv2", "https://smba.test/amer/", "olga", clock.now(),
    )  # fmt: skip
    assert desk.document == {"conversation": {"id": "19:desk@thread.tacv2"}}
