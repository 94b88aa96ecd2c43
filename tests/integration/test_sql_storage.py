"""botbuilder state in SQL, on SQLite and PostgreSQL: the contract, ETags, restarts, races."""

from __future__ import annotations

import asyncio

import pytest
from botbuilder.core import StoreItem

from bot.sql_storage import SqlStorage
from services import db
from services.errors import StorageConflict
from services.state_repository import SqlAlchemyStateRepository
from tests.support.chat import Chat


@pytest.fixture
async def engine(database_url):
    engine = db.create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def storage(engine) -> SqlStorage:
    return SqlStorage(SqlAlchemyStateRepository(engine))


async def test_written_state_reads_back_with_an_etag_and_missing_keys_are_absent(storage):
    await storage.write({"conv/1": {"step": 2, "answers": {"company": "Contoso 股份有限公司"}}})

    items = await storage.read(["conv/1", "conv/missing"])

    assert list(items) == ["conv/1"]
    assert items["conv/1"]["answers"] == {"company": "Contoso 股份有限公司"}
    assert items["conv/1"]["e_tag"]


async def test_delete_removes_state_and_tolerates_missing_keys(storage):
    await storage.write({"conv/1": {"step": 1}})

    await storage.delete(["conv/1", "conv/never-written"])

    assert await storage.read(["conv/1"]) == {}


async def test_on_sqlite_no_other_turn_ever_finds_the_connection_taken(sqlite_url):
    # SQLite has one pooled connection and its statements never wait, so a read or a write
    # must be done with it before another turn runs. SQLAlchemy's own context managers gave
    # it back a loop iteration later, from a task of their own: concurrent turns queued for
    # it, and a turn in twenty waited hundreds of milliseconds (issue 9).
    engine = db.create_engine(sqlite_url)
    storage = SqlStorage(SqlAlchemyStateRepository(engine))
    seen: list[int] = []
    done = asyncio.Event()

    async def other_turns() -> None:
        while not done.is_set():
            seen.append(engine.pool.checkedout())
            await asyncio.sleep(0)

    observer = asyncio.create_task(other_turns())
    await asyncio.sleep(0)
    await storage.write({"conv/1": {"step": 1}})
    stale = (await storage.read(["conv/1"]))["conv/1"]
    await storage.write({"conv/1": {**stale, "step": 2}})
    with pytest.raises(StorageConflict):
        await storage.write({"conv/1": {**stale, "step": 3}})
    done.set()
    await observer
    await engine.dispose()

    assert seen and set(seen) == {0}


async def test_a_write_with_a_stale_etag_is_refused_and_the_newer_state_kept(storage):
    await storage.write({"conv/1": {"step": 1}})
    first = (await storage.read(["conv/1"]))["conv/1"]
    second = (await storage.read(["conv/1"]))["conv/1"]
    first["step"] = 2
    await storage.write({"conv/1": first})

    second["step"] = 3
    with pytest.raises(StorageConflict, match="Etag conflict"):
        await storage.write({"conv/1": second})

    assert (await storage.read(["conv/1"]))["conv/1"]["step"] == 2


async def test_two_racing_creators_of_one_key_do_not_both_win(storage):
    results = await asyncio.gather(
        storage.write({"conv/new": {"by": "a"}}),
        storage.write({"conv/new": {"by": "b"}}),
        return_exceptions=True,
    )

    assert sum(isinstance(r, StorageConflict) for r in results) == 1
    winner = "a" if results[0] is None else "b"
    assert (await storage.read(["conv/new"]))["conv/new"]["by"] == winner


async def test_a_failed_batch_writes_none_of_its_items(storage):
    await storage.write({"conv/1": {"step": 1}})
    stale = (await storage.read(["conv/1"]))["conv/1"]
    await storage.write({"conv/1": dict(stale)})

    with pytest.raises(StorageConflict):
        await storage.write({"user/1": {"locale": "zh-TW"}, "conv/1": stale})

    assert await storage.read(["user/1"]) == {}


async def test_a_star_etag_overwrites_unconditionally(storage):
    await storage.write({"conv/1": {"step": 1}})

    await storage.write({"conv/1": {"step": 9, "e_tag": "*"}})

    assert (await storage.read(["conv/1"]))["conv/1"]["step"] == 9


