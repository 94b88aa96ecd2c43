"""Bot Framework authentication that validates a token once and builds clients once.

The stock ``CloudAdapter`` asks its ``BotFrameworkAuthentication`` for a new connector factory
on every request, and the factory builds a new ``ConnectorClient`` (msrest configuration and
retry policy included) every turn; ``create_user_token_client`` likewise builds a new token
client. Each costs several milliseconds of CPU. This wrapper caches the outbound clients by
what makes them differ (app id, service URL, audience), which is the SDK's own extension point
for it.

Inbound, the SDK parses each token four times and rebuilds the signing key from its JWK on
every request (about 0.8 ms of CPU), while a channel reuses one token for many requests. So a
request whose ``Authorization`` header, channel id and service URL were all accepted together
before reuses that verdict (``AcceptedTokens``) until the token expires, with the SDK's clock
skew, or an hour has passed, whichever comes first. Everything else the token is checked
against (issuer, audience, signature, signing-key endorsements) is fixed for a given header
and configuration; the service URL claim and the channel's endorsement depend on the request,
which is why both are part of the key. Anything else goes through the SDK's full validation,
and a refusal is never remembered: a forged or expired token pays for full validation, every
time.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botbuilder.schema import Activity
from botframework.connector import Channels
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from botframework.connector.skills import BotFrameworkClient

__all__ = ["AcceptedTokens", "CachingBotFrameworkAuthentication"]

_MAX_CLIENTS = 256  # service URLs are a handful per cloud; bound it anyway
CLOCK_SKEW_SECONDS = 5 * 60  # what the SDK allows past a token's expiry (VerifyOptions)
# How long an accepted token is trusted without asking the SDK again: it bounds how long a
# signing key withdrawn from the OpenID metadata keeps working (the SDK itself re-reads the
# metadata once a day).
MAX_TRUST_SECONDS = 60 * 60
MAX_TOKENS = 4096  # a channel hands out one token to many requests; bound it anyway


def _app_id(claims_identity: ClaimsIdentity | None) -> str:
    if claims_identity is None:
        return ""
    return str(
        claims_identity.get_claim_value(AuthenticationConstants.AUDIENCE_CLAIM)
        or claims_identity.get_claim_value(AuthenticationConstants.APP_ID_CLAIM)
        or ""
    )


class _LruCache(OrderedDict[Any, Any]):
    def remember(self, key: Any, value: Any) -> Any:
        self[key] = value
        if len(self) > _MAX_CLIENTS:
            self.popitem(last=False)
        return value


class _CachingConnectorFactory(ConnectorFactory):
    def __init__(self, inner: ConnectorFactory, app_id: str, cache: _LruCache) -> None:
        self._inner = inner
        self._app_id = app_id
        self._cache = cache

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (self._app_id, service_url, audience)
        client = self._cache.get(key)
        if client is None:
            client = self._cache.remember(key, await self._inner.create(service_url, audience))
        else:
            self._cache.move_to_end(key)
        return client


@dataclass(frozen=True)
class _Accepted:
    """What the SDK's full validation concluded for one header, channel and service URL."""

    claims: dict[str, Any]
    authentication_type: str | None
    audience: str | None
    caller_id: str | None
    connector_factory: ConnectorFactory | None
    trusted_until: float  # epoch seconds

    def result(self) -> AuthenticateRequestResult:
        """A fresh result, as the SDK would have built it (claims copied: callers may add)."""
        result = AuthenticateRequestResult()
        result.claims_identity = ClaimsIdentity(dict(self.claims), True, self.authentication_type)
        result.audience = self.audience
        result.caller_id = self.caller_id
        result.connector_factory = self.connector_factory
        return result


