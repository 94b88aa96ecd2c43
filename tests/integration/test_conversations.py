"""Conversation references on each real database, and the keeper that stores them per turn."""

from __future__ import annotations

from datetime import timedelta

import pytest
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount

from bot.adapter import create_adapter
from bot.proactive import Proactive, ReferenceKeeper
from dialogs.texts import LOCALE_KEY
from services import db
from services.conversations import SqlConversationReferences, StoredReference
from services.i18n import Locale
from services.unit_of_work import UnitOfWorkFactory
from tests.conftest import make_settings
from tests.support.connector import connector_stand_in


@pytest.fixture
async def references(database_url, clock):
    engine = db.create_engine(database_url)
    yield SqlConversationReferences(UnitOfWorkFactory(engine), clock)
    await engine.dispose()


def _reference(conversation: str, service_url: str = "https://smba.example/tw/") -> StoredReference:
    return StoredReference(
        user_id="mei.lin",
        conversation_id=conversation,
        service_url=service_url,
        locale="zh-TW",
        timezone="Asia/Taipei",
        document={"conversation": {"id": conversation}, "serviceUrl": service_url},
    )


async def test_the_latest_conversation_a_user_had_is_where_the_bot_reaches_them(references, clock):
    assert await references.latest_for("mei.lin") is None

    await references.remember(_reference("a:older"))
    clock.at += timedelta(minutes=5)
    await references.remember(_reference("a:newer"))

    latest = await references.latest_for("mei.lin")
    assert latest is not None
    assert (latest.conversation_id, latest.locale, latest.timezone) == (
        "a:newer", "zh-TW", "Asia/Taipei",
    )  # fmt: skip
    assert latest.document == {"conversation": {"id": "a:newer"}, "serviceUrl": latest.service_url}
    assert await references.latest_for("someone.else") is None


async def test_remembering_a_conversation_again_refreshes_it_in_place(references, clock):
    await references.remember(_reference("a:first"))
    clock.at += timedelta(minutes=5)
    await references.remember(_reference("a:second"))
    clock.at += timedelta(minutes=5)
    await references.remember(_reference("a:first", service_url="https://smba.example/emea/"))

    latest = await references.latest_for("mei.lin")
    assert latest is not None
    assert (latest.conversation_id, latest.service_url) == ("a:first", "https://smba.example/emea/")


class CountingReferences(SqlConversationReferences):
    def __init__(self, inner: SqlConversationReferences) -> None:
        self.inner = inner
        self.writes = 0

    async def remember(self, reference: StoredReference) -> None:
        self.writes += 1
        await self.inner.remember(reference)

    async def latest_for(self, user_id: str) -> StoredReference | None:
        return await self.inner.latest_for(user_id)


def _turn(
    service_url: str = "https://smba.example/tw/",
    timezone: str | None = None,
    conversation: str = "a:chat",
):
    activity = Activity(
        type=ActivityTypes.message,
        text="hi",
        channel_id="msteams",
        service_url=service_url,
        local_timezone=timezone,
        from_property=ChannelAccount(id="29:1", aad_object_id="mei.lin"),
        recipient=ChannelAccount(id="28:bot"),
        conversation=ConversationAccount(id=conversation),
    )
    context = TurnContext(TestAdapter(), activity)
    context.turn_state[LOCALE_KEY] = Locale.ZH_TW
    return context


async def test_the_keeper_stores_a_reference_once_and_again_only_when_it_changes(references):
    counting = CountingReferences(references)
    keeper = ReferenceKeeper(counting)

    for _ in range(3):
        await keeper.keep(_turn())
    assert counting.writes == 1

    await keeper.keep(_turn(service_url="https://smba.example/emea/"))
    await keeper.keep(_turn(service_url="https://smba.example/emea/", timezone="Asia/Taipei"))
    assert counting.writes == 3

    stored = await references.latest_for("mei.lin")
    assert stored is not None
    assert (stored.service_url, stored.locale, stored.timezone) == (
        "https://smba.example/emea/", "zh-TW", "Asia/Taipei",
    )  # fmt: skip
    # The stored document is the SDK's own reference: the bot can post with it later.
    assert stored.document["serviceUrl"] == "https://smba.example/emea/"
    assert stored.document["conversation"]["id"] == "a:chat"
    assert stored.document["user"]["aadObjectId"] == "mei.lin"


async def test_the_keeper_refreshes_a_reference_it_stored_long_ago(references):
    counting = CountingReferences(references)
    now = [0.0]
    keeper = ReferenceKeeper(counting, refresh=3600, clock=lambda: now[0])

    await keeper.keep(_turn())
    now[0] = 3599
    await keeper.keep(_turn())
    assert counting.writes == 1
    now[0] = 3601
    await keeper.keep(_turn())
    assert counting.writes == 2


async def test_the_bot_posts_to_the_users_latest_conversation_in_their_language(
    references, sqlite_url
):
    async with connector_stand_in() as connector:
        keeper = ReferenceKeeper(references)
        await keeper.keep(_turn(service_url=connector.url, conversation="a:chat"))
        proactive = Proactive(create_adapter(make_settings(sqlite_url)), "", keeper)

        told = await proactive.tell("mei.lin", lambda t: t.gettext("Membership status"))
        nobody = await proactive.tell("someone.else", lambda t: "hello")

        [posted] = await connector.wait_for(1)
    assert told and not nobody
    assert posted["_conversation"] == "a:chat"
    assert posted["text"] == "會員狀態"  # the language of the user's last turn
    assert posted["recipient"]["aadObjectId"] == "mei.lin"


async def test_a_conversation_the_channel_says_is_gone_is_not_posted_to_again_until_used(
    references, sqlite_url
):
    async with connector_stand_in() as connector:
        keeper = ReferenceKeeper(references)
        await keeper.keep(_turn(service_url=connector.url, conversation="a:removed"))
        proactive = Proactive(create_adapter(make_settings(sqlite_url)), "", keeper)
        connector.gone.add("a:removed")

        assert not await proactive.tell("mei.lin", lambda t: "hello")
        assert await references.latest_for("mei.lin") is None

        connector.gone.clear()
        await keeper.keep(_turn(service_url=connector.url, conversation="a:removed"))
        assert await proactive.tell("mei.lin", lambda t: "hello again")
        [posted] = await connector.wait_for(1)
    assert posted["text"] == "hello again"
