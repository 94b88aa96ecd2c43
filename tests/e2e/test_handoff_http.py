"""A person from the help desk takes over a user's chat, over HTTP, Teams-shaped both sides.

The real app serves the demo data on SQLite. The help desk is a Teams team where the app is
installed, named with the operator command ``membership-bot helpdesk set``. Everything the app
posts (the ticket card, its updates, the relayed messages, the user's notices) arrives at a
connector stand-in, which also answers the team's member look-ups: only ``AGENT`` is a member.
All of it runs in the catalog-only language mode: the user reads only their language, the
help desk only its own (``HELP_DESK_LOCALE``) but for the conversation its card quotes.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.adapter import create_adapter
from bot.help_desk import TeamsHelpDesk
from bot.proactive import ReferenceKeeper
from services import db
from services.clock import FixedClock, SystemClock
from services.conversations import SqlConversationReferences
from services.demo_data import load_demo
from services.handoff import HandoffService, Ticket, TicketStatus
from services.membership import MembershipService
from services.unit_of_work import UnitOfWorkFactory
from tests.conftest import make_settings
from tests.support.chat import card_parts
from tests.support.connector import ConnectorStandIn, connector_stand_in
from tests.support.language import check_json, known_words
from tests.support.teams import BOT, Teams, teams_user, texts

COMMAND = str(Path(sys.executable).parent / "membership-bot")
TENANT = "7f3c2a10-0000-4000-8000-000000c0de02"  # Ana's, Northwind's
AGENT = {"id": "29:kenji", "name": "Kenji Sato", "aadObjectId": "kenji.sato"}
OUTSIDER = {"id": "29:olga", "name": "Olga Petrova", "aadObjectId": "olga.petrova"}
RENEW_QUESTION = "Renew the Microsoft Action Pack subscription of Northwind Traders Inc."

pytestmark = pytest.mark.usefixtures("catalog_only_language")


@pytest.fixture
async def units(sqlite_url):
    engine = db.create_engine(sqlite_url)
    await load_demo(UnitOfWorkFactory(engine), SystemClock())
    yield UnitOfWorkFactory(engine)
    await engine.dispose()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


class HelpDesk:
    """The help-desk team's channel, as Teams posts it (replies come back in the response)."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        base_url: str,
        connector: ConnectorStandIn,
        locale: str = "en-US",
        agents_locale: str | None = None,
    ):
        self.http, self.base_url, self.connector = http, base_url, connector
        self.team = f"19:{uuid.uuid4().hex}@thread.tacv2"
        self.locale = locale  # HELP_DESK_LOCALE
        self.agents_locale = agents_locale or locale  # what the agents' Teams sends
        connector.members[self.team] = {AGENT["id"]}
        connector.reads(self.team, locale, connector.heard)

    async def post(
        self, conversation_id: str, sender: dict[str, str], *, readers: Any = None, **fields: Any
    ) -> list[dict[str, Any]]:
        body: dict[str, Any] = {
            "id": uuid.uuid4().hex, "type": "message", "channelId": "msteams",
            "serviceUrl": self.connector.url, "from": sender, "recipient": BOT,
            "conversation": {"id": conversation_id, "conversationType": "channel",
                             "isGroup": True, "tenantId": TENANT},
            "channelData": {"tenant": {"id": TENANT}, "team": {"id": self.team,
                            "name": "Partner help desk"}, "channel": {"id": self.team}},
            "locale": self.agents_locale, "deliveryMode": "expectReplies", **fields,
        }  # fmt: skip
        typed = known_words([fields.get("text"), fields.get("value")])
        self.connector.written |= typed
        self.connector.heard |= typed
        async with self.http.post(f"{self.base_url}/api/messages", json=body) as response:
            assert response.status == 200, await response.text()
            replies = list((await response.json())["activities"])
        readers = readers or self.locale
        return [check_json(reply, readers, self.connector.heard) for reply in replies]

    async def install(self) -> None:
        # Before it is the help desk, the team is greeted in each language.
        await self.post(self.team, AGENT, type="installationUpdate", action="add",
                        readers=("en-US", "zh-TW"))  # fmt: skip

    async def click(
        self, ticket: Ticket, sender: dict[str, str], title: str, *, first: bool = False
    ) -> list[dict[str, Any]]:
        """What Teams sends when ``sender`` clicks ``title`` on the ticket's card as it is now
        (``first``: as it was posted, as an agent whose Teams has not refreshed it yet)."""
        card = self.card(ticket, first=first)
        button = next(b for b in card_parts(card)[1] if b["title"] == title)
        teams = button["data"]["msteams"]
        return await self.post(
            str(ticket.thread_id), sender, text=teams["text"], value=teams["value"],
            replyToId=ticket.channel_message_id,
        )  # fmt: skip

    async def say(self, ticket: Ticket, sender: dict[str, str], text: str) -> list[dict[str, Any]]:
        return await self.post(str(ticket.thread_id), sender, text=text)

    def card(self, ticket: Ticket, *, first: bool = False) -> dict[str, Any]:
        """The ticket's card as the channel shows it now (the last update, else the post)."""
        shown = [a for a in self.connector.updates if a["_id"] == ticket.channel_message_id]
        if not shown or first:
            shown = [a for a in self.connector.activities if a["_id"] == ticket.channel_message_id]
        return dict(shown[-1]["attachments"][0]["content"])

    def card_text(self, ticket: Ticket) -> str:
        return "\n".join(card_parts(self.card(ticket))[0])


