"""In a team channel or a group chat, whatever is written to the bot shows no organization's data.

The journeys are one person's business: there, a message to the bot (typed in either language,
a button from an older card, an interruption) gets a short note in the writer's language and a
button that opens their one-to-one chat with the bot. (Over HTTP, tests/e2e/test_teams_http.py
also has the bot start that chat and answer there.)
"""

from __future__ import annotations

import pytest
from botbuilder.core import MemoryStorage

from tests.support.chat import Chat

NOTE = {
    "en-US": "Mei, I talk about your organization's membership only in a one-to-one chat, where "
    "its details stay between us. Open our chat and ask me there.",
    "zh-TW": "Mei，貴組織的會員資格我只在一對一聊天中討論，相關資料只有您看得到。"
    "請開啟我們的一對一聊天，在那裡問我。",
}
BUTTON = {"en-US": "Chat with me one-to-one", "zh-TW": "與我一對一聊天"}


def shared_chat(services, kind: str, locale: str) -> Chat:
    """Mei Lin (Contoso) in a team channel's thread or a group chat with the bot."""
    chat = Chat(
        MemoryStorage(), services, locale=locale, user_id="mei.lin",
        conversation_id=f"19:{kind}@thread.v2", conversation_type=kind,
    )  # fmt: skip
    chat.user.name = "Mei"
    return chat


@pytest.mark.parametrize("kind", ["channel", "groupChat"])
@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
@pytest.mark.parametrize(
    "typed",
    ["status", "會員狀態", "7", "renew", "Renew or upgrade the membership", "help", "cancel",
     "語言", "talk to a person", ""],
)  # fmt: skip
async def test_whatever_is_typed_there_gets_the_note_and_the_one_to_one_button_only(
    journey_services, kind, locale, typed
):
    chat = shared_chat(journey_services, kind, locale)

    replies = await chat.say(typed)

    [note] = replies
    assert note.text == NOTE[locale]
    assert note.buttons == [BUTTON[locale]]
    assert note.actions[0]["type"] == "Action.OpenUrl"
    assert "teams.microsoft.com/l/chat/0/0?users=28:" in note.actions[0]["url"]


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
async def test_a_button_from_an_older_card_there_opens_no_journey_either(journey_services, locale):
    chat = shared_chat(journey_services, "channel", locale)

    replies = await chat.submit({"action": "status"}, text="Membership status")

    assert [reply.text for reply in replies] == [NOTE[locale]]


async def test_what_is_written_there_leaves_the_users_one_to_one_journey_as_it_was(
    journey_services,
):
    storage = MemoryStorage()
    personal = Chat(storage, journey_services, user_id="ana.silva", conversation_id="a:ana",
                    conversation_type="personal")  # fmt: skip
    group = Chat(storage, journey_services, user_id="ana.silva", conversation_id="19:g@thread.v2",
                 conversation_type="groupChat")  # fmt: skip
    await personal.say("renew")

    there = await group.say("Not now")
    ordered = await personal.click("Place the renewal order")

    assert "membership" in there[0].text and len(there) == 1
    assert "Renewal order ORD-" in "\n".join(str(reply) for reply in ordered)
