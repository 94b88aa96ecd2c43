"""The main dialog, turn by turn, in both languages (botbuilder's TestAdapter)."""

from __future__ import annotations

import pytest
from botbuilder.core import MemoryStorage

from tests.support.chat import Chat

MENU_EN = [
    "Create the Partner Center account",
    "Renew or upgrade the membership",
    "Verify the primary contact",
    "Accept the partner agreement",
    "Check the admin agent role",
    "Buy and activate benefits",
    "Membership status",
    "Talk to a person",
    "Help",
]
MENU_ZH = [
    "建立合作夥伴中心帳戶",
    "續約或升級會員資格",
    "驗證主要連絡人",
    "接受合作夥伴合約",
    "檢查系統管理代理人角色",
    "購買及啟用權益",
    "會員狀態",
    "與真人客服對話",
    "說明",
]


@pytest.fixture
def storage() -> MemoryStorage:
    return MemoryStorage()


async def test_a_new_user_is_welcomed_and_offered_every_journey_in_english(
    journey_services, storage
):
    replies = await Chat(storage, journey_services, locale="en-us").join()

    assert replies[0].text.startswith("Hello! I'm the Microsoft Partner Network membership")
    assert replies[1].text.startswith("What would you like to do?")
    assert replies[1].buttons == MENU_EN


async def test_a_teams_user_with_zh_tw_locale_is_welcomed_in_traditional_chinese(
    journey_services, storage
):
    replies = await Chat(storage, journey_services, locale="zh-tw").join()

    assert replies[0].text.startswith("您好！我是 Microsoft 合作夥伴網路的會員小幫手")
    assert replies[1].buttons == MENU_ZH


async def test_an_unsupported_locale_falls_back_to_english(journey_services, storage):
    replies = await Chat(storage, journey_services, locale="fr-FR").join()

    assert replies[0].text.startswith("Hello!")


@pytest.mark.parametrize(
    ("locale", "choice", "expected"),
    [
        ("en-US", "8", "I can't bring a person in here"),
        ("en-US", "Talk to a person", "I can't bring a person in here"),
        ("en-US", "I need to talk to a persn", "I can't bring a person in here"),
        ("zh-TW", "與真人客服對話", "我無法在這裡為您轉接專人"),
        ("zh-TW", "我想找真人客服", "我無法在這裡為您轉接專人"),
        ("zh-TW", "８", "我無法在這裡為您轉接專人"),
    ],
)
async def test_asking_for_a_person_without_a_help_desk_says_where_to_get_help_then_the_menu(
    journey_services, storage, locale, choice, expected
):
    chat = Chat(storage, journey_services, locale=locale)
    await chat.join()

    replies = await chat.say(choice)

    assert replies[0].text.startswith(expected)
    assert replies[-1].buttons == (MENU_EN if locale == "en-US" else MENU_ZH)


async def test_an_unrecognized_answer_is_re_prompted_with_what_was_wrong(journey_services, storage):
    chat = Chat(storage, journey_services, locale="en-US")
    await chat.join()

    replies = await chat.say("purple elephant")

    assert [r.text for r in replies] == [
        "Sorry, I didn't catch that. Pick one of the options below, or type its number (1 to 9)."
    ]
    assert replies[0].buttons == MENU_EN
    # Nothing was lost: the menu still takes an answer.
    assert (await chat.say("8"))[0].text.startswith("I can't bring a person in here")


async def test_an_unrecognized_answer_in_chinese_is_re_prompted_in_chinese(
    journey_services, storage
):
    chat = Chat(storage, journey_services, locale="zh-TW")
    await chat.join()

    replies = await chat.say("隨便")

    assert replies[0].text.startswith("抱歉，我不太明白。")


async def test_help_answers_then_asks_the_pending_question_again(journey_services, storage):
    chat = Chat(storage, journey_services, locale="en-US")
    await chat.join()

    replies = await chat.say("help")

    assert "At any step you can type" in replies[0].text
    assert replies[1].text.startswith("What would you like to do?")


