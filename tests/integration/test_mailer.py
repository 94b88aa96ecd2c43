"""Mail transports against real local servers: SMTP (aiosmtpd) and a Microsoft Graph stand-in."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from pydantic import ValidationError

from services.emails import EmailComposer, VerificationRequest
from services.errors import MailDeliveryError
from services.i18n import Locale
from services.mailer import (
    GraphMailer,
    OutboxFolderMailer,
    SmtpMailer,
    create_mailer,
)
from services.settings import SmtpSecurity
from tests.conftest import free_port, make_settings
from tests.support.smtp import smtp_server

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CONTACT = "mei.lin@contoso.example"
_URL = re.compile(r"https?://[^\s\"<>]+")


def verification_email(locale: Locale, token: str):
    """A verification email for Contoso's contact, with a link carrying ``token``."""
    composer = EmailComposer("membership-bot@bot.example.test", "Partner membership assistant")
    request = VerificationRequest(
        contact_name="林美玲 Mei Lin",
        contact_email=CONTACT,
        organization="Contoso Taiwan Ltd.",
        requested_by="David Chen",
        link=f"https://bot.example.test/verify/contact?token={token}",
        expires_at=NOW + timedelta(hours=72),
    )
    return composer.contact_verification(request, locale, now=NOW)


def smtp_mailer(port: int) -> SmtpMailer:
    return SmtpMailer("127.0.0.1", port, security=SmtpSecurity.NONE, timeout=5)


@pytest.fixture
def smtp():
    port = free_port()
    with smtp_server(port) as sink:
        yield sink, smtp_mailer(port)


@pytest.mark.parametrize(
    ("locale", "subject", "says"),
    [
        (
            Locale.EN_US,
            "Confirm that you are the primary contact of Contoso Taiwan Ltd.",
            [
                "Hello 林美玲 Mei Lin,",
                "David Chen asked us to confirm that you are the primary contact of Contoso",
                "you registered a Partner Center account for Contoso Taiwan Ltd.",
                "this email address belongs to Contoso Taiwan Ltd.",
                "expires on November 27, 2026 at 9:00 AM (UTC)",
            ],
        ),
        (
            Locale.ZH_TW,
            "請確認您是 Contoso Taiwan Ltd. 的主要連絡人",
            [
                "林美玲 Mei Lin 您好：",
                "David Chen 請我們確認您是 Contoso Taiwan Ltd. 的",
                "您已為 Contoso Taiwan Ltd. 註冊合作夥伴中心帳戶",
                "此電子郵件地址屬於 Contoso Taiwan Ltd.",
                "2026年11月27日 上午9:00 (UTC) 到期",
            ],
        ),
    ],
)
async def test_a_verification_email_reaches_the_smtp_server_in_the_contacts_language(
    smtp, locale, subject, says
):
    sink, mailer = smtp
    token = secrets.token_urlsafe(32)

    delivery_id = await mailer.send(verification_email(locale, token))

    [received] = sink.messages
    assert sink.recipients == [[CONTACT]]
    assert delivery_id == received["Message-ID"]
    assert received["Subject"] == subject
    assert received["Content-Language"] == locale.value
    assert received.get_content_type() == "multipart/alternative"
    plain = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    for text in says:
        assert text in plain
        assert text in html
    # The one link, the same in both parts, carries the token and nothing else.
    [link] = set(_URL.findall(plain))
    assert set(_URL.findall(html)) == {link}
    assert parse_qs(urlsplit(link).query) == {"token": [token]}
    assert re.findall(r"[A-Za-z0-9_-]{32,}", plain) == [token]  # no other secret-like string


async def test_with_nothing_listening_delivery_fails_temporarily():
    mailer = smtp_mailer(free_port())

    with pytest.raises(MailDeliveryError) as failed:
        await mailer.send(verification_email(Locale.EN_US, secrets.token_urlsafe(32)))

    assert not failed.value.permanent


async def test_a_refused_mailbox_fails_permanently_without_naming_the_address(smtp):
    sink, mailer = smtp
    sink.rcpt_reply = f"550 5.1.1 <{CONTACT}>: mailbox unavailable"

    with pytest.raises(MailDeliveryError) as failed:
        await mailer.send(verification_email(Locale.EN_US, secrets.token_urlsafe(32)))

    assert failed.value.permanent
    assert "550" in failed.value.reason and "mailbox unavailable" in failed.value.reason
    assert "@" not in failed.value.reason
    assert sink.messages == []


async def test_a_server_asking_to_try_later_fails_temporarily(smtp):
    sink, mailer = smtp
    sink.data_reply = "451 4.3.0 try again later"

    with pytest.raises(MailDeliveryError) as failed:
        await mailer.send(verification_email(Locale.EN_US, secrets.token_urlsafe(32)))

    assert not failed.value.permanent
    assert "451" in failed.value.reason


async def test_the_outbox_folder_keeps_each_email_as_a_readable_eml_file(tmp_path, caplog):
    mailer = OutboxFolderMailer(tmp_path / "outbox")
    message = verification_email(Locale.ZH_TW, secrets.token_urlsafe(32))

    with caplog.at_level(logging.INFO, logger="services.mailer"):
        path = Path(await mailer.send(message))

    assert path.parent == tmp_path / "outbox" and path.suffix == ".eml"
    assert [file.name for file in path.parent.iterdir()] == [path.name]
    stored = BytesParser(policy=policy.default).parsebytes(await asyncio.to_thread(path.read_bytes))
    assert stored["Subject"] == message["Subject"]
    assert stored.get_body(("plain",)).get_content() == message.get_body(("plain",)).get_content()
    logged = [record for record in caplog.records if record.name == "services.mailer"]
    assert [record.path for record in logged] == [str(path)]  # type: ignore[attr-defined]
    assert all(CONTACT not in str(vars(record)) for record in logged)


