"""The contact verification page over HTTP: what the primary contact sees when opening the link.

The page runs in a small aiohttp app on loopback with the real ``EmailContactVerification`` on
a migrated SQLite file with the demo data and a fixed clock; the link comes from the email the
service queued, as the contact would get it. ``Told`` records what the requester is told.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.verify_page import CSRF_COOKIE, add_verify_routes
from services import db
from services.clock import FixedClock
from services.contact_verification import (
    Confirmation,
    EmailContactVerification,
    TokenCheck,
)
from services.demo_data import load_demo
from services.emails import EmailComposer
from services.i18n import Locale
from services.membership import MembershipService
from services.outbox import read_message
from services.tables import EmailOutboxRow
from services.unit_of_work import UnitOfWorkFactory
from tests.conftest import free_port
from tests.integration.test_contact_verification import CONTOSO_TENANT, MEI, PROFILE

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_LINK = re.compile(r"https://bot\.example\.test(/verify/contact\?token=[A-Za-z0-9_-]+)")
SECRETS_OF_THE_RECORD = ("Contoso", "David", "d***@", MEI.name)  # what only a valid link shows
OTHER_CONTACT = {
    "contact_first_name": "Mei", "contact_last_name": "Lin",
    "contact_email": "mei.lin@contoso.example",
}  # fmt: skip
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}


class Told:
    """Records what the requester is told; fails when asked to, as a broken connector would."""

    def __init__(self) -> None:
        self.confirmations: list[Confirmation] = []
        self.fail = False

    async def __call__(self, confirmation: Confirmation) -> None:
        self.confirmations.append(confirmation)
        if self.fail:
            raise ConnectionError("the connector went away (mei.lin@contoso.example)")


class Broken:
    """A verification service whose database is down."""

    async def describe(self, token: str) -> TokenCheck:
        raise ConnectionError(f"database down while reading {token} for david.chen@contoso.example")

    async def confirm(self, token: str) -> Confirmation:
        raise ConnectionError(f"database down while using {token} for david.chen@contoso.example")


@pytest.fixture
async def units(sqlite_url, clock):
    engine = db.create_engine(sqlite_url)
    units = UnitOfWorkFactory(engine)
    await load_demo(units, clock)
    yield units
    await engine.dispose()


@pytest.fixture
def verification(units, clock) -> EmailContactVerification:
    return EmailContactVerification(
        units,
        clock,
        EmailComposer("membership-bot@bot.example.test", "Partner membership assistant"),
        public_base_url="https://bot.example.test/",
        token_ttl=timedelta(hours=72),
    )


@pytest.fixture
def membership(units, clock) -> MembershipService:
    return MembershipService(units, clock)


@pytest.fixture
def told() -> Told:
    return Told()


async def _serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def site(verification, told) -> AsyncIterator[str]:
    """The page on a free loopback port; its base URL."""
    app = web.Application()
    add_verify_routes(app, lambda: verification, told)
    async for url in _serve(app):
        yield url


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def email_link(membership, units, verification, locale=Locale.EN_US) -> str:
    """Register Contoso's profile; return the path of the link in the email sent (with token)."""
    await membership.create_partner_center_account(
        "contoso", CONTOSO_TENANT, MEI, ("contoso.example",)
    )
    await membership.register("contoso", PROFILE, MEI)
    await verification.start("contoso", PROFILE, MEI, locale=locale)
    async with units() as unit:
        data = await unit.session.scalar(
            select(EmailOutboxRow.message).order_by(EmailOutboxRow.id.desc()).limit(1)
        )
    [path] = set(_LINK.findall(read_message(data).get_body(("plain",)).get_content()))
    return path


def token_of(path: str) -> str:
    return urlsplit(path).query.removeprefix("token=")


async def open_link(http, site, path, **headers) -> tuple[int, str, aiohttp.ClientResponse]:
    async with http.get(site + path, headers=headers) as response:
        return response.status, await response.text(), response


async def press_confirm(http, site, body, *, origin=None, **fields) -> tuple[int, str]:
    """Submit the page's form as the browser would (``fields`` override what it holds)."""
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', body))
    form.update(fields)
    headers = {"Origin": origin} if origin else {}
    async with http.post(f"{site}/verify/contact", data=form, headers=headers) as response:
        return response.status, await response.text()


