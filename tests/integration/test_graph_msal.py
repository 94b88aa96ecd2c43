"""The Graph mailer with MSAL for real, against a local HTTPS stand-in for Entra ID and Graph.

One aiohttp server on 127.0.0.1, with a self-signed certificate (``tests.support.https``),
answers what MSAL's client-credential flow asks of ``https://127.0.0.1:PORT/<tenant>`` (the
OpenID configuration, then the token endpoint) and Graph's ``sendMail``. MSAL runs in its
worker thread and talks through a ``requests.Session`` that trusts that certificate and
reaches the stand-in only.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp import ClientSession, TCPConnector, web
from pydantic import SecretStr

from services.errors import MailDeliveryError
from services.i18n import Locale
from services.mailer import GRAPH_SCOPE, GraphMailer, MsalAppTokenProvider
from tests.integration.test_mailer import CONTACT, verification_email
from tests.support.https import (
    Certificate,
    StandInOnly,
    self_signed_certificate,
    serving_https,
    stand_in_session,
    trusting_tls,
)

TENANT = "contoso.onmicrosoft.com"
CLIENT_ID = "6c3f1b9e-2d4a-4f0e-9b7a-0d5e8c1a2b3c"
SENDER = "assistant@contoso.example"


class EntraAndGraphStandIn:
    """Answers like Entra ID (one tenant, one app, one secret) and Graph's ``sendMail``."""

    def __init__(self, client_secret: str) -> None:
        self.client_secret = client_secret
        self.requests: list[tuple[str, str]] = []  # (method, path), in the order received
        self.token_requests: list[dict[str, str]] = []
        self.issued: list[str] = []
        self.mail: list[tuple[str, dict[str, Any]]] = []  # (Authorization, body)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        app.router.add_get(
            f"/{TENANT}/v2.0/.well-known/openid-configuration", self.openid_configuration
        )
        app.router.add_post(f"/{TENANT}/oauth2/v2.0/token", self.token)
        app.router.add_post("/v1.0/users/{sender}/sendMail", self.send_mail)
        return app

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        response: web.StreamResponse = await handler(request)
        return response

    async def openid_configuration(self, request: web.Request) -> web.Response:
        authority = f"{request.url.origin()}/{TENANT}"
        return web.json_response(
            {
                "issuer": f"{authority}/v2.0",
                "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
                "token_endpoint": f"{authority}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{authority}/oauth2/v2.0/devicecode",
                "jwks_uri": f"{request.url.origin()}/{TENANT}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token"],
                "grant_types_supported": ["authorization_code", "client_credentials"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "tenant_region_scope": "EU",
            }
        )

    async def token(self, request: web.Request) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        self.token_requests.append(form)
        if form.get("grant_type") != "client_credentials" or form.get("scope") != GRAPH_SCOPE:
            return web.json_response({"error": "invalid_request"}, status=400)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != self.client_secret:
            return web.json_response(
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                    "error_codes": [7000215],
                },
                status=401,
            )
        self.issued.append(secrets.token_urlsafe(32))
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3600, "access_token": self.issued[-1]}
        )

    async def send_mail(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization", "")
        if authorization not in {f"Bearer {token}" for token in self.issued}:
            return web.json_response(
                {"error": {"code": "InvalidAuthenticationToken", "message": "Bad token"}},
                status=401,
            )
        self.mail.append((authorization, await request.json()))
        return web.Response(status=202, headers={"request-id": secrets.token_hex(8)})


@dataclass
class Deployment:
    """The stand-in, its address and certificate, and what MSAL was allowed to reach."""

    stand_in: EntraAndGraphStandIn
    root: str
    certificate: Certificate
    guard: StandInOnly


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return self_signed_certificate(tmp_path)


@pytest.fixture
async def deployment(certificate: Certificate) -> AsyncIterator[Deployment]:
    stand_in = EntraAndGraphStandIn(client_secret=secrets.token_urlsafe(30))
    async with serving_https(stand_in.app(), certificate) as root:
        yield Deployment(stand_in, root, certificate, StandInOnly(root))


@pytest.fixture
def msal_session(deployment: Deployment) -> Iterator[requests.Session]:
    """The session MSAL talks through: it trusts the stand-in's certificate, and nothing else."""
    with stand_in_session(deployment.certificate, deployment.guard) as session:
        yield session


@asynccontextmanager
async def graph_mailer(
    deployment: Deployment, msal_session: requests.Session, *, client_secret: str
) -> AsyncIterator[GraphMailer]:
    """A Graph mailer whose tokens come from MSAL, both pointed at the stand-in."""
    tokens = MsalAppTokenProvider(
        TENANT,
        CLIENT_ID,
        SecretStr(client_secret),
        authority_host=deployment.root,
        http_client=msal_session,
    )
    async with ClientSession(
        connector=TCPConnector(ssl=trusting_tls(deployment.certificate))
    ) as session:
        yield GraphMailer(session, tokens, SENDER, graph_url=deployment.root, timeout=5)


async def test_a_verification_email_goes_out_through_graph_with_the_token_msal_got(
    deployment, msal_session
):
    stand_in = deployment.stand_in
    link_token = secrets.token_urlsafe(32)
    message = verification_email(Locale.EN_US, link_token)

    async with graph_mailer(
        deployment, msal_session, client_secret=stand_in.client_secret
    ) as mailer:
        assert await mailer.send(message) == message["Message-ID"]

    # MSAL asked the configured authority alone: its OpenID configuration, then a token.
    assert deployment.guard.refused == []
    assert stand_in.requests == [
        ("GET", f"/{TENANT}/v2.0/.well-known/openid-configuration"),
        ("POST", f"/{TENANT}/oauth2/v2.0/token"),
        ("POST", f"/v1.0/users/{SENDER}/sendMail"),
    ]
    [asked] = stand_in.token_requests
    assert asked["grant_type"] == "client_credentials"
    assert asked["client_id"] == CLIENT_ID and asked["scope"] == GRAPH_SCOPE
    [(authorization, body)] = stand_in.mail
    assert authorization == f"Bearer {stand_in.issued[0]}"
    sent = body["message"]
    assert sent["toRecipients"] == [{"emailAddress": {"address": CONTACT}}]
    assert sent["subject"] == message["Subject"]
    assert sent["body"]["contentType"] == "HTML"
    assert f"?token={link_token}" in sent["body"]["content"]
    assert "<a href=" in sent["body"]["content"]


async def test_a_second_email_reuses_the_token_msal_cached(deployment, msal_session):
    stand_in = deployment.stand_in

    async with graph_mailer(
        deployment, msal_session, client_secret=stand_in.client_secret
    ) as mailer:
        for locale in (Locale.EN_US, Locale.ZH_TW):
            await mailer.send(verification_email(locale, secrets.token_urlsafe(32)))

    assert len(stand_in.token_requests) == 1
    assert [authorization for authorization, _body in stand_in.mail] == [
        f"Bearer {stand_in.issued[0]}"
    ] * 2


async def test_a_refused_client_secret_fails_temporarily_naming_the_error_not_the_secret(
    deployment, msal_session, caplog
):
    stand_in = deployment.stand_in
    wrong_secret = secrets.token_urlsafe(30)

    with caplog.at_level(logging.DEBUG):
        async with graph_mailer(deployment, msal_session, client_secret=wrong_secret) as mailer:
            with pytest.raises(MailDeliveryError) as failed:
                await mailer.send(verification_email(Locale.EN_US, secrets.token_urlsafe(32)))

    assert not failed.value.permanent
    assert "invalid_client" in failed.value.reason
    assert wrong_secret not in failed.value.reason
    assert [form["client_secret"] for form in stand_in.token_requests] == [wrong_secret]
    assert all(wrong_secret not in record.getMessage() for record in caplog.records)
    assert stand_in.issued == [] and stand_in.mail == []


async def test_an_untrusted_certificate_fails_temporarily_before_anything_is_sent(deployment):
    stand_in = deployment.stand_in

    with requests.Session() as untrusting:
        untrusting.trust_env = False  # requests' own CA bundle, which lacks the stand-in
        untrusting.mount("http://", deployment.guard)
        untrusting.mount("https://", deployment.guard)
        async with graph_mailer(
            deployment, untrusting, client_secret=stand_in.client_secret
        ) as mailer:
            with pytest.raises(MailDeliveryError) as failed:
                await mailer.send(verification_email(Locale.EN_US, secrets.token_urlsafe(32)))

    assert not failed.value.permanent
    assert "SSLError" in failed.value.reason
    assert stand_in.token_requests == [] and stand_in.mail == []
