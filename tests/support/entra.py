"""An HTTPS stand-in for Microsoft Entra ID and Microsoft Graph, for MSAL and Graph clients.

One aiohttp server on 127.0.0.1, with a self-signed certificate (``tests.support.https``),
answers like Entra ID for any tenant (its OpenID configuration, then the token endpoint's
on-behalf-of exchange) and like Microsoft Graph (``/me``, ``/me/memberOf`` in two pages,
``/organization``). The sign-in tokens are unsigned JWTs made here (``sign_in_token``): the
stand-in, like the bot's identity service, only reads them. ``serving_entra_and_graph`` runs it;
``graph_identity`` builds the real ``MsalGraphIdentityService`` pointed at it.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from aiohttp import ClientSession, TCPConnector, web
from pydantic import SecretStr

from services.graph_identity import MsalGraphIdentityService
from tests.support.https import (
    Certificate,
    StandInOnly,
    serving_https,
    stand_in_session,
    trusting_tls,
)

__all__ = [
    "CLIENT_ID",
    "CONTOSO",
    "FABRIKAM",
    "JWT_BEARER",
    "ORGANIZATIONS",
    "Deployment",
    "EntraAndGraphStandIn",
    "Person",
    "graph_identity",
    "group",
    "msal_session_for",
    "role",
    "serving_entra_and_graph",
    "sign_in_token",
    "signs_in",
]

CLIENT_ID = "0f6e2d1c-7b3a-4e59-8c1d-2a3b4c5d6e7f"  # the bot's app: the sign-in token's audience
CONTOSO = "3b0e7c44-5d1a-4c8e-9f2b-6a7d8e9f0a1b"
FABRIKAM = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True)
class Person:
    """A user as Entra ID and Graph know them: their token's claims and their memberships."""

    oid: str
    tenant: str
    name: str
    upn: str
    memberships: tuple[list[dict[str, Any]], list[dict[str, Any]]]  # two pages


def role(name: str, template: str) -> dict[str, Any]:
    """A directory role as ``/me/memberOf`` lists it."""
    return {
        "@odata.type": "#microsoft.graph.directoryRole",
        "id": secrets.token_hex(8),
        "displayName": name,
        "roleTemplateId": template,
    }


def group(name: str) -> dict[str, Any]:
    """A group as ``/me/memberOf`` lists it."""
    return {
        "@odata.type": "#microsoft.graph.group",
        "id": secrets.token_hex(8),
        "displayName": name,
    }


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
    organizations: dict[str, dict[str, Any]] = field(
        default_factory=lambda: dict(ORGANIZATIONS)
    )  # Graph's /organization, by tenant id
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
        return web.json_response({"value": [self.organizations[person.tenant]]})


@dataclass
class Deployment:
    stand_in: EntraAndGraphStandIn
    root: str
    certificate: Certificate
    guard: StandInOnly


@asynccontextmanager
async def serving_entra_and_graph(certificate: Certificate) -> AsyncIterator[Deployment]:
    """Serve a fresh stand-in over HTTPS on 127.0.0.1 for the duration of the block."""
    stand_in = EntraAndGraphStandIn(client_secret=secrets.token_urlsafe(30))
    async with serving_https(stand_in.app(), certificate) as root:
        yield Deployment(stand_in, root, certificate, StandInOnly(root))


@contextmanager
def msal_session_for(deployment: Deployment) -> Iterator[requests.Session]:
    """The ``requests`` session MSAL talks through: to the stand-in, and nowhere else."""
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
    """A new sign-in token for ``person``, one the stand-in's token endpoint accepts."""
    token = sign_in_token(person)
    deployment.stand_in.people[token] = person
    return token
