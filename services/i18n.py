"""Message catalogs: every user-facing string, in en-US and zh-TW.

Source strings are English and written in the code as ``t.gettext("...")`` (or marked with
``N_`` where they are defined apart from their use); the Traditional Chinese translations
live in a standard gettext catalog, ``services/locales/zh_TW/LC_MESSAGES/messages.po``, read
through Babel. ``make messages`` re-extracts the strings and updates the catalog; a test fails
when a string has no translation or a translation loses a ``{placeholder}``.

Test mode (``mark_catalogs``, off unless a test turns it on): every piece of text a
translator returns, and every text given in a known language (``in_language``: a catalog's
names), comes wrapped in two invisible private-use characters that name its language
(``MARKS``). Only the words of a message are wrapped, not the values filled into its
placeholders, so a test can tell the chat's own catalog from another language's and from data
(``tests/support/language.py`` checks every reply and strips the marks).
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path
from string import Formatter
from typing import Any

from babel.messages.pofile import read_po

__all__ = [
    "MARKS",
    "N_",
    "Locale",
    "Translator",
    "catalog_path",
    "in_language",
    "mark_catalogs",
    "marking",
    "normalize_locale",
    "translator",
    "unmarked",
]

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"


class Locale(StrEnum):
    """The languages the bot speaks, as BCP 47 tags."""

    EN_US = "en-US"
    ZH_TW = "zh-TW"

    @property
    def gettext_name(self) -> str:
        """Name of the catalog folder (``zh_TW``)."""
        return self.value.replace("-", "_")


DEFAULT_LOCALE = Locale.EN_US

_TRADITIONAL_CHINESE = ("zh-tw", "zh-hant", "zh-hk", "zh-mo")


def normalize_locale(raw: str | None) -> Locale | None:
    """Map a client's locale tag (Teams sends ``zh-tw``, ``en-us``) to one we speak, if any.

    Any Traditional Chinese tag maps to zh-TW, any English one to en-US; others give None so
    the caller can fall back.
    """
    if not raw:
        return None
    tag = raw.strip().replace("_", "-").lower()
    if tag.startswith(_TRADITIONAL_CHINESE):
        return Locale.ZH_TW
    if tag == "en" or tag.startswith("en-"):
        return Locale.EN_US
    return None


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it yet."""
    return message


def catalog_path(locale: Locale) -> Path:
    """Where the catalog of ``locale`` lives."""
    return LOCALES_DIR / locale.gettext_name / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _messages(locale: Locale) -> dict[str, str]:
    path = catalog_path(locale)
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale.gettext_name)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }


# Test mode: the characters that open and close a text of each language (Unicode's private
# use area: never in a catalog, never shown).
MARKS: dict[Locale, tuple[str, str]] = {
    Locale.EN_US: ("\ue000", "\ue001"),
    Locale.ZH_TW: ("\ue002", "\ue003"),
}
_marking = False


def mark_catalogs(on: bool = True) -> None:
    """Turn the test mode on (or off): every catalog text comes marked with its language."""
    global _marking
    _marking = on


def marking() -> bool:
    """Whether the test mode is on."""
    return _marking


_UNMARK = {ord(mark): None for pair in MARKS.values() for mark in pair}


def unmarked(text: str) -> str:
    """``text`` as a person reads it, without the test mode's marks (what is kept: a transcript)."""
    return text.translate(_UNMARK) if _marking else text


def in_language(text: str, locale: Locale) -> str:
    """``text``, known to be in ``locale`` (a catalog's name): marked so in test mode."""
    if not _marking or not text:
        return text
    opening, closing = MARKS[locale]
    return f"{opening}{text}{closing}"


def _marked(template: str, locale: Locale) -> str:
    """``template`` with each run of its own words marked, its ``{placeholders}`` left out."""
    opening, closing = MARKS[locale]
    parts = []
    for literal, name, spec, conversion in Formatter().parse(template):
        if literal:
            escaped = literal.replace("{", "{{").replace("}", "}}")
            parts.append(f"{opening}{escaped}{closing}")
        if name is not None:
            parts.append(
                "{" + name + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "") + "}"
            )  # fmt: skip
    return "".join(parts)


class Translator:
    """Translate English source strings into one locale."""

    def __init__(self, locale: Locale) -> None:
        self.locale = locale
        self._messages = _messages(locale)

    def gettext(self, message: str, /, **values: Any) -> str:
        """Return ``message`` in this locale, with ``{name}`` placeholders filled from values."""
        text = self._messages.get(message, message)
        if _marking:
            # A message the catalog lacks is said in English, the source: marked so.
            source = self.locale if message in self._messages else DEFAULT_LOCALE
            if values:
                return _marked(text, source).format(**values)
            return in_language(text, source)
        return text.format(**values) if values else text


@cache
def translator(locale: Locale) -> Translator:
    """The shared translator of ``locale``."""
    return Translator(locale)