async def test_opening_the_link_shows_what_is_confirmed_and_changes_nothing(
    site, http, membership, units, verification, told
):
    path = await email_link(membership, units, verification)

    status, body, response = await open_link(http, site, path)
    again, _, _ = await open_link(http, site, path)  # a mail scanner, or the contact twice

    assert (status, again) == (200, 200)
    assert "Confirm that you are the primary contact of Contoso Taiwan Ltd." in body
    assert "David Chen" in body and "d***@contoso.example" in body
    assert "david.chen@contoso.example" not in body
    assert f"{MEI.name} asked us to confirm" in body
    assert "2026-11-27 09:00 UTC" in body  # when the link expires
    assert '<form method="post" action="/verify/contact">' in body
    assert '<button type="submit">Confirm</button>' in body
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}={_CSRF.search(body).group(1)};")
    assert {"HttpOnly", "Path=/verify", "SameSite=Strict"} <= {
        part.strip() for part in cookie.split(";")
    }
    assert "Secure" not in cookie  # plain http on loopback
    assert not (await verification.status("contoso")).verified
    assert told.confirmations == []


async def test_pressing_confirm_verifies_the_contact_and_tells_the_requester(
    site, http, membership, units, verification, told
):
    path = await email_link(membership, units, verification)
    _, page, _ = await open_link(http, site, path)

    status, body = await press_confirm(http, site, page, origin=site)

    assert status == 200
    assert "Thank you, confirmed" in body
    assert "Thank you, David Chen" in body
    assert f"{MEI.name} will be told in the chat in Microsoft Teams" in body
    assert "<form" not in body
    assert (await verification.status("contoso")).verified
    [confirmation] = told.confirmations
    assert confirmation.confirmed and confirmation.organization_id == "contoso"
    assert confirmation.requested_by == MEI


async def test_a_browser_that_sends_origin_null_can_still_confirm(
    site, http, membership, units, verification
):
    # Browsers send "Origin: null" for a form POST from a no-referrer page: this one's.
    path = await email_link(membership, units, verification)
    _, page, _ = await open_link(http, site, path)

    status, body = await press_confirm(http, site, page, origin="null")

    assert status == 200 and "Thank you, confirmed" in body
    assert (await verification.status("contoso")).verified


async def test_a_used_link_says_it_is_already_confirmed_and_tells_nobody_again(
    site, http, membership, units, verification, told
):
    path = await email_link(membership, units, verification)
    _, page, _ = await open_link(http, site, path)
    await press_confirm(http, site, page, origin=site)

    status, body, _ = await open_link(http, site, path)
    posted, posted_body = await press_confirm(http, site, page, origin=site)

    assert status == 200 and posted == 409
    for shown in (body, posted_body):
        assert "Already confirmed" in shown
        assert "nothing more to do" in shown
        assert "<form" not in shown
        assert not any(secret in shown for secret in SECRETS_OF_THE_RECORD)
    assert len(told.confirmations) == 1


async def test_an_expired_link_asks_for_a_new_email_and_confirms_nothing(
    site, http, membership, units, verification, told, clock: FixedClock
):
    path = await email_link(membership, units, verification)
    _, page, _ = await open_link(http, site, path)
    clock.at += timedelta(hours=72)

    status, body, response = await open_link(http, site, path)
    posted, posted_body = await press_confirm(http, site, page, origin=site)

    assert (status, posted) == (410, 410)
    for shown in (body, posted_body):
        assert "This link has expired" in shown
        assert "send a new email from the chat" in shown
        assert not any(secret in shown for secret in SECRETS_OF_THE_RECORD)
    assert "Set-Cookie" not in response.headers
    assert not (await verification.status("contoso")).verified
    assert told.confirmations == []


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        pytest.param("tampered", 404, id="tampered"),
        pytest.param("/verify/contact?token=" + "x" * 43, 404, id="never issued"),
        pytest.param("/verify/contact", 400, id="missing"),
        pytest.param("/verify/contact?token=", 400, id="empty"),
        pytest.param("/verify/contact?token=%3Cscript%3Ealert(1)%3C/script%3E", 400, id="garbage"),
        pytest.param("/verify/contact?token=abc", 400, id="too short"),
        pytest.param("both", 400, id="two tokens"),
    ],
)
async def test_a_link_that_is_not_valid_says_so_and_names_no_organization(
    site, http, membership, units, verification, link, expected
):
    path = await email_link(membership, units, verification)
    token = token_of(path)
    if link == "tampered":
        link = path[:-1] + ("A" if path[-1] != "A" else "B")
    elif link == "both":
        link = f"{path}&token={token}"

    status, body, response = await open_link(http, site, link)

    assert status == expected
    assert "This link is not valid" in body
    assert "replaced by a newer one" in body
    assert not any(secret in body for secret in SECRETS_OF_THE_RECORD)
    assert "<script>" not in body and "<form" not in body
    assert "Set-Cookie" not in response.headers
    assert (await verification.describe(token)).state.value == "valid"  # the real link still is