def _set_help_desk(database_url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("Microsoft", "DATABASE_URL"))}
    env["DATABASE_URL"] = database_url
    return subprocess.run(
        [COMMAND, "helpdesk", *arguments], env=env, capture_output=True, text=True, timeout=60
    )


def _in(connector: ConnectorStandIn, conversation_id: str, since: int = 0) -> list[str]:
    """What the app posted to one conversation since the ``since``-th activity."""
    said = []
    for activity in connector.activities[since:]:
        if activity["_conversation"] == conversation_id:
            said.append(texts([activity]))
    return said


async def _open_desk(http, base_url, connector, sqlite_url, locale="en-US") -> HelpDesk:
    desk = HelpDesk(http, base_url, connector, locale)
    await desk.install()
    done = await asyncio.to_thread(_set_help_desk, sqlite_url, "set", desk.team)
    assert done.returncode == 0, done.stderr
    assert desk.team in done.stdout
    return desk


def _service(units, clock=None) -> HandoffService:
    return HandoffService(units, clock or SystemClock(), reraise_after=timedelta(minutes=15))


async def _ticket_of(units, user: str) -> Ticket:
    ticket = await _service(units).active_for(user)
    assert ticket is not None
    return ticket


async def test_a_person_helps_the_user_and_the_journey_resumes_where_it_was_then_a_rating(
    http, serve_app, sqlite_url, units
):
    base_url = await serve_app(make_settings(sqlite_url))
    async with connector_stand_in() as connector:
        desk = await _open_desk(http, base_url, connector, sqlite_url)
        ana = teams_user(http, base_url, connector)
        asked = await ana.send("renew")
        assert RENEW_QUESTION in texts(asked)

        queued = texts(await ana.send("Talk to a person"))

        assert "number 1 in the queue" in queued
        assert RENEW_QUESTION in queued  # asked again: nothing is lost meanwhile
        ticket = await _ticket_of(units, "ana.silva")
        [card] = [a for a in connector.activities if a["_conversation"] == desk.team]
        assert card["_reply_to"] is None  # a new thread in the channel
        assert ticket.thread_id == f"{desk.team};messageid={card['_id']}"
        shown = desk.card_text(ticket)
        assert f"Request {ticket.number}: Ana Silva" in shown
        assert "Organization: Northwind Traders Inc." in shown  # its name, not the bot's id
        assert "northwind" not in shown
        assert "User: renew" in shown and "User: Talk to a person" in shown
        assert [b["title"] for b in card_parts(desk.card(ticket))[1]] == ["Claim", "Resolve"]

        before = len(connector.activities)
        claimed = texts(await desk.click(ticket, AGENT, "Claim"))
        assert "Kenji Sato claimed" in claimed
        await connector.wait_until(lambda: _in(connector, ana.conversation["id"], before))
        assert (
            "Kenji Sato from the help desk has joined"
            in _in(connector, ana.conversation["id"], before)[0]
        )
        assert "Claimed by Kenji Sato" in desk.card_text(ticket)
        assert [b["title"] for b in card_parts(desk.card(ticket))[1]] == ["Resolve"]

        before = len(connector.activities)
        answered = await ana.send("My renewal invoice shows the wrong company address")
        assert answered == []  # the journey waits: the agent answers
        assert _in(connector, str(ticket.thread_id), before) == [
            "Ana Silva: My renewal invoice shows the wrong company address"
        ]

        before = len(connector.activities)
        await desk.say(ticket, AGENT, "I've fixed the address; the invoice is reissued.")
        await connector.wait_until(lambda: _in(connector, ana.conversation["id"], before))
        assert _in(connector, ana.conversation["id"], before) == [
            "Kenji Sato (help desk): I've fixed the address; the invoice is reissued."
        ]

        before = len(connector.activities)
        await desk.click(ticket, AGENT, "Resolve")
        await connector.wait_until(lambda: len(_in(connector, ana.conversation["id"], before)) >= 3)
        resolved, reprompt, rating = _in(connector, ana.conversation["id"], before)[:3]
        assert "marked your request" in resolved and "resolved" in resolved
        assert reprompt.startswith(RENEW_QUESTION)
        assert "How would you rate the help" in rating
        assert "Resolved by Kenji Sato" in desk.card_text(ticket)
        assert card_parts(desk.card(ticket))[1] == []

        rating_card = next(
            a["attachments"][0]["content"]
            for a in reversed(connector.activities)
            if a["_conversation"] == ana.conversation["id"] and a.get("attachments")
        )
        thanked = texts(await ana.click(rating_card, "4"))
        renewed = texts(await ana.send("Place the renewal order", {"action": "renew.order"}))

    assert "4 out of 5" in thanked
    stored = await _service(units).get(ticket.id)
    assert (stored.status, stored.csat) == (TicketStatus.RESOLVED, 4)
    assert [line.sender for line in stored.transcript][-2:] == ["user", "agent"]
    assert "Renewal order ORD-" in renewed  # the journey went on from its question