async def test_help_in_chinese_is_understood_from_a_chinese_keyword(journey_services, storage):
    chat = Chat(storage, journey_services, locale="zh-TW")
    await chat.join()

    replies = await chat.say("說明")

    assert "在任何步驟中" in replies[0].text


async def test_cancel_stops_and_goes_back_to_the_menu_keeping_saved_progress(
    journey_services, storage
):
    chat = Chat(storage, journey_services, locale="zh-TW")
    await chat.join()

    replies = await chat.say("取消")

    assert replies[0].text == "好的，已經停止。您已儲存的內容都會保留。"
    assert replies[1].buttons == MENU_ZH


async def test_start_over_welcomes_again(journey_services, storage):
    chat = Chat(storage, journey_services, locale="en-US")
    await chat.join()
    await chat.say("nonsense")

    replies = await chat.say("start over")

    assert replies[0].text.startswith("Hello!")


async def test_language_offers_both_languages(journey_services, storage):
    chat = Chat(storage, journey_services, locale="en-US")
    await chat.join()

    replies = await chat.say("language")

    assert replies[0].text == "Which language would you like me to use?"
    assert replies[0].buttons == ["English", "繁體中文"]


async def test_switching_language_re_asks_the_pending_question_in_the_new_language(
    journey_services, storage
):
    chat = Chat(storage, journey_services, locale="en-US")
    await chat.join()
    await chat.say("language")

    replies = await chat.say("繁體中文")

    assert replies[0].text == "好的，從現在起我會用繁體中文和您對話。"
    assert replies[1].text.startswith("您想做什麼呢？")
    assert replies[1].buttons == MENU_ZH


async def test_the_chosen_language_is_remembered_over_what_the_client_sends(
    journey_services, storage
):
    chat = Chat(storage, journey_services, locale="en-US")
    await chat.join()
    await chat.say("中文")

    # A new conversation of the same user; the client still says en-US.
    later = Chat(storage, journey_services, locale="en-US", conversation_id="conversation-2")
    replies = await later.join()

    assert replies[0].text.startswith("您好！")


async def test_a_button_drawn_before_a_language_switch_still_works(journey_services, storage):
    chat = Chat(storage, journey_services, locale="en-US")
    await chat.join()
    await chat.say("繁體中文")

    replies = await chat.click("Talk to a person")  # on the English menu card

    assert replies[0].text.startswith("我無法在這裡為您轉接專人")


async def test_a_label_typed_in_the_language_before_a_switch_still_works(journey_services, storage):
    chat = Chat(storage, journey_services, locale="en-US")
    await chat.join()
    await chat.say("繁體中文")

    replies = await chat.say("Talk to a person")

    assert replies[0].text.startswith("我無法在這裡為您轉接專人")


@pytest.mark.parametrize(
    ("locale", "button", "expected"),
    [
        ("en-US", "Talk to a person", "I can't bring a person in here"),
        ("zh-TW", "與真人客服對話", "我無法在這裡為您轉接專人"),
    ],
)
async def test_a_menu_button_starts_its_journey_and_comes_back_to_the_menu(
    journey_services, storage, locale, button, expected
):
    chat = Chat(storage, journey_services, locale=locale)
    await chat.join()

    replies = await chat.click(button)

    assert replies[0].text.startswith(expected)
    assert replies[-1].buttons == (MENU_EN if locale == "en-US" else MENU_ZH)


async def test_the_menus_help_button_answers_and_offers_the_menu_again(journey_services, storage):
    chat = Chat(storage, journey_services, locale="en-US")
    await chat.join()

    replies = await chat.click("Help")

    assert "At any step you can type" in replies[0].text
    assert replies[-1].buttons == MENU_EN


async def test_the_language_buttons_switch_the_language(journey_services, storage):
    chat = Chat(storage, journey_services, locale="en-US")
    await chat.join()
    await chat.say("language")

    replies = await chat.click("繁體中文")

    assert replies[0].text == "好的，從現在起我會用繁體中文和您對話。"
    assert replies[1].buttons == MENU_ZH