async def test_posting_a_token_that_is_not_valid_confirms_nothing(
    site, http, membership, units, verification, told
):
    path = await email_link(membership, units, verification)
    _, page, _ = await open_link(http, site, path)

    tampered, body = await press_confirm(http, site, page, origin=site, token="x" * 43)
    garbage, _ = await press_confirm(http, site, page, origin=site, token="<b>")
    async with http.post(f"{site}/verify/contact", json={"token": token_of(path)}) as response:
        not_a_form = response.status

    assert (tampered, garbage, not_a_form) == (404, 400, 400)
    assert "This link is not valid" in body
    assert not (await verification.status("contoso")).verified
    assert told.confirmations == []


@pytest.mark.parametrize(
    "forgery",
    ["no cookie", "another csrf value", "no csrf field", "foreign origin", "cross-site fetch"],
)
async def test_a_forged_confirmation_is_refused_and_confirms_nothing(
    site, http, membership, units, verification, told, forgery
):
    path = await email_link(membership, units, verification)
    _, page, _ = await open_link(http, site, path)
    origin, fields, headers = site, {}, {}
    match forgery:
        case "no cookie":
            http.cookie_jar.clear()
        case "another csrf value":
            fields["csrf"] = "A" * 43
        case "no csrf field":
            fields["csrf"] = ""
        case "foreign origin":
            origin = "https://attacker.example"
        case "cross-site fetch":
            headers["Sec-Fetch-Site"] = "cross-site"
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    form.update(fields)

    async with http.post(
        f"{site}/verify/contact", data=form, headers={"Origin": origin, **headers}
    ) as response:
        status, body = response.status, await response.text()

    assert status == 403
    assert "Please open the link again" in body
    assert "Open the link from the email again" in body
    assert not any(secret in body for secret in SECRETS_OF_THE_RECORD)
    assert not (await verification.status("contoso")).verified
    assert told.confirmations == []
    _, page, _ = await open_link(http, site, path)  # reopening the link from the email works
    assert (await press_confirm(http, site, page, origin=site))[0] == 200


async def test_the_origin_check_follows_the_proxys_forwarded_scheme_and_host(
    site, http, membership, units, verification
):
    path = await email_link(membership, units, verification)
    _, page, response = await open_link(
        http, site, path, **{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "bot.example.test"}
    )
    assert "Secure" in response.headers["Set-Cookie"]  # the contact's browser is on https
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "bot.example.test"}

    async with http.post(
        f"{site}/verify/contact", data=form, headers={"Origin": site, **proxied}
    ) as refused:
        assert refused.status == 403  # the loopback origin is not the public one
    async with http.post(
        f"{site}/verify/contact",
        data=form,
        headers={"Origin": "https://bot.example.test", **proxied},
        cookies={CSRF_COOKIE: form["csrf"]},  # the jar keeps a Secure cookie off plain http
    ) as accepted:
        assert accepted.status == 200


async def test_the_page_is_in_chinese_when_asked_or_when_the_email_was(
    site, http, membership, units, verification
):
    path = await email_link(membership, units, verification, locale=Locale.ZH_TW)

    _, emailed, _ = await open_link(http, site, path, **{"Accept-Language": "en-US"})
    _, english, _ = await open_link(http, site, path + "&lang=en-US")
    _, switched, _ = await open_link(http, site, path + "&lang=zh-tw")
    status, thanks = await press_confirm(http, site, switched, origin=site)

    assert '<html lang="zh-TW">' in emailed  # the email's language beats the browser's
    assert "請確認您是 Contoso Taiwan Ltd. 的主要連絡人" in emailed
    assert '<button type="submit">確認</button>' in emailed
    assert "Confirm that you are the primary contact" in english
    assert f'href="/verify/contact?token={token_of(path)}&amp;lang=zh-TW"' in english
    assert 'hreflang="en-US"' in emailed and ">English</a>" in emailed
    assert status == 200 and "謝謝，已確認" in thanks  # the form carried the language


