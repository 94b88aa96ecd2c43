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


async def test_uninstalling_from_a_conversation_stops_posting_there_for_everyone(references):
    await references.remember(_reference("a:shared"))
    await references.remember(_reference("a:shared").model_copy(update={"user_id": "david.chen"}))
    await references.remember(_reference("a:other").model_copy(update={"user_id": "ana.silva"}))

    await references.forget_conversation("a:shared")

    assert await references.latest_for("mei.lin") is None
    assert await references.latest_for("david.chen") is None
    assert await references.latest_for("ana.silva") is not None


def _channel(channel_id: str, team_id: str = "19:team@thread.tacv2", **fields: object):
    from services.conversations import TeamChannel

    values: dict[str, object] = {
        "channel_id": channel_id,
        "team_id": team_id,
        "name": "Partner desk",
        "tenant_id": "tenant-1",
        "service_url": "https://smba.example/apac/",
        "document": {"conversation": {"id": channel_id}},
        "installed_by": "mei.lin",
    }
    values.update(fields)
    return TeamChannel.model_validate(values)


async def test_team_channels_are_recorded_refreshed_and_forgotten_with_their_team(
    references, clock
):
    channels = references.channels
    await channels.record(_channel("19:general@thread.tacv2"))
    await channels.record(_channel("19:other@thread.tacv2", team_id="19:another@thread.tacv2",
                                   tenant_id="tenant-2"))  # fmt: skip

    await channels.refresh(
        "19:general@thread.tacv2", "https://smba.example/emea/", {"serviceUrl": "emea"}
    )
    await channels.refresh("19:unknown@thread.tacv2", "https://x.example/", {})

    general = await channels.get("19:general@thread.tacv2")
    assert general is not None and general.active
    assert (general.service_url, general.document, general.installed_by) == (
        "https://smba.example/emea/", {"serviceUrl": "emea"}, "mei.lin",
    )  # fmt: skip
    assert await channels.get("19:unknown@thread.tacv2") is None
    assert [c.channel_id for c in await channels.active("tenant-1")] == ["19:general@thread.tacv2"]

    await channels.forget_team("19:team@thread.tacv2")
    assert await channels.active("tenant-1") == []
    assert [c.channel_id for c in await channels.active()] == ["19:other@thread.tacv2"]

    # Installing again makes the channel active again.
    clock.at += timedelta(days=1)
    await channels.record(_channel("19:general@thread.tacv2", installed_by="david.chen"))
    again = await channels.get("19:general@thread.tacv2")
    assert again is not None and again.active and again.installed_by == "david.chen"