async def _helped_and_handed_back(
    http, base_url, connector, sqlite_url, units, locale: str
) -> tuple[Teams, Ticket]:
    """Ana asks for a person at the menu; an agent claims, then resolves: she is asked for a
    rating, the menu's question just above it."""
    desk = await _open_desk(http, base_url, connector, sqlite_url)
    ana = teams_user(http, base_url, connector, locale=locale)
    await ana.send("hello")
    await ana.send("真人客服" if locale == "zh-TW" else "Talk to a person")
    ticket = await _ticket_of(units, "ana.silva")
    await desk.click(ticket, AGENT, "Claim")
    before = len(connector.activities)
    await desk.click(ticket, AGENT, "Resolve")
    await connector.wait_until(lambda: len(_in(connector, ana.conversation["id"], before)) >= 3)
    return ana, ticket


@pytest.mark.parametrize(
    ("locale", "typed", "thanks"),
    [
        ("en-US", "5", "I've noted 5 out of 5"),
        ("en-US", "5 stars", "I've noted 5 out of 5"),
        ("zh-TW", "５", "5 分（滿分 5 分）"),
        ("zh-TW", "5分", "5 分（滿分 5 分）"),
        ("zh-TW", "五", "5 分（滿分 5 分）"),
    ],
)
async def test_a_score_typed_just_after_the_rating_question_is_the_rating_not_a_menu_item(
    http, serve_app, sqlite_url, units, locale, typed, thanks
):
    base_url = await serve_app(make_settings(sqlite_url))
    async with connector_stand_in() as connector:
        ana, ticket = await _helped_and_handed_back(
            http, base_url, connector, sqlite_url, units, locale
        )

        rated = texts(await ana.send(typed))
        then = texts(await ana.send("5"))  # asked once: a second 5 is the menu's item 5 again

    assert thanks in rated
    assert "Admin agent" not in rated and "系統管理代理人" not in rated
    assert (await _service(units).get(ticket.id)).csat == 5
    assert "Admin agent" in then or "系統管理代理人" in then


