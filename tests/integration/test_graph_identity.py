"""Graph identity with MSAL and the Graph client for real, against a local HTTPS stand-in.

One aiohttp server on 127.0.0.1, with a self-signed certificate (``tests.support.https``),
answers like Entra ID for any tenant (its OpenID configuration, then the token endpoint's
on-behalf-of exchange) and like Microsoft Graph (``/me``, ``/me/memberOf`` in two pages,
``/organization``). The sign-in tokens are unsigned JWTs made here: the stand-in, like the
service, only reads them.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp import ClientSession, TCPConnector, web
from pydantic import SecretStr, ValidationError

from services.clock import FixedClock
from services.errors import IdentityUnavailable, SignInRefused
from services.graph_identity import (
    GLOBAL_ADMIN_ROLE_TEMPLATE_ID,
    GRAPH_DELEGATED_SCOPES,
    MsalGraphIdentityService,
    create_identity_service,
)
from services.identity import DirectoryIdentityService
from services.settings import Settings
from tests.support.https import (
    Certificate,
    StandInOnly,
    self_signed_certificate,
    serving_https,
    stand_in_session,
    trusting_tls,
)

CLIENT_ID = "0f6e2d1c-7b3a-4e59-8c1d-2a3b4c5d6e7f"  # the bot's app: the sign-in token's audience
CONTOSO = "3b0e7c44-5d1a-4c8e-9f2b-6a7d8e9f0a1b"
FABRIKAM = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True)
class Person:
    oid: str
    tenant: str
    name: str
    upn: str
    memberships: tuple[list[dict[str, Any]], list[dict[str, Any]]]  # two pages


def role(name: str, template: str) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.directoryRole",
        "id": secrets.token_hex(8),
        "displayName": name,
        "roleTemplateId": template,
    }


def group(name: str) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.group",
        "id": secrets.token_hex(8),
        "displayName": name,
    }


ADMIN = Person(
    oid="a3c5e7f9-1b2d-4f6a-8c0e-2d4f6a8c0e1a",
    tenant=CONTOSO,
    name="Megan Bowen",
    upn="megan@contoso.example",
    # The role on the first page, the group on the second: both pages must be read.
    memberships=(
        [group("Sales"), role("Global Administrator", GLOBAL_ADMIN_ROLE_TEMPLATE_ID)],
        [group("AdminAgents")],
    ),
)
MEMBER = Person(
    oid="b4d6f8a0-2c3e-4a7b-9d1f-3e5a7b9d1f2b",
    tenant=CONTOSO,
    name="Alex Wilber",
    upn="alex@contoso.example",
    memberships=(
        [role("Reports Reader", "4a5d8f65-41da-4de4-8968-e035b65339cf")],
        [group("AdminAgents Fans"), group("HelpdeskAgents")],
    ),
)
GUEST_ADMIN = Person(
    oid="c5e7a9b1-3d4f-4b8c-8e2a-4f6b8c0e2a3c",
    tenant=FABRIKAM,
    name="Adele Vance",
    upn="adele@fabrikam.example",
    memberships=([role("Global Administrator", GLOBAL_ADMIN_ROLE_TEMPLATE_ID)], []),
)
ORGANIZATIONS = {
    CONTOSO: {
        "id": CONTOSO,
        "displayName": "Contoso Ltd",
        "verifiedDomains": [
            {"name": "contoso.example", "isDefault": True},
            {"name": "contoso.onmicrosoft.com", "isInitial": True},
        ],
    },
    FABRIKAM: {"id": FABRIKAM, "displayName": "Fabrikam", "verifiedDomains": []},
}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def sign_in_token(person: Person, *, lifetime: int = 3600) -> str:
    """What Teams single sign-on gives the bot: a JWT for the bot's app (unsigned here)."""
    now = int(time.time())
    claims = {
        "aud": CLIENT_ID,
        "iss": f"https://login.microsoftonline.com/{person.tenant}/v2.0",
        "tid": person.tenant,
        "oid": person.oid,
        "preferred_username": person.upn,
        "iat": now,
        "exp": now + lifetime,
        "jti": secrets.token_hex(8),  # every sign-in token differs
    }
    return f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(claims)}.{secrets.token_urlsafe(32)}"


