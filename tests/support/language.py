"""The catalog-only language mode: no words of another language in a chat, nor words from nowhere.

With ``services.i18n.mark_catalogs()`` on, every text a catalog gives (and every catalog name
given in a known language) arrives wrapped in invisible marks that name its language; the
values filled into a message's placeholders arrive unmarked. ``check`` reads what the bot sent
someone who reads ``locale``: every marked run with letters must be of ``locale``, and the
letters outside marked runs must be known data (the demo organizations and directory, what the
test typed or submitted, e-mail addresses, URLs, ids, time zones, currency codes). A reply
that breaks either rule fails the test with the offending text (``LanguageLeak``); then
``strip`` takes the marks out, so the tests' own assertions read the text as a user would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Iterator
from functools import cache, lru_cache
from typing import Any

from msrest.serialization import Model

from services.demo_data import DEMO_ORGANIZATIONS
from services.i18n import MARKS, Locale, normalize_locale
from services.identity import DEMO_DIRECTORY

__all__ = ["LanguageLeak", "check", "check_json", "demo_words", "known_words", "strip"]

_OPENING = {opening: locale for locale, (opening, _closing) in MARKS.items()}
_CLOSING = {closing: locale for locale, (_opening, closing) in MARKS.items()}
_ALL_MARKS = re.compile("[" + "".join(_OPENING) + "".join(_CLOSING) + "]")

# Data that is the same in every language: it may stand outside the catalogs' words.
_WHOLE = re.compile(
    r"[\w.+*-]+@[\w-]+(?:\.[\w-]+)+"  # an e-mail address (or a masked one: m***@contoso.example)
    r"|https?://\S+"  # a URL
    r"|\b(?:[A-Z][A-Za-z_]+/)+[A-Z][A-Za-z_+-]+\b"  # a time zone: Asia/Taipei
)
_DATA = re.compile(
    r"\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b"  # a domain name
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"  # a tenant's id
    r"|\b[A-Z]{2,5}-[A-Z0-9][A-Z0-9-]*\b"  # an id: a request, an order, an application, a version
    r"|\b[A-Z]{3}(?= [\d.,]+)"  # a currency code before its amount
    r"|\bUTC\b"
)

# Keys of a card or an activity whose strings a person reads.
_SHOWN = frozenset({
    "text", "title", "subtitle", "label", "placeholder", "altText", "fallbackText",
    "errorMessage", "displayText", "speak", "summary",
})  # fmt: skip


class LanguageLeak(AssertionError):
    """A reply carried words of another language, or words that came from no catalog."""


def strip(text: str) -> str:
    """``text`` without the test mode's marks."""
    return _ALL_MARKS.sub("", text)


def _runs(text: str) -> Iterator[tuple[Locale | None, str]]:
    """The runs of ``text``: each with the language of its innermost mark (None: unmarked)."""
    stack: list[Locale] = []
    run: list[str] = []
    for char in text:
        if char in _OPENING or char in _CLOSING:
            if run:
                yield (stack[-1] if stack else None), "".join(run)
                run = []
            if char in _OPENING:
                stack.append(_OPENING[char])
            elif stack:
                stack.pop()
            continue
        run.append(char)
    if run:
        yield (stack[-1] if stack else None), "".join(run)


def _has_letters(text: str) -> bool:
    return any(char.isalpha() for char in text)


@lru_cache(maxsize=64)  # a chat's known texts repeat turn after turn
def _known_pattern(known: frozenset[str]) -> re.Pattern[str] | None:
    """Any of ``known``, longest first, not inside a longer Latin word."""
    words = sorted((word for word in known if _has_letters(word)), key=len, reverse=True)
    if not words:
        return None
    either = "|".join(re.escape(word) for word in words)
    return re.compile(f"(?<![A-Za-z])(?:{either})(?![A-Za-z])")


def _unknown(run: str, known: frozenset[str]) -> str:
    """What is left of an unmarked run once the known data is taken out of it."""
    # Addresses and time zones first (they hold known names: a domain, a city), then whole
    # known texts (a quoted message has ids and amounts of its own), then any data.
    run = _WHOLE.sub(" ", run)
    if (pattern := _known_pattern(known)) is not None:
        run = pattern.sub(" ", run)
    return _DATA.sub(" ", run)


