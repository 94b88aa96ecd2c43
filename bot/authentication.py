"""Bot Framework authentication that builds its outbound clients once, not once per turn.

The stock ``CloudAdapter`` asks its ``BotFrameworkAuthentication`` for a new connector factory
on every request, and the factory builds a new ``ConnectorClient`` (msrest configuration and
retry policy included) every turn; ``create_user_token_client`` likewise builds a new token
client. Each costs several milliseconds of CPU. This wrapper keeps the inbound validation as
it is and caches the outbound clients by what makes them differ (app id, service URL,
audience), which is the SDK's own extension point for it.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from botbuilder.schema import Activity
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

__all__ = ["CachingBotFrameworkAuthentication"]

_MAX_CLIENTS = 256  # service URLs are a handful per cloud; bound it anyway


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


class CachingBotFrameworkAuthentication(BotFrameworkAuthentication):
    """Delegate to ``inner``, reusing connector and user-token clients across turns."""

    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        self._inner = inner
        self._connectors = _LruCache()
        self._token_clients = _LruCache()

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        """Validate the inbound request, then hand out the cached connector factory."""
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
