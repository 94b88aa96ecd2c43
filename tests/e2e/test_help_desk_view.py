"""The chat page's help-desk view in a real browser: one person plays both sides of a request.

Two pages on the same local app with the demo data: the user's chat, and the help-desk view
(``?helpdesk=1``), which the local Direct Line makes the General channel of a local Teams team,
installs the bot in and names the help desk.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import aiohttp
import pytest

from bot.directline import LOCAL_HELP_DESK_TEAM
from services import db
from services.clock import SystemClock
from services.demo_data import load_demo
from services.handoff import HandoffService, Ticket, TicketStatus
from services.unit_of_work import UnitOfWorkFactory
from tests.conftest import make_settings
from tests.e2e.test_chat_page import (  # noqa: F401 (fixtures)
    SCREENSHOTS,
    WEBCHAT_JS,
    _check_prerequisites,
    browser,
    demo_chat_url,
)
from tests.support.connector import connector_stand_in
from tests.support.teams import Teams, texts

OUTSIDER = {"id": "david.chen", "name": "David Chen", "aadObjectId": "david.chen"}


@pytest.fixture
async def handoff(sqlite_url):
    engine = db.create_engine(sqlite_url)
    yield HandoffService(UnitOfWorkFactory(engine), SystemClock(), reraise_after=timedelta(hours=1))
    await engine.dispose()


async def _ticket_of(handoff: HandoffService, user: str) -> Ticket:
    ticket = await handoff.active_for(user)
    assert ticket is not None
    return ticket


async def _claim_as(base_url: str, sender: dict[str, str], ticket: Ticket) -> list[str]:
    """What someone who never opened the help-desk view gets for clicking Claim in its channel
    (as Teams would send it), read from the bot's replies."""
    body = {
        "id": uuid.uuid4().hex, "type": "message", "channelId": "msteams",
        "serviceUrl": f"{base_url}/", "from": sender, "locale": "en-US",
        "recipient": {"id": "membership-bot", "name": "Membership bot"},
        "conversation": {"id": ticket.thread_id, "conversationType": "channel", "isGroup": True},
        "channelData": {"team": {"id": LOCAL_HELP_DESK_TEAM},
                        "channel": {"id": LOCAL_HELP_DESK_TEAM}},
        "value": {"action": "handoff.claim", "ticket": ticket.id},
        "deliveryMode": "expectReplies",
    }  # fmt: skip
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{base_url}/api/messages", json=body) as response,
    ):
        assert response.status == 200, await response.text()
        return [str(a.get("text") or "") for a in (await response.json())["activities"]]