async def test_an_action_the_menu_does_not_know_re_asks_it(journey_services, storage):
    chat = Chat(storage, journey_services, locale="en-US")
    await chat.join()

    replies = await chat.submit({"action": "no.such.button"}, text="Membership status")

    assert replies[0].text.startswith("Sorry, I didn't catch that.")
    assert replies[0].buttons == MENU_EN


async def test_a_first_message_from_a_button_of_an_older_card_starts_its_journey(
    journey_services, storage
):
    # (The contact-confirmed notice can be clicked in a conversation with no dialog running.)
    chat = Chat(storage, journey_services, locale="en-US")

    replies = await chat.submit({"action": "human"})

    assert replies[0].text.startswith("I can't bring a person in here")


async def test_an_error_in_a_turn_apologises_once_in_the_users_language_and_keeps_progress(
    journey_services, storage, monkeypatch
):
    chat = Chat(storage, journey_services, locale="zh-TW")
    await chat.join()

    async def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    with monkeypatch.context() as patch:
        patch.setattr(chat.bot, "on_message_activity", broken)
        replies = await chat.say("8")
    assert [r.text for r in replies] == [
        "抱歉，我這邊發生了問題。您已儲存的內容都會保留，請再試一次。"
    ]

    # The menu is still waiting for an answer: the failed turn lost nothing.
    assert (await chat.say("8"))[0].text.startswith("我無法在這裡為您轉接專人")


async def test_a_first_message_that_names_a_journey_is_answered_without_the_welcome(
    journey_services, storage
):
    chat = Chat(storage, journey_services, locale="en-US")

    replies = await chat.say("I'd like to talk to a person")

    assert replies[0].text.startswith("I can't bring a person in here")
    assert replies[-1].buttons == MENU_EN


async def test_a_first_message_asking_for_help_gets_help(journey_services, storage):
    replies = await Chat(storage, journey_services, locale="zh-TW").say("說明")

    assert "在任何步驟中" in replies[0].text


async def test_a_first_message_naming_a_language_sets_it_before_the_welcome(
    journey_services, storage
):
    replies = await Chat(storage, journey_services, locale="en-US").say("繁體中文")

    assert replies[0].text.startswith("您好！")


async def test_a_first_message_that_says_nothing_in_particular_gets_the_welcome(
    journey_services, storage
):
    replies = await Chat(storage, journey_services, locale="en-US").say("hi there")

    assert replies[0].text.startswith("Hello!")
    assert replies[1].buttons == MENU_EN


@pytest.mark.parametrize(
    ("locale", "words", "menu"),
    [("en-US", ("purple", "elephant"), MENU_EN), ("zh-TW", ("紫色", "大象"), MENU_ZH)],
)
async def test_two_misunderstood_answers_at_the_menu_show_one_talk_to_a_person_button(
    journey_services, storage, locale, words, menu
):
    chat = Chat(storage, journey_services, locale=locale)
    await chat.join()

    await chat.say(words[0])
    second = await chat.say(words[1])

    assert second[-1].buttons == menu  # the menu's own "Talk to a person", once
    person = next(a for a in second[-1].actions if a["title"] == menu[7])
    assert person["data"]["reason"] == "validation"  # it says why a person was offered


@pytest.mark.parametrize(
    ("locale", "words", "answers", "menu"),
    [
        ("en-US", ("hi", "Thanks!"), ("Hello! Here is where we are:",
                                      "You're welcome! Here is where we are:"), MENU_EN),
        ("zh-TW", ("哈囉", "感謝"), ("您好！我們剛才進行到這裡：",
                                     "不客氣！我們剛才進行到這裡："), MENU_ZH),
    ],
)  # fmt: skip
async def test_greetings_and_thanks_are_answered_in_kind_and_the_menu_comes_again(
    journey_services, storage, locale, words, answers, menu
):
    chat = Chat(storage, journey_services, locale=locale)
    await chat.join()

    greeted = await chat.say(words[0])
    thanked = await chat.say(words[1])

    for replies, answer in zip((greeted, thanked), answers, strict=True):
        assert replies[0].text == answer
        assert replies[-1].buttons == menu and "Talk to a person" not in replies[-1].text
