"""The local chat page in a real browser: Web Chat over the local Direct Line, both languages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dialogs.main_dialog import WELCOME_TEXT
from services.i18n import Locale, translator
from tests.conftest import make_settings

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
WEBCHAT_JS = ROOT / "var" / "webchat" / "webchat.js"
ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync",
]  # fmt: skip
SCREENSHOTS = ROOT / "var" / "screenshots"


def _check_prerequisites(*, webchat: bool) -> None:
    """Skip without chromium (except under CI, which installs it); fail without Web Chat.

    A missing bundle is a setup step left undone, not a missing system part: say which.
    """
    if not Path(CHROMIUM).exists():
        reason = f"no browser at {CHROMIUM} (apt-get install chromium; make test does it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    if webchat and not WEBCHAT_JS.exists():
        pytest.fail(f"no Web Chat bundle at {WEBCHAT_JS}: run `make webchat` (make test does it)")


@pytest.fixture
async def browser():
    _check_prerequisites(webchat=False)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        await browser.close()


@pytest.fixture
async def chat_url(serve_app, sqlite_url):
    _check_prerequisites(webchat=True)
    return await serve_app(make_settings(sqlite_url, webchat_js=WEBCHAT_JS))


@pytest.mark.parametrize("locale", [Locale.EN_US, Locale.ZH_TW])
async def test_a_newcomer_chats_on_the_local_page_in_their_language(browser, chat_url, locale):
    t = translator(locale)
    page = await browser.new_page()
    bubbles = page.locator(".webchat__bubble__content")

    await page.goto(f"{chat_url}/?locale={locale}")

    # The welcome arrives without typing anything.
    # (Web Chat renders Markdown with typographic quotes: compare up to the first apostrophe.)
    welcome = t.gettext(WELCOME_TEXT).split("'")[0]
    await bubbles.filter(has_text=welcome).first.wait_for()
    help_button = t.gettext("Help")
    await page.get_by_role("button", name=help_button).first.wait_for()

    # Pick a menu item by its button, then ask something by typing.
    await page.get_by_role("button", name=help_button).first.click()
    await bubbles.filter(has_text="English / 繁體中文").first.wait_for()
    sendbox = page.locator("[data-id='webchat-sendbox-input']")
    await sendbox.fill(t.gettext("Language") if locale == "en-US" else "語言")
    await sendbox.press("Enter")
    await bubbles.filter(
        has_text=t.gettext("Which language would you like me to use?")
    ).first.wait_for()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"chat-{locale}.png"), full_page=True)
    await page.close()


async def test_switching_the_page_language_starts_a_conversation_in_that_language(
    browser, chat_url
):
    page = await browser.new_page()
    await page.goto(f"{chat_url}/?locale=en-US")
    await page.locator(".webchat__bubble__content", has_text="Hello!").first.wait_for()

    await page.select_option("#locale", "zh-TW")

    await page.wait_for_url("**/?locale=zh-TW")
    await page.locator(".webchat__bubble__content", has_text="您好！").first.wait_for()
    await page.close()


async def test_without_web_chat_installed_the_page_says_how_to_get_it(
    browser, serve_app, sqlite_url, tmp_path
):
    url = await serve_app(make_settings(sqlite_url, webchat_js=tmp_path / "missing.js"))
    page = await browser.new_page()

    await page.goto(url)

    await page.get_by_text("make webchat").wait_for()
    await page.close()


@pytest.fixture
async def demo_chat_url(serve_app, sqlite_url, tmp_path):
    """The app with the demo organizations loaded, as `make run` has them.

    Emails go to the outbox folder (the embedded default), in the test's own folder.
    """
    from services import db
    from services.clock import SystemClock
    from services.demo_data import load_demo
    from services.unit_of_work import UnitOfWorkFactory

    _check_prerequisites(webchat=True)
    engine = db.create_engine(sqlite_url)
    try:
        await load_demo(UnitOfWorkFactory(engine), SystemClock())
    finally:
        await engine.dispose()
    return await serve_app(
        lambda url: make_settings(
            sqlite_url, webchat_js=WEBCHAT_JS, public_base_url=url, outbox_dir=tmp_path / "outbox"
        )
    )


@pytest.mark.parametrize("locale", [Locale.EN_US, Locale.ZH_TW])
async def test_a_demo_user_sees_the_status_card_and_fills_in_the_profile_form(
    browser, demo_chat_url, locale
):
    t = translator(locale)
    page = await browser.new_page()
    bubbles = page.locator(".webchat__bubble__content")
    await page.goto(f"{demo_chat_url}/?locale={locale}")
    await page.select_option("#user", "mei.lin")  # the page restarts as that demo user
    await page.wait_for_url("**user=mei.lin**")
    # A person types once the welcome shows: before it, Web Chat may still be connecting and
    # can re-render the send box, dropping what was typed into it.
    await bubbles.filter(has_text=t.gettext(WELCOME_TEXT).split("'")[0]).first.wait_for()
    sendbox = page.locator("[data-id='webchat-sendbox-input']")

    await sendbox.fill(t.gettext("Membership status"))
    await sendbox.press("Enter")
    await bubbles.filter(has_text="Contoso Taiwan Ltd.").first.wait_for()
    await bubbles.filter(has_text=t.gettext("Account setup:")).first.wait_for()

    await sendbox.fill(t.gettext("Create the Partner Center account"))
    await sendbox.press("Enter")
    await page.get_by_role("button", name=t.gettext("Next")).first.click()
    # (Web Chat also renders a hidden copy of each card button: take the card's own.)
    register = page.locator(f".ac-pushButton[aria-label='{t.gettext('Register now')}']")
    await register.wait_for()
    email = page.get_by_label(t.gettext("Primary contact's email"))
    await email.fill("not-an-email")
    await page.get_by_label(t.gettext("Primary contact's first name")).fill("Mei")
    await page.get_by_label(t.gettext("Primary contact's last name")).fill("Lin")
    await page.get_by_label(t.gettext("Primary contact's phone")).fill("+886 2 2345 6789")
    await register.click()

    # The form comes back with the value kept and the error under the field.
    await page.get_by_text(t.gettext("This is not a valid email address.")).first.wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"profile-form-{locale}.png"), full_page=True)
    await page.close()


async def test_a_newcomer_registers_confirms_from_the_outbox_email_and_sees_it_in_the_chat(
    browser, demo_chat_url
):
    # The "done": in the local chat a newcomer registers, opens the email from the
    # outbox, confirms on the page, and sees the confirmation arrive in the chat.
    context = await browser.new_context()
    chat = await context.new_page()
    bubbles = chat.locator(".webchat__bubble__content")
    await chat.goto(f"{demo_chat_url}/?locale=en-US&user=mei.lin")
    await bubbles.filter(has_text="Hello!").first.wait_for()
    sendbox = chat.locator("[data-id='webchat-sendbox-input']")
    await sendbox.fill("Create the Partner Center account")
    await sendbox.press("Enter")
    await chat.get_by_role("button", name="Next").first.click()
    register = chat.locator(".ac-pushButton[aria-label='Register now']")
    await register.wait_for()
    await chat.get_by_label("Primary contact's email").fill("mei.lin@contoso.example")
    await chat.get_by_label("Primary contact's first name").fill("Mei")
    await chat.get_by_label("Primary contact's last name").fill("Lin")
    await chat.get_by_label("Primary contact's phone").fill("+886 2 2345 6789")
    await register.click()
    await bubbles.filter(has_text="Registered. An email will ask Mei Lin").first.wait_for()

    # The chat page links the outbox; the newest email is the contact's.
    async with context.expect_page() as opened:
        await chat.get_by_role("link", name="Emails sent / 寄出的郵件").click()
    mailbox = await opened.value
    await mailbox.get_by_role("link", name="Contoso Taiwan Ltd.").first.click()
    await mailbox.locator("a[href*='/verify/contact?token=']").first.click()
    await mailbox.get_by_text("By confirming, you state that:").wait_for()
    await mailbox.get_by_role("button", name="Confirm").click()
    await mailbox.get_by_text("Thank you, confirmed").first.wait_for()

    notice = bubbles.filter(has_text="Contoso Taiwan Ltd., Mei Lin, confirmed their email")
    await notice.first.wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await chat.screenshot(path=str(SCREENSHOTS / "contact-confirmed.png"), full_page=True)
    await context.close()


async def test_acting_as_teams_a_demo_user_is_welcomed_once_and_sees_their_status_card(
    browser, demo_chat_url
):
    # The page sends what Teams sends: an installation update as well as the conversation
    # update, the user's tenant, channel msteams. The user still sees one welcome.
    page = await browser.new_page()
    bubbles = page.locator(".webchat__bubble__content")
    await page.goto(f"{demo_chat_url}/?locale=en-US&user=mei.lin&teams=1")
    assert await page.locator("#teams").is_checked()
    await bubbles.filter(has_text="What would you like to do?").first.wait_for()
    await page.wait_for_timeout(1000)  # time enough for a second welcome to show, were one sent

    assert await bubbles.filter(has_text="Hello!").count() == 1

    sendbox = page.locator("[data-id='webchat-sendbox-input']")
    await sendbox.fill("Membership status")
    await sendbox.press("Enter")
    await bubbles.filter(has_text="Contoso Taiwan Ltd.").first.wait_for()
    await bubbles.filter(has_text="Account setup:").first.wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "chat-as-teams.png"), full_page=True)
    await page.close()