@pytest.mark.browser
async def test_one_person_plays_the_user_and_the_help_desk_on_two_pages(
    browser,  # noqa: F811 (a fixture)
    demo_chat_url,  # noqa: F811 (a fixture)
    handoff,
):
    context = await browser.new_context()
    desk = await context.new_page()
    desk_bubbles = desk.locator(".webchat__bubble__content")
    await desk.goto(f"{demo_chat_url}/?helpdesk=1&user=kenji.sato&locale=en-US")
    assert await desk.locator("#helpdesk").is_checked()
    await desk.get_by_text("Help-desk view: requests for a person arrive here.").wait_for()
    # Opening the view installs the bot in the local channel: it greets the team there.
    await desk_bubbles.filter(has_text="Hello, team!").first.wait_for()

    user = await context.new_page()
    bubbles = user.locator(".webchat__bubble__content")
    await user.goto(f"{demo_chat_url}/?user=ana.silva&locale=en-US")
    await bubbles.filter(has_text="Hello!").first.wait_for()
    sendbox = user.locator("[data-id='webchat-sendbox-input']")
    await sendbox.fill("Talk to a person")
    await sendbox.press("Enter")
    await bubbles.filter(has_text="You are number 1 in the queue").first.wait_for()

    # The request's card arrives in the help-desk view.
    ticket = await _ticket_of(handoff, "ana.silva")
    await desk_bubbles.filter(has_text=f"Request {ticket.number}: Ana Silva").first.wait_for()

    # Someone outside the help-desk team (who never opened the view) cannot claim it.
    refused = await _claim_as(demo_chat_url, OUTSIDER, ticket)
    assert "Only members of the help-desk team can claim or resolve requests." in refused
    assert (await handoff.get(ticket.id)).status is TicketStatus.OPEN

    await desk.locator(".ac-pushButton[aria-label='Claim']").click()
    await desk_bubbles.filter(has_text=f"Kenji Sato claimed {ticket.number}").first.wait_for()
    await desk_bubbles.filter(has_text="Claimed by Kenji Sato").first.wait_for()
    await bubbles.filter(has_text="Kenji Sato from the help desk has joined").first.wait_for()

    await sendbox.fill("My tenant is not found")
    await sendbox.press("Enter")
    await desk_bubbles.filter(has_text="Ana Silva: My tenant is not found").first.wait_for()

    desk_sendbox = desk.locator("[data-id='webchat-sendbox-input']")
    await desk_sendbox.fill("Please try again now")
    await desk_sendbox.press("Enter")
    await bubbles.filter(has_text="Kenji Sato (help desk): Please try again now").first.wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await desk.screenshot(path=str(SCREENSHOTS / "help-desk-view.png"), full_page=True)

    await desk.locator(".ac-pushButton[aria-label='Resolve']").click()
    await bubbles.filter(
        has_text=f"Kenji Sato has marked your request {ticket.number} as resolved"
    ).first.wait_for()
    await bubbles.filter(has_text="How would you rate the help you had").first.wait_for()
    await desk_bubbles.filter(has_text="Resolved by Kenji Sato").first.wait_for()
    await user.locator(".ac-pushButton[aria-label='5']").click()
    await bubbles.filter(has_text="5 out of 5 for the help you had").first.wait_for()
    await user.screenshot(path=str(SCREENSHOTS / "help-desk-user.png"), full_page=True)
    await context.close()

    rated = await handoff.get(ticket.id)
    assert (rated.status, rated.csat) == (TicketStatus.RESOLVED, 5)
    assert (rated.agent_name, rated.requester_name) == ("Kenji Sato", "Ana Silva")


async def _open_help_desk_view(http: aiohttp.ClientSession, base_url: str, user_id: str) -> None:
    """What the page does with ``?helpdesk=1``: open and start a help-desk conversation."""
    body = {"user": {"id": user_id, "name": user_id}, "locale": "en-US", "helpdesk": True}
    async with http.post(f"{base_url}/v3/directline/conversations", json=body) as response:
        assert response.status == 201, await response.text()


async def test_the_help_desk_view_never_replaces_a_help_desk_the_operator_named(
    serve_app, sqlite_url, handoff
):
    base_url = await serve_app(make_settings(sqlite_url))
    real = "19:partner-help-desk@thread.tacv2"
    await handoff.set_help_desk(real, real, "https://smba.example/", None, "operator")

    async with aiohttp.ClientSession() as http:
        await _open_help_desk_view(http, base_url, "kenji.sato")
        members = f"{base_url}/v3/conversations/{LOCAL_HELP_DESK_TEAM}/members"
        async with http.get(f"{members}/kenji.sato") as response:
            member = (response.status, await response.json())
        async with http.get(f"{members}/david.chen") as response:
            outsider = response.status

    named = await handoff.help_desk()
    assert named is not None and (named.team_id, named.set_by) == (real, "operator")
    assert member == (200, {"id": "kenji.sato", "name": "kenji.sato", "aadObjectId": "kenji.sato"})
    assert outsider == 404


async def test_without_a_help_desk_the_view_becomes_it(serve_app, sqlite_url, handoff):
    base_url = await serve_app(make_settings(sqlite_url))

    async with aiohttp.ClientSession() as http:
        await _open_help_desk_view(http, base_url, "kenji.sato")

    named = await handoff.help_desk()
    assert named is not None
    assert (named.team_id, named.channel_id) == (LOCAL_HELP_DESK_TEAM, LOCAL_HELP_DESK_TEAM)
    assert (named.set_by, named.service_url) == ("local chat page", f"{base_url}/")
    assert named.document is not None  # the bot recorded its install in the channel


