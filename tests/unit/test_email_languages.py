"""Every email is all in its reader's language, the sender's name and signature included.

The emails are composed in the catalog-only language mode (``tests/support/language.py``): the
subject, the sender's name and each part's text must be all in the reader's language, or data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from html import unescape

import pytest

from services import i18n
from services.emails import EmailComposer, RenewalReminderEmail, VerificationRequest
from services.i18n import Locale
from services.membership import Step
from tests.conftest import make_settings
from tests.support.language import check

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SENDER = "membership-bot@bot.example.test"
DATA = ("林美玲 Mei Lin", "David Chen", "Contoso Taiwan Ltd.")
NAMES = {
    Locale.EN_US: "Partner membership assistant",
    Locale.ZH_TW: "Microsoft 合作夥伴網路會員小幫手",
}


@pytest.fixture(autouse=True)
def catalog_only_language() -> Iterator[None]:
    i18n.mark_catalogs()
    yield
    i18n.mark_catalogs(False)


def verification(composer: EmailComposer, locale: Locale) -> EmailMessage:
    request = VerificationRequest(
        contact_name=DATA[0], contact_email="mei.lin@contoso.example", organization=DATA[2],
        requested_by=DATA[1], link="https://bot.example.test/verify/contact?token=abc",
        expires_at=NOW + timedelta(hours=72),
    )  # fmt: skip
    return composer.contact_verification(request, locale, now=NOW)


def reminder(composer: EmailComposer, locale: Locale) -> EmailMessage:
    email = RenewalReminderEmail(
        recipient_name=DATA[0], recipient_email="mei.lin@contoso.example", organization=DATA[2],
        expiry_date=date(2026, 12, 14), days_left=20, legacy=True, view_only=False,
        pending_steps=[Step.LEGAL_PROFILE, Step.AGREEMENT],
    )  # fmt: skip
    return composer.renewal_reminder(email, locale, now=NOW)


def read(message: EmailMessage, locale: Locale) -> tuple[str, str, str]:
    """The sender's name, the plain text and the HTML's text, each checked in ``locale``."""
    name = check(message["From"].addresses[0].display_name, locale)
    check(str(message["Subject"]), locale, DATA)
    plain = check(message.get_body(("plain",)).get_content(), locale, DATA)
    html = message.get_body(("html",)).get_content()
    body = html.split("<body", 1)[1].split(">", 1)[1]
    check(unescape(re.sub(r"<[^>]*>", " ", body)), locale, DATA)
    return name, plain, html


@pytest.mark.parametrize("locale", list(Locale))
@pytest.mark.parametrize("compose", [verification, reminder])
def test_an_email_is_from_and_signed_by_the_assistant_named_in_the_readers_language(
    locale, compose
):
    composer = EmailComposer.from_settings(make_settings("sqlite://", mail_from=SENDER))

    name, plain, html = read(compose(composer, locale), locale)

    assert name == NAMES[locale]
    assert f"\n-- \n{NAMES[locale]}\n" in plain  # the signature
    assert i18n.MARKS[locale][0] + NAMES[locale] in html


def test_the_operator_names_the_sender_in_each_language():
    settings = make_settings(
        "sqlite://", mail_from=SENDER, mail_from_name="Contoso Partner Desk",
        mail_from_name_zh_tw="康托索合作夥伴服務台",
    )  # fmt: skip
    composer = EmailComposer.from_settings(settings)

    english = verification(composer, Locale.EN_US)["From"].addresses[0]
    chinese = verification(composer, Locale.ZH_TW)["From"].addresses[0]

    assert (english.display_name, english.addr_spec) == ("Contoso Partner Desk", SENDER)
    assert (chinese.display_name, chinese.addr_spec) == ("康托索合作夥伴服務台", SENDER)


def test_a_name_of_the_operators_own_is_kept_in_every_language_unless_given_in_it():
    settings = make_settings("sqlite://", mail_from=SENDER, mail_from_name="Contoso Partner Desk")
    composer = EmailComposer.from_settings(settings)

    chinese = verification(composer, Locale.ZH_TW)

    assert chinese["From"].addresses[0].display_name == "Contoso Partner Desk"
    assert "\n-- \nContoso Partner Desk\n" in chinese.get_body(("plain",)).get_content()
