"""Every user-facing string exists in both languages, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from services.i18n import Locale, catalog_path

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"gettext": None, "N_": None}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _source_strings() -> set[str]:
    found: set[str] = set()
    for folder in ("bot", "dialogs", "services"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / folder), method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            if isinstance(message, str) and message:
                found.add(message)
    return found


def _zh_tw() -> dict[str, str]:
    with catalog_path(Locale.ZH_TW).open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id and not m.fuzzy}


def test_every_string_the_bot_can_say_has_a_traditional_chinese_translation():
    missing = sorted(s for s in _source_strings() if not _zh_tw().get(s))

    assert missing == [], "run `make messages` and translate these in the zh_TW catalog"


def test_translations_keep_every_placeholder_of_their_source():
    for source, translation in _zh_tw().items():
        assert set(_PLACEHOLDER.findall(source)) == set(_PLACEHOLDER.findall(translation)), source


def test_the_catalog_has_no_stale_entries_left_from_removed_strings():
    stale = sorted(set(_zh_tw()) - _source_strings())

    assert stale == [], "run `make messages` to drop these"


# The Partner Center page's own words (the zh-TW seed), and what a translation said instead.
SEED_TERMS = {
    "專長認證": ("能力認證",),  # competency
    "Partner Membership Center": ("合作夥伴會員中心",),  # kept in English by the page
    "僅供檢視": ("唯讀",),  # view-only (the page: 僅檢視)
    "連絡": ("聯絡",),  # 主要連絡人, and to contact someone
}


def test_the_chinese_catalog_uses_the_partner_center_pages_terms():
    strays = [
        (instead, text)
        for text in _zh_tw().values()
        for instead_of in SEED_TERMS.values()
        for instead in instead_of
        if instead in text
    ]

    assert strays == []