@dataclass
class EntraAndGraphStandIn:
    """Entra ID for every tenant (one app, one secret) and Graph's user, groups and tenant."""

    client_secret: str
    people: dict[str, Person] = field(default_factory=dict)  # by sign-in token
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    graph_tokens: dict[str, Person] = field(default_factory=dict)  # issued, by access token
    refuse_with: dict[str, Any] | None = None  # the token endpoint's 400 body, when set
    # Answers to give Graph requests for a path before answering properly: (status, headers).
    failures: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        app.router.add_get(
            "/{tenant}/v2.0/.well-known/openid-configuration", self.openid_configuration
        )
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self.token)
        app.router.add_get("/v1.0/me", self.me)
        app.router.add_get("/v1.0/me/memberOf", self.member_of)
        app.router.add_get("/v1.0/organization", self.organization)
        return app

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        pending = self.failures.get(request.path)
        if pending:
            status, headers = pending.pop(0)
            return web.json_response(
                {
                    "error": {
                        "code": "serviceUnavailable" if status >= 500 else "TooManyRequests",
                        # A careless server echoes what it was sent.
                        "message": f"try later; you sent {request.headers.get('Authorization')}",
                    }
                },
                status=status,
                headers=headers,
            )
        response: web.StreamResponse = await handler(request)
        return response

    def graph_calls(self, path: str) -> int:
        return sum(1 for _method, asked in self.requests if asked == path)

    async def openid_configuration(self, request: web.Request) -> web.Response:
        authority = f"{request.url.origin()}/{request.match_info['tenant']}"
        return web.json_response(
            {
                "issuer": f"{authority}/v2.0",
                "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
                "token_endpoint": f"{authority}/oauth2/v2.0/token",
                "jwks_uri": f"{authority}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
            }
        )

    async def token(self, request: web.Request) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        self.token_requests.append(form)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != self.client_secret:
            return web.json_response({"error": "invalid_client"}, status=401)
        if form.get("grant_type") != JWT_BEARER or form.get("requested_token_use") != (
            "on_behalf_of"
        ):
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        person = self.people.get(form.get("assertion", ""))
        if self.refuse_with is not None or person is None:
            body = self.refuse_with or {"error": "invalid_grant", "error_codes": [50013]}
            return web.json_response(body, status=400)
        if person.tenant != request.match_info["tenant"]:
            return web.json_response({"error": "invalid_grant", "error_codes": [50020]}, 400)
        granted = [s for s in form["scope"].split() if s.startswith("https://graph.")]
        access_token = secrets.token_urlsafe(40)
        self.graph_tokens[access_token] = person
        return web.json_response(
            {
                "token_type": "Bearer",
                "scope": " ".join(granted),
                "expires_in": 3600,
                "ext_expires_in": 3600,
                "access_token": access_token,
                "refresh_token": secrets.token_urlsafe(40),
                "client_info": _b64({"uid": person.oid, "utid": person.tenant}),
            }
        )

    def _caller(self, request: web.Request) -> Person:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or token not in self.graph_tokens:
            raise web.HTTPUnauthorized(
                text=json.dumps({"error": {"code": "InvalidAuthenticationToken"}}),
                content_type="application/json",
            )
        return self.graph_tokens[token]

    async def me(self, request: web.Request) -> web.Response:
        person = self._caller(request)
        assert request.query["$select"] == "id,displayName,mail,userPrincipalName"
        return web.json_response(
            {
                "id": person.oid,
                "displayName": person.name,
                "mail": None,
                "userPrincipalName": (person.upn),
            }
        )

    async def member_of(self, request: web.Request) -> web.Response:
        person = self._caller(request)
        first, second = person.memberships
        if request.query.get("$skiptoken") == "page2":
            return web.json_response({"value": second})
        next_link = request.url.with_query(
            {"$select": request.query["$select"], "$skiptoken": "page2"}
        )
        return web.json_response({"value": first, "@odata.nextLink": str(next_link)})

    async def organization(self, request: web.Request) -> web.Response:
        person = self._caller(request)
        return web.json_response({"value": [ORGANIZATIONS[person.tenant]]})