async def test_saving_twice_in_one_turn_does_not_conflict_with_itself(storage):
    await storage.write({"conv/1": {"step": 1}})
    item = (await storage.read(["conv/1"]))["conv/1"]

    item["step"] = 2
    await storage.write({"conv/1": item})
    item["step"] = 3
    await storage.write({"conv/1": item})

    assert (await storage.read(["conv/1"]))["conv/1"]["step"] == 3


async def test_store_items_with_a_unique_etag_are_written_only_once(storage):
    # The Teams SSO token-exchange de-duplication relies on exactly this.
    await storage.write({"exchange/1": StoreItem(e_tag="exchange-id-7")})

    with pytest.raises(StorageConflict, match="Etag conflict"):
        await storage.write({"exchange/1": StoreItem(e_tag="exchange-id-7")})


async def test_state_survives_a_restart_of_the_process(database_url):
    engine = db.create_engine(database_url)
    await SqlStorage(SqlAlchemyStateRepository(engine)).write({"conv/1": {"step": 4}})
    await engine.dispose()

    restarted = db.create_engine(database_url)
    try:
        items = await SqlStorage(SqlAlchemyStateRepository(restarted)).read(["conv/1"])
    finally:
        await restarted.dispose()

    assert items["conv/1"]["step"] == 4


async def test_a_dialog_half_way_through_continues_with_a_new_bot_instance(
    database_url, journey_services
):
    engine = db.create_engine(database_url)
    try:
        before = Chat(
            SqlStorage(SqlAlchemyStateRepository(engine)), journey_services, locale="en-US"
        )
        await before.join()
        await before.say("繁體中文")
    finally:
        await engine.dispose()

    engine = db.create_engine(database_url)
    try:
        after = Chat(
            SqlStorage(SqlAlchemyStateRepository(engine)), journey_services, locale="en-US"
        )
        replies = await after.say("8")
    finally:
        await engine.dispose()

    # The menu prompt was still waiting, and the language chosen before is kept.
    assert replies[0].text.startswith("我無法在這裡為您轉接專人")


class _CountingRepository:
    """The SQL repository, remembering the keys of each write."""

    def __init__(self, repository: SqlAlchemyStateRepository) -> None:
        self._repository = repository
        self.writes: list[list[str]] = []

    async def read(self, keys):
        return await self._repository.read(keys)

    async def write(self, changes):
        self.writes.append(sorted(changes))
        return await self._repository.write(changes)

    async def delete(self, keys):
        await self._repository.delete(keys)


async def test_a_turn_writes_what_it_changed_once_and_leaves_the_rest_alone(
    database_url, journey_services
):
    # The change check compares each state with the text it was read as (issue 9): the
    # conversation's dialog moved on, the user's profile did not.
    engine = db.create_engine(database_url)
    try:
        repository = _CountingRepository(SqlAlchemyStateRepository(engine))
        chat = Chat(SqlStorage(repository), journey_services, locale="en-US")
        await chat.join()
        await chat.say("繁體中文")  # the user's language, in user state
        language = repository.writes[-1]
        repository.writes.clear()

        replies = await chat.say("8")  # an answer to the menu: the dialog moves on
    finally:
        await engine.dispose()

    assert replies[0].text.startswith("我無法在這裡為您轉接專人")
    assert language == ["Channels.test/users/user-1"]
    assert repository.writes == [["Channels.test/conversations/conversation-1"]]


async def test_two_bot_instances_on_one_database_never_silently_lose_an_update(
    database_url, journey_services
):
    engines = [db.create_engine(database_url), db.create_engine(database_url)]
    try:
        first = Chat(
            SqlStorage(SqlAlchemyStateRepository(engines[0])), journey_services, locale="en-US"
        )
        second = Chat(
            SqlStorage(SqlAlchemyStateRepository(engines[1])), journey_services, locale="en-US"
        )
        await first.join()

        results = await asyncio.gather(first.say("8"), second.say("8"))
    finally:
        for engine in engines:
            await engine.dispose()

    # Each turn either answered and saved, or its save lost the race and the user was told to
    # send again (its last reply): never an answer whose state was silently dropped.
    outcomes = []
    for replies in results:
        texts = [reply.text for reply in replies]
        if texts[-1].startswith("Your message crossed with another one"):
            outcomes.append("told to send again")
        else:
            assert any("I can't bring a person in here" in text for text in texts)
            outcomes.append("answered")
    assert "answered" in outcomes
