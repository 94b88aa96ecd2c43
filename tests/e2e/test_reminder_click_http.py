"""A renewal reminder, from the runner to the user's chat and back: *Renew now* over HTTP.

The real app serves the demo data on SQLite. The user talks to it once, Teams-shaped, so the
app keeps the conversation and records them as their organization's administrator. A
``ReminderRunner`` (on a working-day noon, so quiet hours do not hold it) posts the reminder
card through the real adapter to a connector stand-in; the test then clicks the card's
*Renew now* exactly as Teams sends a ``messageBack`` and reads the app's answer. In the
catalog-only language mode: the card and the answer are all in the user's language.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import update

from bot.adapter import create_adapter
from bot.proactive import ReferenceKeeper
from bot.reminders import ChatReminderChannel
from services import db
from services.benefits import BenefitsService
from services.catalog import CatalogStore
from services.clock import FixedClock, SystemClock
from services.conversations import SqlConversationReferences
from services.demo_data import load_demo
from services.emails import EmailComposer
from services.reminders import EmailReminderChannel, ReminderRunner
from services.tables import MembershipRow
from services.unit_of_work import UnitOfWorkFactory
from tests.conftest import make_settings
from tests.support.chat import card_parts
from tests.support.connector import connector_stand_in
from tests.support.teams import teams_user


def _next_working_noon(now: datetime) -> datetime:
    day = now.replace(hour=12, minute=0, second=0, microsecond=0) + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


pytestmark = pytest.mark.usefixtures("catalog_only_language")


@pytest.fixture
async def units(sqlite_url):
    engine = db.create_engine(sqlite_url)
    await load_demo(UnitOfWorkFactory(engine), SystemClock())  # as `make run` has it
    yield UnitOfWorkFactory(engine)
    await engine.dispose()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


def _texts(reply: dict[str, Any]) -> list[str]:
    return card_parts(reply["attachments"][0]["content"])[0]


def _last(replies: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """The last reply's text (a card's first text block) and its buttons' titles."""
    last = replies[-1]
    if last.get("attachments"):
        texts, buttons = card_parts(last["attachments"][0]["content"])
        return texts[0], [b["title"] for b in buttons]
    actions = (last.get("suggestedActions") or {}).get("actions") or []
    return last.get("text") or "", [a["title"] for a in actions]


async def _expire(units, organization_id: str, *, days_ago: int) -> None:
    async with units() as unit:
        await unit.session.execute(
            update(MembershipRow)
            .where(MembershipRow.organization_id == organization_id)
            .values(expiry_date=SystemClock().today() - timedelta(days=days_ago))
        )
        await unit.commit()


def _benefits(units, clock: FixedClock) -> BenefitsService:
    return BenefitsService(units, clock, CatalogStore(units, clock))


async def _remind(units, sqlite_url: str, clock: FixedClock) -> ReminderRunner:
    """The runner the service runs, posting through the real adapter."""
    references = SqlConversationReferences(units, clock)
    channel = ChatReminderChannel(
        create_adapter(make_settings(sqlite_url)), "", ReferenceKeeper(references)
    )
    emails = EmailReminderChannel(EmailComposer("bot@bot.example.test", "Membership assistant"))
    return ReminderRunner(units, clock, channel, emails, references=references)


@pytest.mark.parametrize(
    ("user", "locale", "renew", "question", "buttons"),
    [
        (
            "ana.silva",
            "en-US",
            "Renew now",
            "Renew the Microsoft Action Pack subscription of Northwind Traders Inc. "
            "(MPN ID 4100003)?",
            ["Place the renewal order", "Not now"],
        ),
        (
            "ana.silva",
            "zh-TW",
            "立即續約",
            "要續約 Northwind Traders Inc. 的Microsoft 行動寶盒訂閱（MPN ID 4100003）嗎？",
            ["下續約訂單", "現在不要"],
        ),
        (
            "mei.lin",
            "en-US",
            "Renew now",
            "To renew, Contoso Taiwan Ltd. first sets up its Partner Center account. Still to do: "
            "Sign in as a global administrator",
            ["Continue: Create the Partner Center account", "Not now"],
        ),
    ],
)
async def test_renew_now_on_the_reminder_card_lands_in_the_renewal_at_the_right_step(
    http, serve_app, sqlite_url, units, user, locale, renew, question, buttons
):
    base_url = await serve_app(make_settings(sqlite_url))
    async with connector_stand_in() as connector:
        teams = teams_user(http, base_url, connector, user, locale)
        if user == "mei.lin":  # Contoso's record expired two days ago, not a month ago
            await _expire(units, "contoso", days_ago=2)
        await teams.send("status")  # the app keeps the chat and who may act for whom
        noon = FixedClock(_next_working_noon(datetime.now(UTC)))
        runner = await _remind(units, sqlite_url, noon)

        report = await runner.run_once()
        [posted] = [
            a for a in await connector.wait_for(1) if a["_conversation"] == teams.conversation["id"]
        ]
        card = posted["attachments"][0]["content"]
        replies = await teams.click(card, renew)

    assert report.sent - report.emailed == 1  # in the chat; the primary contacts by email
    text, titles = _last(replies)
    assert text.startswith(question)
    assert titles == buttons


async def test_renewing_from_the_reminder_cancels_the_reminders_left_for_that_term(
    http, serve_app, sqlite_url, units
):
    base_url = await serve_app(make_settings(sqlite_url))
    async with connector_stand_in() as connector:
        teams = teams_user(http, base_url, connector)
        await teams.send("status")
        noon = FixedClock(_next_working_noon(datetime.now(UTC)))
        runner = await _remind(units, sqlite_url, noon)
        await runner.run_once()
        [posted] = await connector.wait_for(1)

        await teams.click(posted["attachments"][0]["content"], "Renew now")
        replies = await teams.send("Place the renewal order", {"action": "renew.order"})
        [order] = await _benefits(units, noon).orders("northwind", open_only=True)
        await _benefits(units, noon).confirm_payment(order.id, "HSBC-2201")  # the Action Pack
        noon.at += timedelta(days=14)  # the 7-day threshold of the old term
        later = await runner.run_once()

    assert replies[0]["text"].startswith(f"Renewal order {order.id} is placed")
    assert later.sent == 0 and later.scheduled == 0
    assert len(connector.activities) == 1