async def test_after_the_rating_question_anything_else_goes_on_as_usual_and_the_offer_lapses(
    http, serve_app, sqlite_url, units
):
    base_url = await serve_app(make_settings(sqlite_url))
    async with connector_stand_in() as connector:
        ana, ticket = await _helped_and_handed_back(
            http, base_url, connector, sqlite_url, units, "en-US"
        )

        status = texts(await ana.send("status"))
        later = texts(await ana.send("5"))

    assert "Northwind Traders Inc." in status
    assert "out of 5" not in later and "Admin agent" in later
    assert (await _service(units).get(ticket.id)).csat is None


@pytest.mark.parametrize(
    ("locale", "asks", "resolved", "question", "rating"),
    [
        ("en-US", ("renew", "Talk to a person"), "Kenji Sato has marked your request",
         RENEW_QUESTION, "How would you rate the help you had with request"),
        ("zh-TW", ("續約", "真人客服"), "Kenji Sato 已將您的申請",
         "要續約 Northwind Traders Inc. 的Microsoft 行動寶盒訂閱", "您對申請"),
    ],
)  # fmt: skip
async def test_a_chat_handed_back_by_the_help_desk_goes_on_in_the_users_language(
    http, serve_app, sqlite_url, units, locale, asks, resolved, question, rating
):
    base_url = await serve_app(make_settings(sqlite_url))
    async with connector_stand_in() as connector:
        desk = await _open_desk(http, base_url, connector, sqlite_url)
        ana = teams_user(http, base_url, connector, locale=locale)
        for text in asks:
            await ana.send(text)
        ticket = await _ticket_of(units, "ana.silva")
        await desk.click(ticket, AGENT, "Claim")
        before = len(connector.activities)

        await desk.click(ticket, AGENT, "Resolve")
        await connector.wait_until(lambda: len(_in(connector, ana.conversation["id"], before)) >= 3)
        said = _in(connector, ana.conversation["id"], before)

    assert said[0].startswith(resolved)
    assert said[1].startswith(question)
    assert said[2].startswith(rating)


async def test_with_a_chinese_help_desk_the_card_and_the_channel_are_in_chinese_the_user_not(
    http, serve_app, sqlite_url, units
):
    base_url = await serve_app(make_settings(sqlite_url, help_desk_locale="zh-TW"))
    async with connector_stand_in() as connector:
        desk = await _open_desk(http, base_url, connector, sqlite_url, "zh-TW")
        ana = teams_user(http, base_url, connector)
        await ana.send("renew")
        await ana.send("Talk to a person")
        ticket = await _ticket_of(units, "ana.silva")
        opened = desk.card_text(ticket)
        buttons = [b["title"] for b in card_parts(desk.card(ticket))[1]]
        desk.agents_locale = "en-US"  # an agent whose Teams is in English: the desk stays
        claimed = texts(await desk.click(ticket, AGENT, "接手"))
        refused = texts(await desk.click(ticket, OUTSIDER, "解決"))
        before = len(connector.activities)
        await desk.click(ticket, AGENT, "解決")
        await connector.wait_until(lambda: len(_in(connector, ana.conversation["id"], before)) >= 3)
        resolved = desk.card_text(ticket)
        told = _in(connector, ana.conversation["id"], before)

    assert f"申請 {ticket.number}：Ana Silva" in opened
    assert "流程: 續約會員資格" in opened  # the journey as its buttons name it
    assert "語言: 英文" in opened
    assert "使用者: Talk to a person" in opened  # the conversation, as it was
    assert buttons == ["接手", "解決"]
    assert claimed.startswith(f"Kenji Sato 已接手 {ticket.number}。")
    assert refused == "只有服務台團隊的成員才能接手或解決申請。"
    assert "由 Kenji Sato 解決" in resolved
    assert told[0].startswith("Kenji Sato has marked your request")  # the user's own language
    assert told[1].startswith(RENEW_QUESTION)


