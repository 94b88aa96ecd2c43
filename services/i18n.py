"""Message catalogs: every user-facing string, in en-US and zh-TW.

Source strings are English and written in the code as ``t.gettext("...")`` (or marked with
``N_`` where they are defined apart from their use); the Traditional Chinese translations
live in a standard gettext catalog, ``services/locales/zh_TW/LC_MESSAGES/messages.po``, read
through Babel. ``make messages`` re-extracts the strings and updates the catalog; a test fails
when a string has no translation or a translation loses a ``{placeholder}``.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

__all__ = ["N_", "Locale", "Translator", "catalog_path", "normalize_locale", "translator"]

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


class Translator:
    """Translate English source strings into one locale."""

    def __init__(self, locale: Locale) -> None:
        self.locale = locale
        self._messages = _messages(locale)

    def gettext(self, message: str, /, **values: Any) -> str:
        """Return ``message`` in this locale, with ``{name}`` placeholders filled from values."""
        text = self._messages.get(message, message)
        return text.format(**values) if values else text


@cache
def translator(locale: Locale) -> Translator:
    """The shared translator of ``locale``."""
    return Translator(locale)