@dataclass
class Deployment:
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
    with stand_in_session(deployment.certificate, deployment.guard) as session:
        yield session


@asynccontextmanager
async def graph_identity(
    deployment: Deployment, msal_session: requests.Session, **options: Any
) -> AsyncIterator[MsalGraphIdentityService]:
    """The Graph identity service with MSAL and Graph both pointed at the stand-in."""
    connector = TCPConnector(ssl=trusting_tls(deployment.certificate))
    async with ClientSession(connector=connector) as session:
        yield MsalGraphIdentityService(
            CLIENT_ID,
            SecretStr(deployment.stand_in.client_secret),
            authority_host=deployment.root,
            graph_url=deployment.root,
            http_session=session,
            http_client=msal_session,
            **options,
        )


def signs_in(deployment: Deployment, person: Person) -> str:
    token = sign_in_token(person)
    deployment.stand_in.people[token] = person
    return token


async def test_a_global_admin_in_the_admin_agents_group_is_known_with_roles_and_domains(
    deployment, msal_session
):
    stand_in = deployment.stand_in
    token = signs_in(deployment, ADMIN)

    async with graph_identity(deployment, msal_session) as identity:
        user = await identity.sign_in(token)

        assert identity.requires_sign_in
        assert (user.id, user.display_name, user.email) == (ADMIN.oid, ADMIN.name, ADMIN.upn)
        assert user.tenant_id == CONTOSO
        assert user.global_admin and user.admin_agent
        tenant = await identity.tenant(CONTOSO)
        assert tenant is not None and tenant.name == "Contoso Ltd"
        assert tenant.verified_domains == ("contoso.example", "contoso.onmicrosoft.com")
        assert await identity.user(ADMIN.oid) == user
        assert await identity.global_admins(CONTOSO) == [user]
        assert await identity.users() == []

    # MSAL asked the user's own tenant alone, once, on behalf of the user; then Graph.
    assert deployment.guard.refused == []
    assert stand_in.requests == [
        ("GET", f"/{CONTOSO}/v2.0/.well-known/openid-configuration"),
        ("POST", f"/{CONTOSO}/oauth2/v2.0/token"),
        ("GET", "/v1.0/me"),
        ("GET", "/v1.0/me/memberOf"),
        ("GET", "/v1.0/me/memberOf"),
        ("GET", "/v1.0/organization"),
    ]
    [asked] = stand_in.token_requests
    assert asked["grant_type"] == JWT_BEARER
    assert asked["requested_token_use"] == "on_behalf_of"
    assert asked["assertion"] == token
    assert asked["client_id"] == CLIENT_ID and asked["client_secret"] == stand_in.client_secret
    assert set(GRAPH_DELEGATED_SCOPES) <= set(asked["scope"].split())


async def test_a_user_who_is_neither_admin_nor_agent_is_known_as_such(deployment, msal_session):
    async with graph_identity(deployment, msal_session) as identity:
        admin = await identity.sign_in(signs_in(deployment, ADMIN))
        user = await identity.sign_in(signs_in(deployment, MEMBER))

        assert (user.id, user.tenant_id) == (MEMBER.oid, CONTOSO)
        assert not user.global_admin and not user.admin_agent
        # The journey names who can go on: the admin met so far, not this user.
        assert await identity.global_admins(CONTOSO) == [admin]
        assert await identity.user(MEMBER.oid) == user