async def test_someone_outside_the_help_desk_team_cannot_claim_and_nothing_changes(
    http, serve_app, sqlite_url, units
):
    base_url = await serve_app(make_settings(sqlite_url))
    async with connector_stand_in() as connector:
        desk = await _open_desk(http, base_url, connector, sqlite_url)
        ana = teams_user(http, base_url, connector)
        await ana.send("Talk to a person")
        ticket = await _ticket_of(units, "ana.silva")
        before = len(connector.activities)

        refused = texts(await desk.click(ticket, OUTSIDER, "Claim"))
        also = texts(await desk.click(ticket, OUTSIDER, "Resolve"))

        after = connector.activities[before:]

    assert "Only members of the help-desk team can claim or resolve requests." in refused
    assert "Only members of the help-desk team" in also
    assert (await _service(units).get(ticket.id)).status is TicketStatus.OPEN
    assert connector.updates == []
    assert after == []  # the user was told nothing


async def test_the_user_can_cancel_their_request_and_the_card_says_so(
    http, serve_app, sqlite_url, units
):
    base_url = await serve_app(make_settings(sqlite_url))
    async with connector_stand_in() as connector:
        desk = await _open_desk(http, base_url, connector, sqlite_url)
        ana = teams_user(http, base_url, connector)
        queued = await ana.send("Talk to a person")
        ticket = await _ticket_of(units, "ana.silva")

        withdrawn = texts(await ana.click_in(queued, "Cancel the request"))
        await connector.wait_for_updates(1)
        late = texts(await desk.click(ticket, AGENT, "Claim", first=True))

    assert f"withdrawn your request {ticket.number}" in withdrawn
    assert "Cancelled by the user" in desk.card_text(ticket)
    assert card_parts(desk.card(ticket))[1] == []
    assert "is closed" in late
    assert (await _service(units).get(ticket.id)).status is TicketStatus.ABANDONED


async def test_a_request_left_unclaimed_is_raised_again_and_the_user_is_told(
    http, serve_app, sqlite_url, units
):
    base_url = await serve_app(make_settings(sqlite_url))
    async with connector_stand_in() as connector:
        desk = await _open_desk(http, base_url, connector, sqlite_url)
        ana = teams_user(http, base_url, connector)
        await ana.send("Talk to a person")
        ticket = await _ticket_of(units, "ana.silva")
        clock = FixedClock(datetime.now(UTC) + timedelta(minutes=5))
        help_desk = TeamsHelpDesk(
            _service(units, clock),
            create_adapter(make_settings(sqlite_url)),
            "",
            ReferenceKeeper(SqlConversationReferences(units, clock)),
            clock,
            membership=MembershipService(units, clock),
        )

        early = await help_desk.run_once()
        clock.at += timedelta(minutes=11)  # 16 minutes after the request
        before = len(connector.activities)
        raised = await help_desk.run_once()
        again = await help_desk.run_once()

        in_thread = _in(connector, str(ticket.thread_id), before)
        to_user = _in(connector, ana.conversation["id"], before)

    assert (early, raised, again) == (0, 1, 0)
    assert in_thread == [f"Still waiting: {ticket.number}, unclaimed for 16 min."]
    assert len(to_user) == 1 and "number 1 in the queue" in to_user[0]
    assert "Raised again: 1" in desk.card_text(ticket)
    assert (await _service(units).get(ticket.id)).raise_count == 1


