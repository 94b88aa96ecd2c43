"""On PostgreSQL the bot keeps its connections: bursts of turns do not open new ones."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
from sqlalchemy import event
from sqlalchemy.pool import Pool

from bench.driver import USERS, Conversation, activity
from services import db
from services.clock import SystemClock
from services.demo_data import load_demo
from services.unit_of_work import UnitOfWorkFactory
from tests.conftest import make_settings

IN_FLIGHT = 16  # the benchmark's connections


async def _opened_by_bursts(serve_app: Any, postgres_url: str, pool_size: int) -> list[int]:
    """Connections opened during each burst of a second pass over the script."""
    engine = db.create_engine(postgres_url)
    await load_demo(UnitOfWorkFactory(engine), SystemClock())
    await engine.dispose()
    base_url = await serve_app(make_settings(postgres_url, database_pool_size=pool_size))
    conversations = [
        Conversation(f"a:{uuid.uuid4().hex}", USERS[n % len(USERS)]) for n in range(IN_FLIGHT)
    ]
    opened: list[int] = []

    def count(*_: object) -> None:
        opened.append(1)

    async def turn(session: aiohttp.ClientSession, conversation: Conversation) -> None:
        async with session.post(f"{base_url}/api/messages", json=activity(conversation)) as reply:
            assert reply.status == 200, await reply.text()
            assert (await reply.json())["activities"]
        conversation.turns += 1

    event.listen(Pool, "connect", count)
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(5):  # the install, then help, status, menu and the status by number
                await asyncio.gather(*(turn(session, c) for c in conversations))
            per_burst = []
            for _ in range(4):
                before = len(opened)
                await asyncio.gather(*(turn(session, c) for c in conversations))
                per_burst.append(len(opened) - before)
    finally:
        event.remove(Pool, "connect", count)
    return per_burst


async def test_bursts_of_turns_reuse_the_connections_the_pool_keeps(serve_app, postgres_url):
    assert await _opened_by_bursts(serve_app, postgres_url, db.POOL_SIZE) == [0, 0, 0, 0]
