"""Free text in either language picks the right menu item or interruption."""

from __future__ import annotations

import pytest

from dialogs.intents import (
    Intent,
    MenuChoices,
    recognize_interruption,
    recognize_menu_choice,
    recognize_score,
)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Help", Intent.HELP), ("幫助", Intent.HELP), ("  HELP! ", Intent.HELP),
        ("cancel", Intent.CANCEL), ("取消", Intent.CANCEL), ("cancle", Intent.CANCEL),
        ("start over", Intent.START_OVER), ("重新開始", Intent.START_OVER),
        ("language", Intent.LANGUAGE), ("語言", Intent.LANGUAGE),
        ("English", Intent.ENGLISH), ("繁體中文", Intent.CHINESE),
    ],
)  # fmt: skip
def test_a_whole_message_naming_an_interruption_is_recognized(text, intent):
    assert recognize_interruption(text) is intent


@pytest.mark.parametrize(
    "text", ["Contoso Help Desk Ltd", "please cancel nothing here", "next", "Next", "", None]
)
def test_text_that_merely_contains_an_interruption_word_is_not_hijacked(text):
    assert recognize_interruption(text) is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("1", Intent.CREATE_ACCOUNT), ("９", Intent.HELP),
        ("I want to renew our membership", Intent.RENEW), ("我要續約", Intent.RENEW),
        ("when does our membership expire?", Intent.STATUS), ("會員何時到期", Intent.STATUS),
        ("talk to a person", Intent.HUMAN), ("真人客服", Intent.HUMAN),
        ("benfits", Intent.BENEFITS), ("購買權益", Intent.BENEFITS),
        ("2", Intent.RENEW_OR_UPGRADE),
        ("upgrade to gold", Intent.UPGRADE), ("升級", Intent.UPGRADE),
        ("我想升級到金級", Intent.UPGRADE),
        ("Upgrade", Intent.UPGRADE),
    ],
)  # fmt: skip
def test_menu_choices_are_recognized_by_number_keyword_or_typo(text, intent):
    assert recognize_menu_choice(text) is intent


@pytest.mark.parametrize("text", ["10", "0", "hello there", "天氣如何"])
def test_text_that_picks_nothing_is_not_forced_onto_a_menu_item(text):
    assert recognize_menu_choice(text) is None


def test_a_menu_kept_by_a_dialog_answers_as_the_function_does_every_time():
    labels = {Intent.RENEW: ("Renew membership", "續約會員資格"), Intent.STATUS: ("Status", "狀態")}
    menu = MenuChoices(labels)
    texts = ["1", "renew membership", "續約會員資格", "Renw membership", "status", "stauts",
             "benfits", "hello there", "", None, "10"]  # fmt: skip
    for _ in range(2):  # the second time from what it remembers
        for text in texts:
            assert menu.recognize(text) is recognize_menu_choice(text, labels), text
    assert menu.recognize("Renw membership") is Intent.RENEW


def test_a_long_free_text_answer_is_not_taken_for_an_interruption():
    answer = "Contoso Taiwan Ltd, 7F No. 100 Xinyi Road, Taipei, help desk on the left"

    assert recognize_interruption(answer) is None


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("5", 5), ("５", 5), (" 4 ", 4), ("5 stars", 5), ("1 star", 1), ("4/5", 4),
        ("3 out of 5", 3), ("Five", 5), ("I'd give it 4", 4), ("★★★", 3),
        ("五", 5), ("5分", 5), ("５分", 5), ("五分", 5), ("四顆星", 4), ("給5分", 5),
        ("我給 3 分。", 3), ("兩分", 2),
    ],
)  # fmt: skip
def test_a_rating_is_recognized_however_it_is_typed_in_either_language(text, score):
    assert recognize_score(text) == score


@pytest.mark.parametrize("text", ["0", "6", "10", "55", "5 benefits", "renew", "第五項", "", None])
def test_text_that_is_not_a_1_to_5_rating_is_not_taken_for_one(text):
    assert recognize_score(text) is None
