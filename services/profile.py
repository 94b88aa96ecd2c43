"""The legal business profile and primary contact: what the form collects, validated.

``parse_profile`` turns the form's raw values into a ``LegalProfile`` or a map of field names
to error codes (``ProfileErrors``); the chat turns codes into words in the user's language.
Phone numbers are stored in E.164; the country is an ISO 3166-1 alpha-2 code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import phonenumbers
from babel import Locale as BabelLocale
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict

from services.i18n import Locale

__all__ = [
    "ADDRESS_FIELDS",
    "COUNTRY_LOCALES",
    "FIELDS",
    "ISO_3166_1",
    "FieldError",
    "LegalProfile",
    "ProfileErrors",
    "countries",
    "form_fields",
    "parse_profile",
    "person_name",
]


class FieldError(StrEnum):
    """Why a field was refused."""

    REQUIRED = "required"
    TOO_LONG = "too_long"
    EMAIL = "email"
    PHONE = "phone"
    COUNTRY = "country"


# Field name -> (required, longest length), in the form's order.
FIELDS: dict[str, tuple[bool, int]] = {
    "legal_name": (True, 200),
    "address_line1": (True, 200),
    "address_line2": (False, 200),
    "city": (True, 100),
    "region": (False, 100),
    "postal_code": (False, 20),
    "country": (True, 2),
    "contact_first_name": (True, 100),
    "contact_last_name": (True, 100),
    "contact_email": (True, 254),
    "contact_phone": (True, 40),
}
# Languages whose forms ask the family name before the given name.
_FAMILY_NAME_FIRST = frozenset({Locale.ZH_TW})
# Han, kana and Hangul: names written in them put the family name first, with no space.
_CJK = re.compile(
    "[\u1100-\u11ff\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003ffff]"
)
# Changing any of these starts the profile's review again.
ADDRESS_FIELDS = ("legal_name", "address_line1", "address_line2", "city", "region",
                  "postal_code", "country")  # fmt: skip

ProfileErrors = dict[str, FieldError]


class LegalProfile(BaseModel):
    """A validated legal business profile with its primary contact."""

    model_config = ConfigDict(frozen=True)

    legal_name: str
    address_line1: str
    address_line2: str = ""
    city: str
    region: str = ""
    postal_code: str = ""
    country: str
    contact_first_name: str
    contact_last_name: str
    contact_email: str
    contact_phone: str  # E.164

    @property
    def email_domain(self) -> str:
        """The primary contact's email domain."""
        return self.contact_email.rpartition("@")[2].lower()


def form_fields(locale: Locale) -> list[str]:
    """The profile's fields in the order a form in ``locale`` asks them (family name first
    where names are written so)."""
    fields = list(FIELDS)
    if locale in _FAMILY_NAME_FIRST:
        given, family = fields.index("contact_first_name"), fields.index("contact_last_name")
        fields[given], fields[family] = fields[family], fields[given]
    return fields


def person_name(given: str, family: str) -> str:
    """A person's name as it is written, whatever the language around it (CLDR's rule).

    A name in Chinese, Japanese or Korean characters puts the family name first, with no space
    between two such names ("林美玲"); any other keeps the given name first ("Mei Lin"), in a
    Chinese sentence too.
    """
    given, family = given.strip(), family.strip()
    if not (_CJK.search(given) or _CJK.search(family)):
        return " ".join(part for part in (given, family) if part)
    written = _CJK.search(given[:1] or "x") and _CJK.search(family[-1:] or "x")
    return (family + given) if written else " ".join(p for p in (family, given) if p)


# ISO 3166-1 alpha-2: the 249 officially assigned codes. CLDR (Babel) also names pseudo-regions
# (XA, XB), user-assigned and reserved codes (XK, AC, CP, DG, EA, IC, TA) and groupings (EU,
# UN): none of those is a country or region one can register in.
ISO_3166_1 = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO
    DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU
    GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW
    KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU
    MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
    PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA
    ZM ZW""".split()
)


COUNTRY_LOCALES = ("en", "zh_Hant_TW")  # the Babel locales the form is shown in
_COUNTRY_ORDER = Path(__file__).parent / "countries.json"


@cache
def _order() -> dict[str, list[str]]:
    """Each locale's ISO 3166-1 codes in its collation order (``scripts/sort_countries.py``)."""
    order: dict[str, list[str]] = json.loads(_COUNTRY_ORDER.read_text(encoding="utf-8"))
    return order


@cache
def countries(locale: str = "en") -> dict[str, str]:
    """ISO 3166-1 alpha-2 codes and their names in ``locale`` (Babel's CLDR data), in the order
    of the locale's collation (ICU's, worked out beforehand: zh-Hant by stroke count, English
    ignoring accents)."""
    tag = locale.replace("-", "_")
    names = BabelLocale.parse(tag).territories
    ordered = _order().get(tag) or sorted(ISO_3166_1, key=lambda code: names[code])
    return {code: names[code] for code in ordered}


def parse_profile(raw: Mapping[str, Any]) -> LegalProfile | ProfileErrors:
    """Validate the form's values: a profile, or every field's error at once."""
    values: dict[str, str] = {}
    errors: ProfileErrors = {}
    for field, (required, longest) in FIELDS.items():
        value = str(raw.get(field) or "").strip()
        if required and not value:
            errors[field] = FieldError.REQUIRED
        elif len(value) > longest:
            errors[field] = FieldError.TOO_LONG
        values[field] = value
    country = values["country"].upper()
    values["country"] = country
    if "country" not in errors and country not in countries():
        errors["country"] = FieldError.COUNTRY
    if "contact_email" not in errors:
        try:
            email = validate_email(values["contact_email"], check_deliverability=False)
            values["contact_email"] = email.normalized
        except EmailNotValidError:
            errors["contact_email"] = FieldError.EMAIL
    if "contact_phone" not in errors:
        region = country if "country" not in errors else None
        try:
            number = phonenumbers.parse(values["contact_phone"], region)
            if not phonenumbers.is_valid_number(number):
                raise ValueError(values["contact_phone"])
            values["contact_phone"] = phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164
            )
        except (phonenumbers.NumberParseException, ValueError):
            errors["contact_phone"] = FieldError.PHONE
    return errors if errors else LegalProfile(**values)
