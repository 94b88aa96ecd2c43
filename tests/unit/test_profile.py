"""Every rule of the legal business profile form, one field at a time and all at once."""

from __future__ import annotations

import pytest

from services.profile import (
    ISO_3166_1,
    FieldError,
    LegalProfile,
    countries,
    parse_profile,
    person_name,
)

GOOD = {
    "legal_name": "Contoso Taiwan Ltd.", "address_line1": "7F, No. 100, Xinyi Rd. Sec. 5",
    "city": "Taipei", "country": "tw", "contact_first_name": "Mei", "contact_last_name": "Lin",
    "contact_email": "Mei.Lin@Contoso.example", "contact_phone": "(02) 2345-6789",
}  # fmt: skip


def test_a_good_profile_is_normalized_email_domain_lowercased_phone_in_e164_country_upper():
    profile = parse_profile(GOOD)

    assert isinstance(profile, LegalProfile)
    assert profile.country == "TW"
    assert profile.contact_email == "Mei.Lin@contoso.example"
    assert profile.contact_phone == "+886223456789"
    assert profile.email_domain == "contoso.example"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("legal_name", "   ", FieldError.REQUIRED),
        ("city", "x" * 101, FieldError.TOO_LONG),
        ("country", "XX", FieldError.COUNTRY),  # (the phone below is international)
        ("contact_email", "mei.lin@", FieldError.EMAIL),
        ("contact_email", "two@@signs.example", FieldError.EMAIL),
        ("contact_phone", "12", FieldError.PHONE),
        ("contact_phone", "+1 202 555", FieldError.PHONE),
    ],
)
def test_each_bad_field_is_named_with_its_reason(field, value, error):
    profile = {**GOOD, "contact_phone": "+886 2 2345 6789", field: value}

    assert parse_profile(profile) == {field: error}


def test_without_a_valid_country_a_local_phone_number_cannot_be_checked_either():
    assert parse_profile({**GOOD, "country": "XX"}) == {
        "country": FieldError.COUNTRY,
        "contact_phone": FieldError.PHONE,
    }


def test_every_bad_field_is_reported_at_once_not_one_per_try():
    errors = parse_profile(
        {
            **GOOD,
            "legal_name": "",
            "contact_email": "x",
            "country": "ZZ",
            "contact_phone": "+886 2 2345 6789",
        }
    )

    assert errors == {
        "legal_name": FieldError.REQUIRED,
        "contact_email": FieldError.EMAIL,
        "country": FieldError.COUNTRY,
    }


def test_a_phone_number_is_read_in_the_chosen_countrys_format():
    hong_kong = parse_profile({**GOOD, "country": "HK", "contact_phone": "2345 6789"})

    assert isinstance(hong_kong, LegalProfile) and hong_kong.contact_phone == "+85223456789"


def test_country_names_exist_in_both_languages():
    assert countries("en")["TW"] == "Taiwan"
    assert countries("zh_Hant_TW")["TW"] == "台灣"


@pytest.mark.parametrize(
    ("given", "family", "written"),
    [
        ("美玲", "林", "林美玲"),  # Chinese: family name first, no space
        ("花子", "山田", "山田花子"),
        ("민준", "김", "김민준"),
        ("Mei", "Lin", "Mei Lin"),  # a name in Latin letters keeps its order, in Chinese text too
        ("David", "Chen", "David Chen"),
        (" Mei ", "", "Mei"),
    ],
)
def test_a_persons_name_is_written_in_the_order_of_its_own_script(given, family, written):
    assert person_name(given, family) == written


def test_only_iso_3166_1_countries_are_offered_and_accepted():
    for locale in ("en", "zh_Hant_TW"):
        assert set(countries(locale)) == ISO_3166_1 and len(ISO_3166_1) == 249
    for pseudo in ("XA", "XB", "XK", "EU", "UN", "ZZ", "AC", "IC", "EA"):
        refused = parse_profile({**GOOD, "country": pseudo})
        assert isinstance(refused, dict) and refused["country"] is FieldError.COUNTRY


def test_countries_come_in_the_order_each_language_sorts_them():
    english = list(countries("en").values())
    chinese = list(countries("zh_Hant_TW").values())

    # Accents do not send a name to the end (as code-point order did).
    assert english[:3] == ["Afghanistan", "Åland Islands", "Albania"]
    assert english.index("Costa Rica") < english.index("Côte d’Ivoire") < english.index("Croatia")
    # Traditional Chinese by stroke count: 土 (3), 中 (4), 日 (4), 美 (9), 澳 (16).
    assert chinese[:2] == ["千里達及托巴哥", "土耳其"]
    order = [chinese.index(name) for name in ("土耳其", "中國", "日本", "美國", "澳洲")]
    assert order == sorted(order)
