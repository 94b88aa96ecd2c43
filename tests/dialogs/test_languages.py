"""No English in a zh-TW chat, and no Chinese in an English one: what was seen leaking.

Each leak seen in chats, in both languages: who the demo data says did a step.
"""

from __future__ import annotations

import pytest
from botbuilder.core import MemoryStorage

from tests.support.chat import Chat


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


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
