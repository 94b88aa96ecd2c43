"""The catalog-only language mode: what it lets through, what it fails, and that it is invisible."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dialogs.cards import choice_card
from services import i18n
from services.i18n import Locale, translator
from tests.support.chat import card_parts
from tests.support.language import LanguageLeak, check, check_json

EN, ZH = translator(Locale.EN_US), translator(Locale.ZH_TW)


@pytest.fixture(autouse=True)
def marked() -> Iterator[None]:
    i18n.mark_catalogs()
    yield
    i18n.mark_catalogs(False)


def test_a_reply_all_from_the_readers_catalog_passes_and_reads_as_without_the_mode():
    said = ZH.gettext("{agent} (help desk): {text}", agent="Kenji Sato", text="您好")

    assert check(said, Locale.ZH_TW, known={"Kenji Sato", "您好"}) == "Kenji Sato（服務台）：您好"


def test_english_words_in_a_chinese_reply_fail_with_the_words_named():
    said = ZH.gettext("Continue: {step}", step=EN.gettext("Membership status"))

    with pytest.raises(LanguageLeak, match="'Membership status' is en-US"):
        check(said, Locale.ZH_TW)


def test_a_string_the_catalog_lacks_counts_as_english():
    with pytest.raises(LanguageLeak, match="'Nothing like this is in the catalog' is en-US"):
        check(ZH.gettext("Nothing like this is in the catalog"), Locale.ZH_TW)


def test_words_from_no_catalog_fail_unless_they_are_data():
    check("Ana Silva, ana.silva@northwind.example, HD-0042, 2026-11-24 17:00 Asia/Taipei", "en-US")

    with pytest.raises(LanguageLeak, match="'demo data' comes from no catalog"):
        check(EN.gettext("{organization} has already accepted the partner agreement ({by}, "
                         "{when}).", organization="Northwind Traders Inc.", by="demo data",
                         when="2026-11-24"), "en-US")  # fmt: skip


def test_a_card_is_checked_where_a_person_reads_it_and_loses_every_mark():
    card = choice_card(ZH, ZH.gettext("Activate one?"), [])
    card["actions"] = [{"type": "Action.Submit", "title": EN.gettext("Done"),
                        "data": {"action": "activate.done"}}]  # fmt: skip

    with pytest.raises(LanguageLeak, match="'Done' is en-US"):
        check_json(card, Locale.ZH_TW)
    assert card_parts(card)[0] == ["要啟用其中一項嗎？"]  # what it read is left unmarked


def test_without_the_mode_nothing_is_marked():
    i18n.mark_catalogs(False)

    assert ZH.gettext("Done") == "完成"
    assert ZH.gettext("Claimed by {agent}", agent="Kenji") == "由 Kenji 接手"


def test_a_message_for_readers_of_either_language_may_say_it_in_both():
    both = f"{EN.gettext('Help')} / {ZH.gettext('Help')}"

    assert check(both, (Locale.EN_US, Locale.ZH_TW)) == "Help / 說明"
    with pytest.raises(LanguageLeak, match="'說明' is zh-TW"):
        check(both, Locale.EN_US)