def problems(text: str, readers: Collection[Locale], known: Iterable[str]) -> list[str]:
    """What is wrong with ``text`` read in ``readers``' languages (nothing: an empty list)."""
    found = []
    known = frozenset(known)
    for language, run in _runs(text):
        if language is None:
            left = _unknown(run, known)
            if _has_letters(left):
                found.append(f"{left.strip()!r} comes from no catalog")
        elif language not in readers and _has_letters(run):
            found.append(f"{run.strip()!r} is {language.value}")
    return found


# Whom a text is for: one language, or several (a team channel's greeting says it in each).
Readers = Locale | str | Collection[Locale | str]


def _readers(locale: Readers) -> frozenset[Locale]:
    tags = [locale] if isinstance(locale, str) else list(locale)
    return frozenset(normalize_locale(str(tag)) or Locale.EN_US for tag in tags)


def check(text: str, locale: Readers, known: Iterable[str] = ()) -> str:
    """``text`` without its marks, once it is all in ``locale`` (else ``LanguageLeak``)."""
    readers = _readers(locale)
    if found := problems(text, readers, (*demo_words(), *known)):
        reads = " or ".join(sorted(reader.value for reader in readers))
        raise LanguageLeak(
            f"a reply to someone who reads {reads} says: {strip(text)!r}\n  " + "\n  ".join(found)
        )
    return strip(text)


def check_json(
    item: Any, locale: Readers, known: Iterable[str] = (), *, checked: bool = True
) -> Any:
    """``item`` (an activity or a card: JSON, or the SDK's models) checked, and unmarked.

    The strings a person reads are checked (``check``); the others (ids, a button's data) only
    lose their marks (all of them, unless ``checked``). Dicts and lists are changed in place, and
    so are the SDK's models (an ``Activity``, a sign-in card); the unmarked item is returned.
    """
    known = tuple(known)

    def walk(value: Any, shown: bool, within: str = "") -> Any:
        if isinstance(value, str):
            return check(value, locale, known) if shown else strip(value)
        if isinstance(value, list):
            value[:] = [walk(element, shown, within) for element in value]
            return value
        if isinstance(value, dict):
            fields = {key: key for key in value}
        elif isinstance(value, Model):  # the attributes by their JSON names
            fields = {
                spec["key"].split(".")[0]: name for name, spec in value._attribute_map.items()
            }
        else:
            return value
        # A fact's value is read; so is a text input's value (what the form shows filled in).
        reads_value = within == "facts" or _get(value, fields.get("type", "")) == "Input.Text"
        for key, name in fields.items():
            reads = checked and (key in _SHOWN or (key == "value" and reads_value))
            _set(value, name, walk(_get(value, name), reads, key))
        return value

    return walk(item, False)


def _get(item: Any, name: str) -> Any:
    if not name:
        return None
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def _set(item: Any, name: str, value: Any) -> None:
    if isinstance(item, dict):
        item[name] = value
    else:
        setattr(item, name, value)


_SHOWN_OF_ORGANIZATION = (
    "id", "legal_name", "address_line1", "city", "region", "postal_code", "country",
)  # fmt: skip


@cache
def demo_words() -> tuple[str, ...]:
    """The demo organizations' and directory's values: data, in whatever language."""
    directory = json.loads(DEMO_DIRECTORY.read_text(encoding="utf-8"))
    organizations = json.loads(DEMO_ORGANIZATIONS.read_text(encoding="utf-8"))["organizations"]
    words: set[str] = set()
    for tenant in directory["tenants"]:
        words |= {tenant["name"], *tenant["verified_domains"]}
    for user in directory["users"]:
        words |= {user["id"], user["display_name"], *user["display_name"].split()}
    for organization in organizations:
        words |= {organization[key] for key in _SHOWN_OF_ORGANIZATION}
    return tuple(word for word in words if _has_letters(word))


def known_words(value: Any) -> set[str]:
    """Every string in ``value`` (what a test typed or submitted): data, not the bot's words."""
    if isinstance(value, str):
        return {value.strip()} if value.strip() else set()
    if isinstance(value, dict):
        return set().union(*(known_words(element) for element in value.values()))
    if isinstance(value, list | tuple):
        return set().union(*(known_words(element) for element in value))
    return set()
