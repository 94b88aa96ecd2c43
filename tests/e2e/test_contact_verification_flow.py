"""Contact verification end to end: the real app over HTTP, a real SMTP server, a channel.

The bot runs as ``create_app`` builds it, on a SQLite file with the demo data, sending mail to
an aiosmtpd server on loopback. The test talks to ``/api/messages`` as Teams would, with a
connector stand-in as the ``serviceUrl``: every reply, and the proactive message, arrive there.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from app import create_app
from services import db
from services.clock import SystemClock
from services.contact_verification import EmailContactVerification
from services.demo_data import load_demo
from services.membership import MembershipService, Step, StepState
from services.settings import Settings
from services.unit_of_work import UnitOfWorkFactory
from tests.conftest import free_port, make_settings
from tests.support.chat import card_parts
from tests.support.connector import ConnectorStandIn, connector_stand_in
from tests.support.smtp import SmtpSink, smtp_server
from tests.support.teams import Teams

PROFILE = {
    "action": "submit_profile",
    "legal_name": "Contoso Taiwan Ltd.",
    "address_line1": "7F, No. 100, Xinyi Rd. Sec. 5",
    "city": "Taipei",
    "region": "Taipei City",
    "postal_code": "110",
    "country": "TW",
    "contact_first_name": "Mei",
    "contact_last_name": "Lin",
    "contact_email": "mei.lin@contoso.example",
    "contact_phone": "02 2345 6789",
}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Bot:
    """The app on a free loopback port, and a Teams user talking to it."""

    def __init__(self, url: str, connector: ConnectorStandIn, http: aiohttp.ClientSession):
        self.url = url
        self.connector = connector
        self.http = http
        self.conversation = f"a:{uuid.uuid4().hex}"

    async def send(self, text: str | None = None, value: dict[str, Any] | None = None) -> list[str]:
        """Send a message as Mei Lin; return the texts the bot posted for it."""
        before = len(self.connector.activities)
        body: dict[str, Any] = {
            "type": "message",
            "id": uuid.uuid4().hex,
            "channelId": "msteams",
            "serviceUrl": self.connector.url,
            "from": {"id": "29:mei", "name": "Mei Lin", "aadObjectId": "mei.lin"},
            "recipient": {"id": "28:bot", "name": "Membership bot"},
            "conversation": {"id": self.conversation},
            "locale": "en-US",
        }
        if text is not None:
            body["text"] = text
        if value is not None:
            body["value"] = value
        async with self.http.post(f"{self.url}/api/messages", json=body) as response:
            assert response.status in (200, 201), await response.text()
        return self.connector.texts(before)


@pytest.fixture
async def database(sqlite_url) -> AsyncIterator[str]:
    engine = db.create_engine(sqlite_url)
    await load_demo(UnitOfWorkFactory(engine), SystemClock())
    await engine.dispose()
    yield sqlite_url


@pytest.fixture
async def serve(database, tmp_path):
    runners: list[web.AppRunner] = []

    async def start(smtp_port: int, **overrides: object) -> tuple[str, Settings]:
        port = free_port()
        values: dict[str, object] = {
            "mail_transport": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_security": "none",
            "public_base_url": f"http://127.0.0.1:{port}",
            "outbox_poll_seconds": 0.2,
            "outbox_dir": tmp_path / "outbox",
        }
        values.update(overrides)
        settings = make_settings(database, **values)
        runner = web.AppRunner(create_app(settings), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        return f"http://127.0.0.1:{port}", settings

    yield start
    for runner in reversed(runners):
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def _register(bot: Bot) -> list[str]:
    await bot.send("Create the Partner Center account")
    await bot.send("Next")
    return await bot.send(value=PROFILE)


async def _email(sink: SmtpSink) -> Any:
    """The first email the server receives (the sender polls every 0.2 s; 15 s at most)."""
    async with asyncio.timeout(15):
        while not sink.messages:  # noqa: ASYNC110 - the sink runs on aiosmtpd's own thread
            await asyncio.sleep(0.05)
    return sink.messages[0]


def _link(message: Any, base_url: str) -> str:
    text = message.get_body(("plain",)).get_content()
    match = re.search(re.escape(base_url) + r"/verify/contact\?token=[A-Za-z0-9_-]+", text)
    assert match, text
    return match.group(0)


async def _services(url: str) -> tuple[Any, MembershipService, EmailContactVerification]:
    engine = db.create_engine(url)
    units = UnitOfWorkFactory(engine)
    settings = make_settings(url)
    verification = EmailContactVerification.from_settings(settings, units, SystemClock())
    return engine, MembershipService(units, SystemClock()), verification


async def test_the_contact_confirms_from_the_email_and_the_requester_is_told_in_the_chat(
    serve, database, http
):
    smtp_port = free_port()
    with smtp_server(smtp_port) as sink:
        async with connector_stand_in() as connector:
            url, _settings = await serve(smtp_port)
            bot = Bot(url, connector, http)
            registered = await _register(bot)
            assert registered[0].startswith("Registered. An email will ask Mei Lin")

            message = await _email(sink)
            assert message["To"].addresses[0].addr_spec == "mei.lin@contoso.example"
            assert message.get_body(("html",)) is not None
            link = _link(message, url)

            engine, membership, verification = await _services(database)
            try:
                async with http.get(link) as page:  # what a mail scanner does
                    assert page.status == 200
                    body = await page.text()
                async with http.get(link) as page:
                    assert page.status == 200
                assert "Contoso Taiwan Ltd." in body
                assert not (await verification.status("contoso")).verified  # GET changed nothing

                told = len(connector.activities)
                csrf = _CSRF.search(body)
                assert csrf, body
                token = link.split("token=", 1)[1]
                async with http.post(
                    f"{url}/verify/contact",
                    data={"token": token, "csrf": csrf.group(1)},
                    headers={"Origin": url},
                ) as confirmed:
                    assert confirmed.status == 200
                    assert "confirmed" in (await confirmed.text()).lower()

                assert (await verification.status("contoso")).verified
                status = await membership.status("contoso")
                states = {item.step: item.state for item in status.checklist}
                assert states[Step.CONTACT_VERIFICATION] is StepState.DONE

                [notice] = (await connector.wait_for(told + 1))[told:]
                assert notice["_conversation"] == bot.conversation
                texts, [button] = card_parts(notice["attachments"][0]["content"])
                assert texts[0].startswith(
                    "✅ The primary contact of Contoso Taiwan Ltd., Mei Lin, confirmed their email"
                )

                # The button continues the journey where it stands (Teams sends its data).
                continued = await bot.send(value=button["data"])
                assert continued, "the button's answer"

                # The link is spent: a second confirmation does nothing and says so.
                async with http.post(
                    f"{url}/verify/contact",
                    data={"token": token, "csrf": csrf.group(1)},
                    headers={"Origin": url},
                ) as again:
                    assert again.status != 200
                assert len(sink.messages) == 1
            finally:
                await engine.dispose()


async def test_while_the_mail_server_is_down_the_user_sees_it_pending_and_it_goes_once_later(
    serve, database, http
):
    smtp_port = free_port()  # nothing listens yet
    async with connector_stand_in() as connector:
        url, _settings = await serve(smtp_port, outbox_retry_seconds=0.5)
        bot = Bot(url, connector, http)
        registered = await _register(bot)
        assert registered[0].startswith("Registered.")
        await asyncio.sleep(0.5)  # the sender tried and failed

        engine, _membership, verification = await _services(database)
        try:
            pending = await verification.status("contoso")
            assert pending.delivery is not None and pending.delivery.value == "pending"
            assert pending.sent_at is None
            await bot.send("cancel")  # leave the account journey (it goes on to the agreement)
            shown = "\n".join(await bot.send("Verify the primary contact"))
            assert "m***" in shown or "mei.lin" not in shown  # the address is masked
            assert "waiting" in shown.lower()

            with smtp_server(smtp_port) as sink:
                message = await _email(sink)
                await asyncio.sleep(1.5)  # more passes of the sender: nothing more goes out
                assert len(sink.messages) == 1
            assert message["To"].addresses[0].addr_spec == "mei.lin@contoso.example"
            sent = await verification.status("contoso")
            assert sent.delivery is not None and sent.delivery.value == "sent"
            assert sent.sent_at is not None
        finally:
            await engine.dispose()


async def test_without_a_public_url_the_emailed_link_reaches_the_port_the_service_runs_on(
    database, http, tmp_path
):
    port, smtp_port = free_port(), free_port()
    settings = make_settings(
        database, port=port, mail_transport="smtp", smtp_host="127.0.0.1", smtp_port=smtp_port,
        smtp_security="none", outbox_poll_seconds=0.2, outbox_dir=tmp_path / "outbox",
    )  # fmt: skip
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        with smtp_server(smtp_port) as sink:
            async with connector_stand_in() as connector:
                ana = Teams(http, f"http://127.0.0.1:{port}", "ana.silva", connector.url)
                journey = await ana.send("Verify the primary contact")
                await ana.click_in(journey, "Send the email")
                link = _link(await _email(sink), f"http://127.0.0.1:{port}")
                async with http.get(link) as page:
                    status, body = page.status, await page.text()
    finally:
        await runner.cleanup()

    assert settings.public_base_url == f"http://127.0.0.1:{port}" != "http://127.0.0.1:3978"
    assert status == 200
    assert "Confirm that you are the primary contact of Northwind Traders Inc." in body