async def test_without_an_asked_language_the_browsers_is_used_for_pages_that_know_none(
    site, http, membership, units, verification, clock
):
    path = await email_link(membership, units, verification, locale=Locale.ZH_TW)
    clock.at += timedelta(hours=80)
    never_issued = "/verify/contact?token=" + "A" * 43

    _, expired, _ = await open_link(http, site, path, **{"Accept-Language": "en-US"})
    _, body, _ = await open_link(
        http, site, never_issued, **{"Accept-Language": "fr-FR, zh-Hant-TW;q=0.8, en;q=0.5"}
    )
    _, missing, _ = await open_link(http, site, "/verify/contact", **{"Accept-Language": "de"})

    assert "此連結已過期" in expired  # the email's language, which the link knows
    assert "此連結無效" in body
    assert "This link is not valid" in missing  # en-US when nothing matches


async def test_every_answer_carries_the_security_headers(
    site, http, membership, units, verification
):
    path = await email_link(membership, units, verification)
    _, page, _ = await open_link(http, site, path)
    answers = []
    for link in (path, "/verify/contact", "/verify/contact?token=" + "x" * 43):
        async with http.get(site + link) as response:
            answers.append((response.status, response.headers, await response.text()))
    for form in (
        {"token": token_of(path), "csrf": "wrong"},
        {"token": token_of(path), "csrf": _CSRF.search(page).group(1)},
    ):
        async with http.post(f"{site}/verify/contact", data=form) as response:
            answers.append((response.status, response.headers, await response.text()))
    async with http.delete(f"{site}/verify/contact") as response:
        answers.append((response.status, response.headers, ""))

    assert [status for status, _, _ in answers] == [200, 400, 404, 403, 200, 405]
    for status, headers, body in answers:
        for name, value in HEADERS.items():
            assert headers[name] == value, (status, name)
        policy = {part.strip() for part in headers["Content-Security-Policy"].split(";")}
        assert {"default-src 'none'", "form-action 'self'", "frame-ancestors 'none'"} <= policy
        assert "base-uri 'none'" in policy
        if body:
            [style] = [part for part in policy if part.startswith("style-src")]
            nonce = re.search(r"'nonce-([^']+)'", style).group(1)
            assert f'<style nonce="{nonce}">' in body
            assert '<meta name="robots" content="noindex">' in body
            for external in ("<script", "<link", "<img", "src=", "url(", "http"):
                assert external not in body, (status, external)


async def test_the_page_still_thanks_the_contact_when_telling_the_requester_fails(
    site, http, membership, units, verification, told, caplog
):
    told.fail = True
    path = await email_link(membership, units, verification)
    _, page, _ = await open_link(http, site, path)

    with caplog.at_level(logging.INFO):
        status, body = await press_confirm(http, site, page, origin=site)

    assert status == 200 and "Thank you, confirmed" in body
    assert (await verification.status("contoso")).verified
    assert len(told.confirmations) == 1
    assert "tell the requester failed with ConnectionError" in caplog.text
    assert token_of(path) not in caplog.text and "@" not in caplog.text


async def test_when_the_service_fails_the_page_asks_to_try_again_and_logs_no_secret(http, caplog):
    app = web.Application()
    add_verify_routes(app, lambda: Broken(), Told())
    token = "T" * 43
    async for site in _serve(app):
        with caplog.at_level(logging.INFO):
            async with http.get(f"{site}/verify/contact?token={token}") as response:
                status, page = response.status, await response.text()
            http.cookie_jar.update_cookies({CSRF_COOKIE: "C" * 43})
            async with http.post(
                f"{site}/verify/contact",
                data={"token": token, "csrf": "C" * 43},
                headers={"Origin": site},
            ) as response:
                posted, posted_page = response.status, await response.text()

    assert (status, posted) == (503, 503)
    for shown in (page, posted_page):
        assert "Something went wrong" in shown and "try again" in shown
        assert "Traceback" not in shown and "ConnectionError" not in shown
    assert "describe failed with ConnectionError" in caplog.text
    assert "confirm failed with ConnectionError" in caplog.text
    assert token not in caplog.text and "@" not in caplog.text