async def test_signing_in_again_with_the_same_token_takes_the_graph_token_from_msals_cache(
    deployment, msal_session
):
    stand_in = deployment.stand_in
    token = signs_in(deployment, ADMIN)

    async with graph_identity(deployment, msal_session) as identity:
        first = await identity.sign_in(token)
        again = await identity.sign_in(token)
        assert len(stand_in.token_requests) == 1
        assert again == first
        assert stand_in.graph_calls("/v1.0/me") == 2  # Graph is asked afresh: roles change

        # A new sign-in token is exchanged anew, even for the same user.
        await identity.sign_in(signs_in(deployment, ADMIN))

    first_exchange, second_exchange = stand_in.token_requests
    assert first_exchange["assertion"] == token and second_exchange["assertion"] != token
    assert stand_in.graph_calls(f"/{CONTOSO}/v2.0/.well-known/openid-configuration") == 1


async def test_users_of_another_tenant_are_exchanged_at_their_own_tenant(deployment, msal_session):
    stand_in = deployment.stand_in

    async with graph_identity(deployment, msal_session) as identity:
        await identity.sign_in(signs_in(deployment, ADMIN))
        other = await identity.sign_in(signs_in(deployment, GUEST_ADMIN))

        assert other.tenant_id == FABRIKAM and other.global_admin and not other.admin_agent
        assert [u.id for u in await identity.global_admins(FABRIKAM)] == [GUEST_ADMIN.oid]
        assert [u.id for u in await identity.global_admins(CONTOSO)] == [ADMIN.oid]

    token_posts = [path for method, path in stand_in.requests if method == "POST"]
    assert token_posts == [f"/{CONTOSO}/oauth2/v2.0/token", f"/{FABRIKAM}/oauth2/v2.0/token"]


async def test_an_expired_sign_in_token_is_never_answered_from_the_cache(deployment, msal_session):
    stand_in = deployment.stand_in
    token = signs_in(deployment, ADMIN)
    later = FixedClock(datetime.now(UTC) + timedelta(hours=2))  # the token lives for one

    async with graph_identity(deployment, msal_session, clock=later) as identity:
        await identity.sign_in(token)
        await identity.sign_in(token)  # Entra ID decides (the stand-in does not check exp)

    assert len(stand_in.token_requests) == 2


async def test_memory_is_bounded_forgetting_the_least_recent_users_and_their_tokens(
    deployment, msal_session
):
    stand_in = deployment.stand_in
    admin_token, member_token = signs_in(deployment, ADMIN), signs_in(deployment, MEMBER)

    async with graph_identity(deployment, msal_session, remembered=1) as identity:
        await identity.sign_in(admin_token)
        await identity.sign_in(member_token)
        assert await identity.user(ADMIN.oid) is None
        assert await identity.user(MEMBER.oid) is not None

        await identity.sign_in(admin_token)  # forgotten: exchanged anew

    assert [form["assertion"] for form in stand_in.token_requests] == [
        admin_token,
        member_token,
        admin_token,
    ]


async def test_graph_throttling_is_waited_out_as_retry_after_asks(deployment, msal_session):
    stand_in = deployment.stand_in
    stand_in.failures["/v1.0/me"] = [(429, {"Retry-After": "1"})]

    async with graph_identity(deployment, msal_session) as identity:
        started = time.monotonic()
        user = await identity.sign_in(signs_in(deployment, ADMIN))
        waited = time.monotonic() - started

    assert user.global_admin
    assert stand_in.graph_calls("/v1.0/me") == 2
    assert waited >= 1.0


async def test_graph_failing_every_time_makes_identity_unavailable_without_a_token_in_sight(
    deployment, msal_session
):
    stand_in = deployment.stand_in
    stand_in.failures["/v1.0/organization"] = [(503, {"Retry-After": "0"})] * 5
    token = signs_in(deployment, ADMIN)

    async with graph_identity(deployment, msal_session, max_attempts=3) as identity:
        with pytest.raises(IdentityUnavailable) as failed:
            await identity.sign_in(token)

        assert await identity.user(ADMIN.oid) is None

    assert stand_in.graph_calls("/v1.0/organization") == 3
    reason = failed.value.reason
    assert "503" in reason and "/v1.0/organization" in reason
    [graph_token] = stand_in.graph_tokens
    assert token not in reason and graph_token not in reason
    assert "[token]" in reason  # what Graph echoed back was masked


