"""A Bot Framework token service stand-in on loopback: where the bot's OAuth connection lives.

The SDK's ``UserTokenClient`` (botframework-connector 4.17.1, ``token_api``) calls, relative to
``OAUTH_URL``, with ``api-version`` on every query:

- ``GET /api/usertoken/GetToken?userId&connectionName&channelId[&code]``: the user's token for
  the connection (200 ``TokenResponse``), or 404 when the service has none;
- ``GET /api/botsignin/GetSignInResource?state[&finalRedirect]``: ``state`` is the base64 JSON
  ``TokenExchangeState`` (connection name, conversation reference, bot URL, app id); the answer
  is a ``SignInUrlResponse``: ``signInLink`` and ``tokenExchangeResource`` (``id``, ``uri``,
  ``providerId``), which the OAuth card carries for Teams single sign-on;
- ``POST /api/usertoken/exchange?userId&connectionName&channelId`` with ``{"uri", "token"}``:
  the connection's token for Teams' single sign-on token (200 ``TokenResponse``), 400
  ``ErrorResponse`` when the service cannot exchange it (consent needed, for example), 404;
- ``DELETE /api/usertoken/SignOut?userId[&connectionName][&channelId]``.

Every request is recorded (``calls``), with its query and JSON body, so a test can count the
exchanges.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

__all__ = ["TokenServiceCall", "TokenServiceStandIn", "token_service_stand_in"]

EXCHANGE_URI = "api://botid-0f6e2d1c-7b3a-4e59-8c1d-2a3b4c5d6e7f"  # the app's SSO resource


@dataclass(frozen=True)
class TokenServiceCall:
    """One request the token service received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str | None


@dataclass
class TokenServiceStandIn:
    """Holds users' tokens per connection, and the single sign-on tokens it can exchange."""

    url: str = ""
    # Teams' single sign-on token -> the connection's token it is exchanged for.
    exchangeable: dict[str, str] = field(default_factory=dict)
    # (user id, connection name, channel id) -> the token the service keeps for the user.
    tokens: dict[tuple[str, str, str], str] = field(default_factory=dict)
    calls: list[TokenServiceCall] = field(default_factory=list)
    refuse_status: int = 404  # how an exchange it cannot make is answered: 404 or 400

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/api/usertoken/GetToken", self.get_token)
        app.router.add_get("/api/botsignin/GetSignInResource", self.get_sign_in_resource)
        app.router.add_post("/api/usertoken/exchange", self.exchange)
        app.router.add_delete("/api/usertoken/SignOut", self.sign_out)
        return app

    def called(self, path: str) -> list[TokenServiceCall]:
        """The calls to ``path``, in order."""
        return [call for call in self.calls if call.path == path]

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.json() if request.can_read_body else None
        self.calls.append(
            TokenServiceCall(
                request.method,
                request.path,
                dict(request.query),
                body,
                request.headers.get("Authorization"),
            )
        )
        response: web.StreamResponse = await handler(request)
        return response

    @staticmethod
    def _token_response(connection: str, channel: str, token: str) -> dict[str, Any]:
        expiration = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        return {
            "channelId": channel,
            "connectionName": connection,
            "token": token,
            "expiration": expiration,
        }

    async def get_token(self, request: web.Request) -> web.Response:
        query = request.query
        key = (query["userId"], query["connectionName"], query.get("channelId", ""))
        token = self.tokens.get(key)
        if token is None:
            return web.Response(status=404)
        return web.json_response(self._token_response(key[1], key[2], token))

    async def get_sign_in_resource(self, request: web.Request) -> web.Response:
        state = json.loads(base64.b64decode(request.query["state"]))
        connection = state["connectionName"]
        return web.json_response(
            {
                "signInLink": f"{self.url}/api/oauth/signin?signin={uuid.uuid4().hex}",
                "tokenExchangeResource": {
                    "id": uuid.uuid4().hex,
                    "uri": EXCHANGE_URI,
                    "providerId": f"provider-for-{connection}",
                },
            }
        )

    async def exchange(self, request: web.Request) -> web.Response:
        query = request.query
        user, connection, channel = query["userId"], query["connectionName"], query["channelId"]
        body = await request.json()
        token = self.exchangeable.get(str(body.get("token")))
        if token is None:  # Entra ID wants the user's consent first, for example
            if self.refuse_status == 404:
                return web.Response(status=404)
            return web.json_response(
                {"error": {"code": "ServiceError", "message": "consent_required"}},
                status=self.refuse_status,
            )
        self.tokens[(user, connection, channel)] = token
        return web.json_response(self._token_response(connection, channel, token))

    async def sign_out(self, request: web.Request) -> web.Response:
        query = request.query
        for key in [k for k in self.tokens if k[0] == query["userId"]]:
            del self.tokens[key]
        return web.Response(status=200)


@asynccontextmanager
async def token_service_stand_in() -> AsyncIterator[TokenServiceStandIn]:
    """Serve a token service stand-in on 127.0.0.1 for the duration of the block."""
    stand_in = TokenServiceStandIn()
    async with TestServer(stand_in.app(), host="127.0.0.1") as server:
        stand_in.url = str(server.make_url("")).rstrip("/")
        yield stand_in
