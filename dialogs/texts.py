"""The language of a turn, and the user's profile that remembers a chosen language.

The locale is resolved once per turn by the bot (``resolve_locale``) and kept on the turn
context; dialogs ask ``texts(context)`` for a translator in that locale. A language the user
chose ("language" / "語言") wins over what the client sends in ``activity.locale``.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from botbuilder.core import StatePropertyAccessor, TurnContext
from pydantic import BaseModel

from services.i18n import DEFAULT_LOCALE, Locale, Translator, normalize_locale, translator

__all__ = [
    "LOCALE_KEY",
    "UserProfile",
    "format_time",
    "resolve_locale",
    "save_locale",
    "speak_in",
    "texts",
    "time_zone",
    "turn_locale",
]

LOCALE_KEY = "membership_bot.locale"


class UserProfile(BaseModel):
    """What the bot remembers about a user across conversations (stored as a JSON dict)."""

    locale: Locale | None = None


async def load_profile(accessor: StatePropertyAccessor, context: TurnContext) -> UserProfile:
    """Read the user's profile (an empty one for a new user)."""
    return UserProfile.model_validate(await accessor.get(context, dict) or {})


async def resolve_locale(accessor: StatePropertyAccessor, context: TurnContext) -> Locale:
    """Decide this turn's language and keep it on the turn context."""
    profile = await load_profile(accessor, context)
    locale = profile.locale or normalize_locale(context.activity.locale) or DEFAULT_LOCALE
    context.turn_state[LOCALE_KEY] = locale
    return locale


async def save_locale(
    accessor: StatePropertyAccessor, context: TurnContext, locale: Locale
) -> None:
    """Remember ``locale`` as the user's choice and speak it from this turn on."""
    profile = await load_profile(accessor, context)
    profile.locale = locale
    await accessor.set(context, profile.model_dump(mode="json"))
    context.turn_state[LOCALE_KEY] = locale


def speak_in(context: TurnContext, locale: Locale) -> None:
    """Speak ``locale`` for the rest of this turn (the help desk's channel speaks its own)."""
    context.turn_state[LOCALE_KEY] = locale


def turn_locale(context: TurnContext) -> Locale:
    """This turn's language."""
    locale = context.turn_state.get(LOCALE_KEY)
    if isinstance(locale, Locale):
        return locale
    return normalize_locale(context.activity.locale) or DEFAULT_LOCALE


def texts(context: TurnContext) -> Translator:
    """A translator for this turn's language."""
    return translator(turn_locale(context))


def time_zone(context: TurnContext) -> tzinfo:
    """The user's time zone: the client's IANA name (``activity.local_timezone``), else UTC."""
    name = context.activity.local_timezone
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # unknown, or not a zone key at all
        return UTC


def format_time(context: TurnContext, moment: datetime) -> str:
    """``moment`` as ``YYYY-MM-DD HH:MM`` in the user's time zone, with the zone's name."""
    zone = time_zone(context)
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    name = zone.key if isinstance(zone, ZoneInfo) else "UTC"
    return f"{aware.astimezone(zone):%Y-%m-%d %H:%M} {name}"