# ---- a real browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run", "--disable-sync"]


def _skip_without_chromium() -> None:
    """Skip without chromium, except under CI, which installs it."""
    if not Path(CHROMIUM).exists():
        reason = f"no browser at {CHROMIUM} (apt-get install chromium; make test does it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
async def browser():
    _skip_without_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        await browser.close()


@pytest.mark.browser
async def test_in_a_real_browser_the_contact_opens_the_link_and_presses_confirm(
    browser, site, membership, units, verification, told
):
    path = await email_link(membership, units, verification)
    page = await browser.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))

    await page.goto(site + path)
    await page.get_by_role("button", name="Confirm").click()
    await page.wait_for_load_state()

    assert await page.get_by_role("heading").inner_text() == "Thank you, confirmed"
    assert (await verification.status("contoso")).verified
    assert len(told.confirmations) == 1
    assert not [text for text in console if "Content Security Policy" in text]


async def test_a_replaced_link_to_an_address_confirmed_since_says_already_confirmed_in_its_language(
    site, http, membership, units, verification
):
    first = await email_link(membership, units, verification, locale=Locale.ZH_TW)
    _, stale_form, _ = await open_link(http, site, first)  # the contact opens it, and waits
    # The contact is changed, then changed back: the first link is replaced by a new one.
    await membership.register("contoso", PROFILE.model_copy(update=OTHER_CONTACT), MEI)
    await verification.start("contoso", PROFILE.model_copy(update=OTHER_CONTACT), MEI)
    latest = await email_link(membership, units, verification, locale=Locale.ZH_TW)
    _, page, _ = await open_link(http, site, latest)
    await press_confirm(http, site, page, origin=site)

    status, body, _ = await open_link(http, site, first, **{"Accept-Language": "en-US"})
    posted, posted_body = await press_confirm(http, site, stale_form, origin=site)

    assert (status, posted) == (200, 409)
    for shown in (body, posted_body):
        assert '<html lang="zh-TW">' in shown  # the email's language
        assert "已確認" in shown and "此連結寄往的電子郵件地址已確認。" in shown
        assert "此連結無效" not in shown and "<form" not in shown
        assert not any(secret in shown for secret in SECRETS_OF_THE_RECORD)


async def test_a_link_used_once_says_already_confirmed_in_the_emails_language(
    site, http, membership, units, verification
):
    path = await email_link(membership, units, verification, locale=Locale.ZH_TW)
    _, page, _ = await open_link(http, site, path)
    await press_confirm(http, site, page, origin=site)

    status, body, _ = await open_link(http, site, path, **{"Accept-Language": "en-US"})

    assert status == 200 and '<html lang="zh-TW">' in body and "已確認" in body


async def test_a_chinese_contact_name_reads_family_name_first_in_the_email_and_on_the_page(
    site, http, membership, units, verification
):
    chinese = {"contact_first_name": "大衛", "contact_last_name": "陳"}
    await membership.create_partner_center_account(
        "contoso", CONTOSO_TENANT, MEI, ("contoso.example",)
    )
    await membership.register("contoso", PROFILE.model_copy(update=chinese), MEI)
    await verification.start(
        "contoso", PROFILE.model_copy(update=chinese), MEI, locale=Locale.ZH_TW
    )
    async with units() as unit:
        data = await unit.session.scalar(
            select(EmailOutboxRow.message).order_by(EmailOutboxRow.id.desc()).limit(1)
        )
    email = read_message(data)
    [path] = set(_LINK.findall(email.get_body(("plain",)).get_content()))

    _, page, _ = await open_link(http, site, path)
    _, thanks = await press_confirm(http, site, page, origin=site)

    assert email["To"].addresses[0].display_name == "陳大衛"
    assert email.get_body(("plain",)).get_content().startswith("陳大衛 您好：")
    assert "陳大衛" in page and "大衛 陳" not in page
    assert "陳大衛" in thanks