async def test_a_restart_in_the_middle_of_a_claimed_request_loses_nothing(
    http, serve_app, sqlite_url, units
):
    first = await serve_app(make_settings(sqlite_url))
    async with connector_stand_in() as connector:
        desk = await _open_desk(http, first, connector, sqlite_url)
        ana = teams_user(http, first, connector)
        await ana.send("renew")
        await ana.send("Talk to a person")
        ticket = await _ticket_of(units, "ana.silva")
        await desk.click(ticket, AGENT, "Claim")

        second = await serve_app(make_settings(sqlite_url))  # another instance, same database
        ana.base_url = desk.base_url = second
        before = len(connector.activities)
        await ana.send("Are you still there?")
        await desk.say(ticket, AGENT, "Yes, still here.")
        await connector.wait_until(lambda: _in(connector, ana.conversation["id"], before))
        in_thread = _in(connector, str(ticket.thread_id), before)
        to_user = _in(connector, ana.conversation["id"], before)
        await desk.click(ticket, AGENT, "Resolve")
        await connector.wait_until(lambda: len(_in(connector, ana.conversation["id"], before)) >= 4)
        resumed = _in(connector, ana.conversation["id"], before)[2]

    assert in_thread == ["Ana Silva: Are you still there?"]
    assert to_user == ["Kenji Sato (help desk): Yes, still here."]
    assert resumed.startswith(RENEW_QUESTION)


async def test_the_operator_lists_the_team_channels_and_an_unknown_team_is_refused(
    http, serve_app, sqlite_url, units
):
    base_url = await serve_app(make_settings(sqlite_url))
    async with connector_stand_in() as connector:
        desk = HelpDesk(http, base_url, connector)
        await desk.install()

    listed = await asyncio.to_thread(_set_help_desk, sqlite_url, "channels")
    unknown = await asyncio.to_thread(_set_help_desk, sqlite_url, "set", "19:nobody@thread.tacv2")

    assert listed.returncode == 0 and desk.team in listed.stdout
    assert "Partner help desk" in listed.stdout
    assert unknown.returncode == 2
    assert "not installed in team '19:nobody@thread.tacv2'" in unknown.stderr
    assert await _service(units).help_desk() is None


async def test_on_direct_line_the_bot_also_emits_handoff_initiate_with_the_transcript(
    http, serve_app, sqlite_url, units
):
    base_url = await serve_app(make_settings(sqlite_url))
    conversation = {"id": uuid.uuid4().hex}
    user = {"id": "ana.silva", "name": "Ana Silva"}

    async def send(**fields: Any) -> tuple[int, list[dict[str, Any]]]:
        body = {
            "id": uuid.uuid4().hex, "channelId": "directline", "serviceUrl": "http://127.0.0.1:9",
            "from": user, "recipient": BOT, "conversation": conversation, "locale": "en-US",
            "deliveryMode": "expectReplies", **fields,
        }  # fmt: skip
        async with http.post(f"{base_url}/api/messages", json=body) as response:
            if response.status != 200:
                return response.status, []
            return response.status, list((await response.json())["activities"])

    await send(type="message", text="status")
    _, replies = await send(type="message", text="Talk to a person")
    status, _ = await send(
        type="event", name="handoff.status", value={"state": "accepted", "message": "queued"}
    )

    [initiate] = [a for a in replies if a.get("name") == "handoff.initiate"]
    assert initiate["type"] == "event"
    assert initiate["value"]["ticket"] == (await _ticket_of(units, "ana.silva")).number
    [transcript] = initiate["attachments"]
    assert (transcript["name"], transcript["contentType"]) == ("Transcript", "application/json")
    said = [a["text"] for a in transcript["content"]["activities"]]
    assert said[0] == "status" and said[-1] == "Talk to a person"
    assert status in (200, 201)