class GraphStandIn:
    """Answers ``sendMail`` like Microsoft Graph, with the status a test asks for."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], dict[str, object]]] = []
        self.status = 202
        self.headers: dict[str, str] = {}
        self.body: dict[str, object] | None = None

    async def send_mail(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.headers), await request.json()))
        if self.body is None:
            return web.Response(status=self.status, headers=self.headers)
        return web.json_response(self.body, status=self.status, headers=self.headers)


class StaticTokens:
    """An app token provider that always has the same token."""

    async def token(self) -> str:
        return "app-token-1"


@pytest.fixture
async def graph():
    stand_in = GraphStandIn()
    app = web.Application()
    app.router.add_post("/v1.0/users/{sender}/sendMail", stand_in.send_mail)
    async with TestServer(app, host="127.0.0.1") as server, ClientSession() as session:
        mailer = GraphMailer(
            session,
            StaticTokens(),
            "assistant@contoso.example",
            graph_url=str(server.make_url("/")),
            timeout=5,
        )
        yield stand_in, mailer


async def test_graph_gets_the_html_body_with_the_app_token_and_does_not_keep_a_copy(graph):
    stand_in, mailer = graph
    token = secrets.token_urlsafe(32)
    message = verification_email(Locale.EN_US, token)

    assert await mailer.send(message) == message["Message-ID"]

    [(path, headers, body)] = stand_in.requests
    assert path == "/v1.0/users/assistant@contoso.example/sendMail"
    assert headers["Authorization"] == "Bearer app-token-1"
    assert body["saveToSentItems"] is False
    sent = body["message"]
    assert isinstance(sent, dict)
    assert sent["subject"] == message["Subject"]
    assert sent["toRecipients"] == [{"emailAddress": {"address": CONTACT}}]
    assert sent["body"]["contentType"] == "HTML"
    assert f"?token={token}" in sent["body"]["content"]
    assert "<a href=" in sent["body"]["content"]


async def test_graph_throttling_is_temporary_and_says_when_to_try_again(graph):
    stand_in, mailer = graph
    stand_in.status, stand_in.headers = 429, {"Retry-After": "17"}
    stand_in.body = {"error": {"code": "TooManyRequests", "message": "Slow down"}}

    with pytest.raises(MailDeliveryError) as failed:
        await mailer.send(verification_email(Locale.EN_US, secrets.token_urlsafe(32)))

    assert not failed.value.permanent
    assert failed.value.retry_after == 17.0
    assert "429" in failed.value.reason and "TooManyRequests" in failed.value.reason


async def test_graph_server_errors_are_temporary(graph):
    stand_in, mailer = graph
    stand_in.status = 503

    with pytest.raises(MailDeliveryError) as failed:
        await mailer.send(verification_email(Locale.EN_US, secrets.token_urlsafe(32)))

    assert not failed.value.permanent and failed.value.retry_after is None


async def test_a_request_graph_refuses_is_a_permanent_failure_without_the_address(graph):
    stand_in, mailer = graph
    stand_in.status = 400
    stand_in.body = {
        "error": {"code": "ErrorInvalidRecipients", "message": f"Bad recipient {CONTACT}"}
    }

    with pytest.raises(MailDeliveryError) as failed:
        await mailer.send(verification_email(Locale.EN_US, secrets.token_urlsafe(32)))

    assert failed.value.permanent
    assert "ErrorInvalidRecipients" in failed.value.reason and "@" not in failed.value.reason


async def test_an_unreachable_graph_is_a_temporary_failure():
    async with ClientSession() as session:
        mailer = GraphMailer(
            session, StaticTokens(), "assistant@contoso.example",
            graph_url=f"http://127.0.0.1:{free_port()}", timeout=5,
        )  # fmt: skip
        with pytest.raises(MailDeliveryError) as failed:
            await mailer.send(verification_email(Locale.EN_US, secrets.token_urlsafe(32)))

    assert not failed.value.permanent


async def test_the_settings_pick_the_transport(tmp_path):
    async with ClientSession() as session:
        outbox = create_mailer(make_settings("sqlite://", outbox_dir=tmp_path), session)
        smtp = create_mailer(
            make_settings("sqlite://", mail_transport="smtp", smtp_host="mail.example.test"),
            session,
        )
        graph = create_mailer(
            make_settings(
                "sqlite://", mail_transport="graph", graph_tenant_id="contoso.example",
                graph_client_id="app", graph_client_secret="secret",
                graph_sender="assistant@contoso.example",
            ),
            session,
        )  # fmt: skip

    assert isinstance(outbox, OutboxFolderMailer) and outbox.folder == tmp_path
    assert isinstance(smtp, SmtpMailer) and (smtp.host, smtp.port) == ("mail.example.test", 587)
    assert smtp.security is SmtpSecurity.STARTTLS
    assert isinstance(graph, GraphMailer)


def test_graph_without_its_credentials_is_refused_with_what_is_missing():
    with pytest.raises(ValidationError, match="GRAPH_CLIENT_SECRET, GRAPH_SENDER"):
        make_settings(
            "sqlite://", mail_transport="graph", graph_tenant_id="t", graph_client_id="app"
        )
