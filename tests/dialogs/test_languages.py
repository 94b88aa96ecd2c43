"""No English in a zh-TW chat, and no Chinese in an English one: what was seen leaking.

Every dialog test runs in the catalog-only language mode (``tests/dialogs/conftest.py``), which
fails a reply with a word of another language or from no catalog. These are the leaks seen in
chats, each in both languages: who the demo data says did a step, a journey handed back after
the help desk in a proactive turn (which carries no locale of its own), and the organization's
own tenant offered as a button. The help desk's side is over HTTP
(tests/e2e/test_handoff_http.py).
"""

from __future__ import annotations

import pytest
from botbuilder.core import MemoryStorage

from bot.proactive import continue_in, reference_of
from services import db
from services.benefits import OrderPurpose
from services.conversations import SqlConversationReferences
from services.membership import Actor
from services.unit_of_work import UnitOfWorkFactory
from tests.support.chat import Chat

ANA = Actor(id="ana.silva", name="Ana Silva")
TENANT = "7f3c2a10-0000-4000-8000-000000c0de02"  # Northwind's


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


@pytest.fixture
async def references(sqlite_url, clock):
    engine = db.create_engine(sqlite_url)
    yield SqlConversationReferences(UnitOfWorkFactory(engine), clock)
    await engine.dispose()


@pytest.mark.parametrize(
    ("locale", "asked", "said"),
    [
        ("en-US", "agreement",
         "Northwind Traders Inc. has already accepted the partner agreement (demo data, "
         "2026-11-24)."),
        ("zh-TW", "合約", "Northwind Traders Inc. 已接受合作夥伴合約（示範資料，2026-11-24）。"),
    ],
)  # fmt: skip
async def test_a_step_the_demo_data_did_names_who_did_it_in_the_readers_language(
    storage, journey_services, locale, asked, said
):
    chat = Chat(storage, journey_services, locale=locale, user_id="kenji.sato")

    replies = await chat.say(asked)

    assert replies[0].text == said
    status = await journey_services.membership.status("northwind")
    assert status.checklist[3].by == "demo data"  # stored as an earlier release stored it


@pytest.mark.parametrize(
    ("locale", "words", "question", "done"),
    [
        ("en-US", ("Buy and activate benefits", "Activate and manage benefits"),
         "Activate one?", "Done"),
        ("zh-TW", ("購買及啟用權益", "啟用及管理權益"), "要啟用其中一項嗎？", "完成"),
    ],
)  # fmt: skip
async def test_a_journey_handed_back_in_a_proactive_turn_asks_again_in_the_users_language(
    storage, journey_services, references, locale, words, question, done
):
    order = await journey_services.benefits.create_order(
        "northwind", ANA, global_admin=True, offer_id="support_incident_pack"
    )
    await journey_services.benefits.confirm_payment(order.id, "PAY-1")
    # The channel's id as a channel sends it, a string (the TestAdapter's own is an enum, which
    # keys the conversation's state apart from the stored reference's).
    chat = Chat(storage, journey_services, locale=locale, user_id="ana.silva",
                channel_id="test", references=references)  # fmt: skip
    await chat.say(words[0])
    asked = await chat.click(words[1])

    stored = await references.latest_for("ana.silva")
    failure = await continue_in(chat.adapter, "", reference_of(stored), chat.bot.resume)
    assert failure is None, repr(failure)
    [resumed] = chat.arrived()

    assert failure is None
    assert resumed.text == asked[-1].text == question
    assert resumed.buttons == asked[-1].buttons
    assert resumed.buttons[-1] == done


@pytest.mark.parametrize(
    ("locale", "words", "tenant", "done"),
    [
        ("en-US", ("Buy and activate benefits", "Activate and manage benefits",
                   "Activate: Azure credits"), "Our tenant: Northwind Traders (northwind.example)",
         "Azure credits is active: activated by Ana Silva"),
        ("zh-TW", ("購買及啟用權益", "啟用及管理權益", "啟用：Azure 點數"),
         "我們的租用戶：Northwind Traders（northwind.example）", "Azure 點數 已啟用：由 Ana Silva"),
    ],
)  # fmt: skip
async def test_the_organizations_own_tenant_is_offered_in_the_readers_language(
    storage, journey_services, locale, words, tenant, done
):
    order = await journey_services.benefits.create_order(
        "northwind", ANA, global_admin=True, offer_id="action_pack",
        purpose=OrderPurpose.RENEWAL,  # Northwind holds the Action Pack: the next term's
    )  # fmt: skip
    await journey_services.benefits.confirm_payment(order.id, "PAY-1")
    chat = Chat(storage, journey_services, locale=locale, user_id="ana.silva")
    await chat.say(words[0])
    await chat.click(words[1])
    asked = await chat.click(words[2])

    activated = await chat.click(tenant)

    assert asked[-1].buttons == [tenant]
    assert activated[0].text.startswith(done)
