"""A database and conversations written by the previous release load, and the chats go on.

``tests/fixtures/release-3fcdc7a/state.sql`` is the database as the release at 3fcdc7a left it
(its ``make_fixture.py`` says how it was written): the demo organizations, and six
conversations waiting at a question of that release's dialogs, some of which are gone or have
other steps now. Today's migrations upgrade it; then each user answers as they would have, with
the buttons of the cards that release showed. Nobody gets the turn-failure apology, and each
conversation picks up at its journey, where the organization stands.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.sql_storage import SqlStorage
from services import db
from services.clock import FixedClock
from services.state_repository import SqlAlchemyStateRepository
from services.unit_of_work import UnitOfWorkFactory
from tests.conftest import journey_services_on
from tests.support.chat import Chat, Reply

FIXTURE = Path(__file__).parent.parent / "fixtures" / "release-3fcdc7a" / "state.sql"
CLOCK = FixedClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
APOLOGIES = ("Sorry, something went wrong", "抱歉，我這邊發生了問題")
UPDATED = "I was updated since your last message; here is where things stand."


@pytest.fixture
async def release(tmp_path):
    """The previous release's database, upgraded by today's migrations; its chats' storage."""
    path = tmp_path / "release.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(FIXTURE.read_text(encoding="utf-8"))
    url = f"sqlite:///{path}"
    await db.upgrade_async(url)
    engine = db.create_engine(url)
    units = UnitOfWorkFactory(engine)
    yield units, journey_services_on(units, CLOCK), SqlStorage(SqlAlchemyStateRepository(engine))
    await engine.dispose()


def chat(release, user: str, conversation: str, locale: str = "en-US") -> Chat:
    _, services, storage = release
    return Chat(storage, services, locale=locale, user_id=user, conversation_id=conversation)


def said(replies: list[Reply]) -> str:
    return "\n".join(str(reply) for reply in replies)


async def test_the_previous_releases_data_reads_the_same_after_the_migrations(release):
    units, services, _ = release

    northwind = await services.membership.status("northwind")
    orders = await services.benefits.orders("northwind")
    async with units() as unit:
        goals = (await unit.session.execute(text("select count(*) from journey_goals"))).scalar()

    assert northwind.membership.expiry_date.isoformat() == "2026-12-14"
    # That release's demo marked Northwind's profile done without a primary contact; the
    # checklist is read from the stored contact now, so the profile reads as still to give.
    assert [i.step.value for i in northwind.checklist if i.state.value == "done"] == [
        "sign_in", "agreement",
    ]  # fmt: skip
    assert orders == [] and goals == 0


async def test_renew_now_on_the_previous_releases_question_picks_up_the_renewal(release):
    replies = await chat(release, "ana.silva", "release-ana-renew").submit(
        {"action": "renew.now"}, text="Renew now"
    )

    assert not any(apology in said(replies) for apology in APOLOGIES)
    assert replies[0].text == UPDATED
    # The renewal, where Northwind stands (its old demo record has no primary contact yet).
    assert replies[-1].text.startswith(
        "To renew, Northwind Traders Inc. first sets up its Partner Center account. Still to do: "
        "Legal business profile and primary contact."
    )


async def test_the_profile_form_of_the_previous_release_comes_back_in_the_chosen_language(release):
    mei = chat(release, "mei.lin", "release-mei-form", "zh-TW")

    replies = await mei.submit({"action": "submit_profile", "legal_name": "Contoso Taiwan Ltd."})

    assert not any(apology in said(replies) for apology in APOLOGIES)
    assert replies[0].text == "我在您上次傳訊之後更新過了；以下是目前的進度。"
    assert replies[-1].buttons == ["立即註冊", "取消"]  # the form, where the account stood


async def test_a_question_of_a_dialog_that_is_gone_now_restarts_its_journey(release):
    olivia = chat(release, "olivia.wang", "release-olivia-renew")

    replies = await olivia.submit({"action": "renew.create_account"}, text="Create the account now")
    then = await olivia.say("help")

    assert not any(apology in said(replies) for apology in APOLOGIES)
    assert replies[-1].text.startswith(
        "若要續約，Fabrikam Design Co. 須先完成合作夥伴中心帳戶的設定"
    )
    assert then[-1].text == replies[-1].text  # and the conversation goes on from there


@pytest.mark.parametrize(
    ("conversation", "answer", "expected"),
    [
        ("release-olivia-admin", "稍後", "您尚未加入系統管理代理人群組"),
        ("release-ana-hub", "Buy offers", "Northwind Traders Inc.: Microsoft Action Pack"),
    ],
)
async def test_other_questions_of_the_previous_release_pick_up_at_their_journey(
    release, conversation, answer, expected
):
    user = conversation.split("-")[1]
    users = {"olivia": "olivia.wang", "ana": "ana.silva"}
    replies = await chat(release, users[user], conversation).say(answer)

    assert not any(apology in said(replies) for apology in APOLOGIES)
    assert expected in replies[-1].text


async def test_an_answer_at_the_previous_releases_menu_is_taken_as_it_was_meant(release):
    replies = await chat(release, "ana.silva", "release-ana-menu").say("7")

    assert not any(apology in said(replies) for apology in APOLOGIES)
    assert "Northwind Traders Inc." in replies[0].text  # the status card
    assert "MPN ID 4100003" in replies[0].text