class AcceptedTokens:
    """Requests whose token the SDK accepted, by header, channel id and service URL.

    Only acceptances go in; an entry stops counting at the token's ``exp`` plus the SDK's
    clock skew, or ``max_trust`` seconds after it went in, whichever is sooner. ``clock``
    (epoch seconds) is for tests.
    """

    def __init__(
        self,
        *,
        max_entries: int = MAX_TOKENS,
        max_trust: float = MAX_TRUST_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._entries: OrderedDict[tuple[bytes, str, str], _Accepted] = OrderedDict()
        self._max_entries = max_entries
        self._max_trust = max_trust
        self._clock = clock

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def key(activity: Activity, auth_header: str) -> tuple[bytes, str, str]:
        """The cache key: the header's SHA-256 (not the token itself), channel, service URL."""
        digest = hashlib.sha256(auth_header.encode()).digest()
        return digest, activity.channel_id or "", activity.service_url or ""

    def get(self, key: tuple[bytes, str, str]) -> AuthenticateRequestResult | None:
        """The remembered result for ``key``, unless there is none or it has run out."""
        accepted = self._entries.get(key)
        if accepted is None:
            return None
        if self._clock() >= accepted.trusted_until:
            del self._entries[key]
            return None
        return accepted.result()

    def remember(self, key: tuple[bytes, str, str], result: AuthenticateRequestResult) -> None:
        """Keep an accepted ``result`` (an authenticated identity with claims) for ``key``."""
        identity = result.claims_identity
        if identity is None or not identity.is_authenticated or not identity.claims:
            return  # anonymous: nothing was validated, nothing to remember
        trusted_until = self._clock() + self._max_trust
        expiry = identity.claims.get("exp")
        if isinstance(expiry, int | float) and not isinstance(expiry, bool):
            # PyJWT refuses a token once ``exp <= now - leeway``.
            trusted_until = min(trusted_until, float(expiry) + CLOCK_SKEW_SECONDS)
        self._entries[key] = _Accepted(
            claims=dict(identity.claims),
            authentication_type=identity.authentication_type,
            audience=result.audience,
            caller_id=result.caller_id,
            connector_factory=result.connector_factory,
            trusted_until=trusted_until,
        )
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


class CachingBotFrameworkAuthentication(BotFrameworkAuthentication):
    """Delegate to ``inner``, reusing accepted tokens and outbound clients across turns."""

    def __init__(
        self, inner: BotFrameworkAuthentication, accepted: AcceptedTokens | None = None
    ) -> None:
        self._inner = inner
        self._connectors = _LruCache()
        self._token_clients = _LruCache()
        self._accepted = accepted if accepted is not None else AcceptedTokens()
        self._anonymous: _Accepted | None = None

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        """Validate the inbound request (or reuse an earlier acceptance of the same one)."""
        if not auth_header:
            return await self._authenticate_anonymous(activity)
        key = self._accepted.key(activity, auth_header)
        result = self._accepted.get(key)
        if result is None:
            result = await self._authenticate_fully(activity, auth_header)
            self._accepted.remember(key, result)
        return result

    async def _authenticate_anonymous(self, activity: Activity) -> AuthenticateRequestResult:
        """A request without a token: refused when an app id is configured (every time, by the
        SDK), anonymous otherwise.

        The SDK's anonymous verdict depends only on the configuration, except for the
        Emulator's skill calls: once it has said "anonymous", a fresh copy of that result
        answers the next requests, without the ten objects it builds to say it again.
        """
        reusable = activity.channel_id != Channels.emulator
        if reusable and self._anonymous is not None:
            return self._anonymous.result()
        result = await self._authenticate_fully(activity, "")
        identity = result.claims_identity
        if (
            reusable
            and identity is not None
            and identity.authentication_type == AuthenticationConstants.ANONYMOUS_AUTH_TYPE
            and not identity.claims
        ):
            self._anonymous = _Accepted(
                claims={},
                authentication_type=identity.authentication_type,
                audience=result.audience,
                caller_id=result.caller_id,
                connector_factory=result.connector_factory,
                trusted_until=float("inf"),  # the configuration does not change
            )
        return result

    async def _authenticate_fully(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _CachingConnectorFactory(
                result.connector_factory, _app_id(result.claims_identity), self._connectors
            )
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        """Validate a streaming request (unchanged)."""
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        """A connector factory for proactive sends, sharing the cache."""
        return _CachingConnectorFactory(
            self._inner.create_connector_factory(claims_identity),
            _app_id(claims_identity),
            self._connectors,
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        """The app's user-token client, built once per app id."""
        key = _app_id(claims_identity)
        client = self._token_clients.get(key)
        if client is None:
            client = self._token_clients.remember(
                key, await self._inner.create_user_token_client(claims_identity)
            )
        return client

    def create_bot_framework_client(self) -> BotFrameworkClient:
        """A client for skill calls (unchanged)."""
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        """The audience of outbound calls (unchanged)."""
        return str(self._inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        """Validate a channel-service request (unchanged)."""
        return await self._inner.authenticate_channel_request(auth_header)