async def test_an_agent_may_claim_with_an_adaptive_card_action_execute_too(
    http, serve_app, sqlite_url, units
):
    base_url = await serve_app(make_settings(sqlite_url))
    async with connector_stand_in() as connector:
        desk = await _open_desk(http, base_url, connector, sqlite_url)
        ana = teams_user(http, base_url, connector)
        await ana.send("Talk to a person")
        ticket = await _ticket_of(units, "ana.silva")
        value = {"action": {"type": "Action.Execute", "verb": "handoff.claim",
                            "data": {"ticket": ticket.id}}, "trigger": "manual"}  # fmt: skip
        body = {
            "id": uuid.uuid4().hex, "type": "invoke", "name": "adaptiveCard/action",
            "channelId": "msteams", "serviceUrl": connector.url, "from": AGENT,
            "recipient": BOT, "value": value,
            "conversation": {"id": ticket.thread_id, "conversationType": "channel",
                             "tenantId": TENANT},
            "channelData": {"tenant": {"id": TENANT}, "team": {"id": desk.team}},
        }  # fmt: skip

        async with http.post(f"{base_url}/api/messages", json=body) as response:
            status = response.status
        await connector.wait_for_updates(1)

    assert status == 200
    claimed = await _service(units).get(ticket.id)
    assert (claimed.status, claimed.agent_name) == (TicketStatus.CLAIMED, "Kenji Sato")
    assert "Claimed by Kenji Sato" in desk.card_text(ticket)


async def test_a_reminder_falling_due_while_a_person_helps_arrives_once_the_chat_is_handed_back(
    http, serve_app, sqlite_url
):
    saturday_noon = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # quiet hours: reminders wait
    clock = FixedClock(saturday_noon)
    engine = db.create_engine(sqlite_url)
    await load_demo(UnitOfWorkFactory(engine), clock)  # Ana's membership: 20 days left
    units = UnitOfWorkFactory(engine)
    settings = make_settings(sqlite_url, reminders_enabled=True, reminder_interval_seconds=0.1)
    base_url = await serve_app(settings, clock=clock)
    async with connector_stand_in() as connector:
        desk = await _open_desk(http, base_url, connector, sqlite_url)
        ana = teams_user(http, base_url, connector)
        await ana.send("renew")
        await ana.send("Talk to a person")
        ticket = await _ticket_of(units, "ana.silva")
        await desk.click(ticket, AGENT, "Claim")
        before = len(connector.activities)

        clock.at = saturday_noon + timedelta(days=2)  # Monday noon: the 30-day reminder is due
        await asyncio.sleep(1)  # ten passes of the runner
        while_helped = _in(connector, ana.conversation["id"], before)
        await desk.click(ticket, AGENT, "Resolve")
        clock.at += timedelta(minutes=2)
        await connector.wait_until(
            lambda: any(
                "Renewal reminder" in said for said in _in(connector, ana.conversation["id"])
            )
        )
        after = _in(connector, ana.conversation["id"], before)
    await engine.dispose()

    assert while_helped == []
    resumed = next(i for i, said in enumerate(after) if said.startswith(RENEW_QUESTION))
    reminded = [i for i, said in enumerate(after) if "Renewal reminder: Northwind" in said]
    assert len(reminded) == 1 and reminded[0] > resumed


async def test_a_request_made_before_there_was_a_help_desk_reaches_it_once_one_is_set(
    http, serve_app, sqlite_url, units
):
    base_url = await serve_app(make_settings(sqlite_url, help_desk_interval_seconds=0.2))
    async with connector_stand_in() as connector:
        ana = teams_user(http, base_url, connector)
        asked = await ana.send("Talk to a person")
        ticket = await _ticket_of(units, "ana.silva")
        desk = HelpDesk(http, base_url, connector)
        await desk.install()
        done = await asyncio.to_thread(_set_help_desk, sqlite_url, "set", desk.team)
        await connector.wait_until(
            lambda: any(
                "reached the help desk" in t for t in _in(connector, ana.conversation["id"])
            )
        )
        posted = await _ticket_of(units, "ana.silva")
        told = _in(connector, ana.conversation["id"])
        claimed = await desk.click(posted, AGENT, "Claim")

    assert "no help-desk channel is set up yet" in texts(asked)
    assert "1 request(s) for a person made before" in done.stdout
    assert ticket.channel_message_id is None and posted.channel_message_id is not None
    assert posted.thread_id == f"{desk.team};messageid={posted.channel_message_id}"
    assert "Ana Silva" in desk.card_text(posted)
    assert told[-1] == (
        f"Your request {ticket.number} has reached the help desk: you are number 1 in the queue. "
        "I'll tell you here as soon as someone joins."
    )
    assert "Kenji Sato claimed" in texts(claimed)