async def test_opening_the_help_desk_view_posts_the_requests_made_before_it_existed(
    serve_app, sqlite_url, handoff
):
    base_url = await serve_app(make_settings(sqlite_url))
    async with aiohttp.ClientSession() as http, connector_stand_in() as connector:
        ana = Teams(http, base_url, "ana.silva", connector.url)
        await ana.send("Talk to a person")
        before = await _ticket_of(handoff, "ana.silva")

        await _open_help_desk_view(http, base_url, "kenji.sato")

        after = await _ticket_of(handoff, "ana.silva")
        told = [texts([a]) for a in connector.activities]

    assert before.channel_message_id is None  # no help desk when Ana asked
    assert after.channel_message_id is not None
    assert after.thread_id == f"{LOCAL_HELP_DESK_TEAM};messageid={after.channel_message_id}"
    assert told == [
        f"Your request {before.number} has reached the help desk: you are number 1 in the "
        "queue. I'll tell you here as soon as someone joins."
    ]


@pytest.mark.parametrize(
    ("desk_locale", "title", "hint"),
    [
        ("en-US", "Membership bot — help desk",
         "Help-desk view: requests for a person arrive here. Click “Claim” on one, then write "
         "here to answer the user; “Resolve” hands the chat back."),
        ("zh-TW", "會員小幫手 — 服務台",
         "服務台檢視：需要專人協助的申請會出現在這裡。先按申請上的「接手」，然後在這裡輸入以回覆"
         "使用者；按「解決」即把對話交還給小幫手。"),
    ],
)  # fmt: skip
async def test_the_view_says_what_it_is_in_the_help_desks_language(
    serve_app, sqlite_url, desk_locale, title, hint
):
    base_url = await serve_app(make_settings(sqlite_url, help_desk_locale=desk_locale))

    async with aiohttp.ClientSession() as http, http.get(f"{base_url}/dev/help-desk") as response:
        view = await response.json()

    assert view["locale"] == desk_locale
    assert view["title"] == title
    assert view["hint"].startswith(hint)


@pytest.mark.browser
async def test_with_a_chinese_help_desk_the_view_is_in_chinese_whatever_the_page_says(
    browser,  # noqa: F811 (a fixture)
    serve_app,
    sqlite_url,
    handoff,
):
    _check_prerequisites(webchat=True)
    engine = db.create_engine(sqlite_url)
    await load_demo(UnitOfWorkFactory(engine), SystemClock())
    await engine.dispose()
    base_url = await serve_app(
        make_settings(sqlite_url, webchat_js=WEBCHAT_JS, help_desk_locale="zh-TW")
    )
    context = await browser.new_context()
    desk = await context.new_page()
    desk_bubbles = desk.locator(".webchat__bubble__content")
    await desk.goto(f"{base_url}/?helpdesk=1&user=kenji.sato&locale=en-US")
    hint = desk.locator("#hint")
    await hint.get_by_text("服務台檢視").wait_for()
    await desk_bubbles.filter(has_text="大家好！").first.wait_for()  # the install greeting

    user = await context.new_page()
    await user.goto(f"{base_url}/?user=ana.silva&locale=en-US")
    sendbox = user.locator("[data-id='webchat-sendbox-input']")
    await sendbox.fill("Talk to a person")
    await sendbox.press("Enter")
    queued = user.locator(".webchat__bubble__content").filter(has_text="number 1 in the queue")
    await queued.first.wait_for()  # the user's own language, meanwhile
    ticket = await _ticket_of(handoff, "ana.silva")
    await desk_bubbles.filter(has_text=f"申請 {ticket.number}：Ana Silva").first.wait_for()

    shown = await hint.inner_text()
    buttons = [b.strip() for b in await desk.locator(".ac-pushButton").all_inner_texts()]
    language = await desk.evaluate("document.documentElement.lang")
    await context.close()

    assert buttons[-2:] == ["接手", "解決"]
    assert all(f"「{button}」" in shown for button in buttons[-2:])  # named as they are shown
    assert language == "zh-TW"