async def test_a_sign_in_token_entra_refuses_asks_the_user_to_sign_in_again(
    deployment, msal_session
):
    stand_in = deployment.stand_in
    stand_in.refuse_with = {
        "error": "invalid_grant",
        "error_description": "AADSTS50013: Assertion failed signature validation.",
        "error_codes": [50013],
    }
    token = signs_in(deployment, ADMIN)

    async with graph_identity(deployment, msal_session) as identity:
        with pytest.raises(SignInRefused) as refused:
            await identity.sign_in(token)

    assert "invalid_grant" in refused.value.reason and "AADSTS50013" in refused.value.reason
    assert token not in refused.value.reason
    assert stand_in.graph_tokens == {} and stand_in.graph_calls("/v1.0/me") == 0


async def test_something_that_is_not_a_jwt_is_refused_before_anything_is_asked(
    deployment, msal_session
):
    async with graph_identity(deployment, msal_session) as identity:
        with pytest.raises(SignInRefused, match="not a JWT"):
            await identity.sign_in("not-a-token")

    assert deployment.stand_in.requests == []


async def test_no_log_record_carries_a_token(deployment, msal_session, caplog):
    stand_in = deployment.stand_in
    stand_in.failures["/v1.0/me"] = [(503, {"Retry-After": "0"})]
    token = signs_in(deployment, ADMIN)

    with caplog.at_level(logging.DEBUG):
        async with graph_identity(deployment, msal_session) as identity:
            await identity.sign_in(token)
            await identity.sign_in(token)
            stand_in.refuse_with = {"error": "invalid_grant", "error_codes": [50013]}
            with pytest.raises(SignInRefused):
                await identity.sign_in(signs_in(deployment, MEMBER))

    secrets_seen = [token, *stand_in.graph_tokens, stand_in.client_secret]
    written = [f"{record.getMessage()} {vars(record)}" for record in caplog.records]
    assert any("signed in through Microsoft Graph" in line for line in written)
    assert not [line for line in written if any(secret in line for secret in secrets_seen)]


def graph_settings(**values: str) -> Settings:
    return Settings(
        _env_file=None,
        IDENTITY_PROVIDER="graph",
        MicrosoftAppId=CLIENT_ID,
        MicrosoftAppPassword="s3cret",
        OAUTH_CONNECTION_NAME="TeamsSso",
        **values,
    )


async def test_the_directory_file_stays_the_default_and_graph_is_chosen_by_settings():
    directory = create_identity_service(Settings(_env_file=None), None)
    assert isinstance(directory, DirectoryIdentityService) and not directory.requires_sign_in
    with pytest.raises(IdentityUnavailable, match="IDENTITY_PROVIDER=graph"):
        await directory.sign_in("a token")

    async with ClientSession() as session:
        graph = create_identity_service(graph_settings(), session)
    assert isinstance(graph, MsalGraphIdentityService) and graph.requires_sign_in


def test_graph_identity_without_a_connection_name_or_password_is_refused_with_the_names():
    with pytest.raises(ValidationError, match="needs MicrosoftAppPassword, OAUTH_CONNECTION_NAME"):
        Settings(_env_file=None, IDENTITY_PROVIDER="graph", MicrosoftAppId=CLIENT_ID)
    with pytest.raises(ValidationError, match="UserAssignedMSI"):
        graph_settings(MicrosoftAppType="UserAssignedMSI")
    with pytest.raises(ValidationError):
        Settings(_env_file=None, IDENTITY_PROVIDER="ldap")
