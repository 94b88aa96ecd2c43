"""Inbound token validation: the SDK's full checks, once per token, and never a refusal saved.

The SDK validates against a local stand-in for the Bot Framework's OpenID metadata and signing
keys (``tests/support/botframework_tokens.py``); a counting wrapper around the SDK's own
authentication shows when the full validation ran.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
)

from bot.authentication import AcceptedTokens, CachingBotFrameworkAuthentication
from tests.conftest import make_settings
from tests.support.botframework_tokens import (
    APP_ID,
    SERVICE_URL,
    MetadataStandIn,
    SigningKey,
    channel_token,
    channel_validation_at,
    serving_openid_metadata,
)

OTHER_SERVICE_URL = "https://smba.trafficmanager.net/amer/"


class CountingAuthentication(ConfigurationBotFrameworkAuthentication):  # type: ignore[misc]
    """The SDK's authentication, counting its full validations and their outcomes."""

    def __init__(self, configuration: Any) -> None:
        super().__init__(configuration)
        self.outcomes: list[str] = []

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        try:
            result = await super().authenticate_request(activity, auth_header)
        except Exception:
            self.outcomes.append("refused")
            raise
        self.outcomes.append("accepted")
        return result


@pytest.fixture(scope="module")
def channel_key() -> SigningKey:
    return SigningKey.generate("channel-key", ["msteams", "webchat"])


@pytest.fixture(scope="module")
def forger_key() -> SigningKey:
    return SigningKey.generate("channel-key")  # same key id, another key


@pytest.fixture
def metadata(channel_key: SigningKey) -> Iterator[MetadataStandIn]:
    stand_in = MetadataStandIn([channel_key])
    with serving_openid_metadata(stand_in) as url, channel_validation_at(url):
        yield stand_in


def sdk_configuration(app_id: str = APP_ID) -> SimpleNamespace:
    """What ``bot.adapter.create_adapter`` gives the SDK for a multi-tenant app."""
    return SimpleNamespace(
        APP_ID=app_id,
        APP_PASSWORD="not-a-real-secret" if app_id else "",
        APP_TYPE="MultiTenant",
        APP_TENANTID="",
    )


def sdk_authentication(app_id: str = APP_ID) -> CountingAuthentication:
    return CountingAuthentication(sdk_configuration(app_id))


def activity(channel_id: str = "msteams", service_url: str = SERVICE_URL) -> Activity:
    return Activity(type="message", channel_id=channel_id, service_url=service_url)


def outcome_fields(result: AuthenticateRequestResult) -> dict[str, Any]:
    identity = result.claims_identity
    return {
        "claims": identity.claims,
        "is_authenticated": identity.is_authenticated,
        "authentication_type": identity.authentication_type,
        "audience": result.audience,
        "caller_id": result.caller_id,
        "has_connector_factory": result.connector_factory is not None,
    }


async def test_a_valid_channel_token_is_fully_validated_once_for_many_requests(
    metadata: MetadataStandIn, channel_key: SigningKey
) -> None:
    sdk = sdk_authentication()
    authentication = CachingBotFrameworkAuthentication(sdk)
    header = channel_token(channel_key)

    first = await authentication.authenticate_request(activity(), header)
    later = [await authentication.authenticate_request(activity(), header) for _ in range(20)]

    assert sdk.outcomes == ["accepted"]
    assert first.claims_identity.claims["aud"] == APP_ID
    assert first.audience == AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
    assert all(outcome_fields(result) == outcome_fields(first) for result in later)
    # Same shape as the SDK's own answer to the same request.
    assert outcome_fields(first) == outcome_fields(
        await ConfigurationBotFrameworkAuthentication(sdk_configuration()).authenticate_request(
            activity(), header
        )
    )


def bad_tokens(channel_key: SigningKey, forger_key: SigningKey) -> dict[str, str]:
    return {
        "forged with another key": channel_token(forger_key),
        "signed by an unknown key": channel_token(SigningKey.generate("unknown-key", ["msteams"])),
        "expired": channel_token(channel_key, expires_at=time.time() - 400),
        "for another bot": channel_token(channel_key, app_id=str(uuid.uuid4())),
        "from another issuer": channel_token(channel_key, issuer="https://evil.example"),
        "for another service URL": channel_token(channel_key, service_url=OTHER_SERVICE_URL),
        "from a channel its key does not endorse": channel_token(channel_key),
    }


BAD = [
    "forged with another key",
    "signed by an unknown key",
    "expired",
    "for another bot",
    "from another issuer",
    "for another service URL",
    "from a channel its key does not endorse",
]


@pytest.mark.parametrize("kind", BAD)
async def test_a_bad_token_is_refused_and_fully_validated_every_time(
    metadata: MetadataStandIn, channel_key: SigningKey, forger_key: SigningKey, kind: str
) -> None:
    sdk = sdk_authentication()
    authentication = CachingBotFrameworkAuthentication(sdk)
    header = bad_tokens(channel_key, forger_key)[kind]
    request = activity("slack") if kind == "from a channel its key does not endorse" else activity()

    for _ in range(3):
        with pytest.raises(Exception):  # noqa: B017 (the SDK raises several kinds)
            await authentication.authenticate_request(request, header)

    assert sdk.outcomes == ["refused"] * 3


async def test_a_token_accepted_for_one_service_url_is_refused_for_another(
    metadata: MetadataStandIn, channel_key: SigningKey
) -> None:
    sdk = sdk_authentication()
    authentication = CachingBotFrameworkAuthentication(sdk)
    header = channel_token(channel_key)
    await authentication.authenticate_request(activity(), header)

    for _ in range(2):
        with pytest.raises(PermissionError, match="service_url"):
            await authentication.authenticate_request(
                activity(service_url=OTHER_SERVICE_URL), header
            )
    await authentication.authenticate_request(activity(), header)  # still fine where it was

    assert sdk.outcomes == ["accepted", "refused", "refused"]


async def test_a_token_accepted_for_one_channel_is_refused_for_a_channel_not_endorsed(
    metadata: MetadataStandIn, channel_key: SigningKey
) -> None:
    sdk = sdk_authentication()
    authentication = CachingBotFrameworkAuthentication(sdk)
    header = channel_token(channel_key)
    await authentication.authenticate_request(activity("msteams"), header)

    for _ in range(2):
        with pytest.raises(Exception, match="endorsement"):
            await authentication.authenticate_request(activity("slack"), header)
    await authentication.authenticate_request(activity("webchat"), header)  # endorsed

    assert sdk.outcomes == ["accepted", "refused", "refused", "accepted"]


async def test_a_cached_token_is_refused_once_it_expires(
    metadata: MetadataStandIn, channel_key: SigningKey
) -> None:
    sdk = sdk_authentication()
    authentication = CachingBotFrameworkAuthentication(sdk)
    # Past its exp, but within the SDK's five minutes of clock skew for another second or two.
    expires_at = int(time.time()) - 300 + 2
    header = channel_token(channel_key, expires_at=expires_at)
    await authentication.authenticate_request(activity(), header)
    await authentication.authenticate_request(activity(), header)

    await asyncio.sleep(max(0.0, expires_at + 300 - time.time()) + 0.05)
    for _ in range(2):
        with pytest.raises(Exception, match="expired"):
            await authentication.authenticate_request(activity(), header)

    assert sdk.outcomes == ["accepted", "refused", "refused"]


async def test_the_cache_never_answers_for_a_token_past_its_expiry_or_after_an_hour(
    metadata: MetadataStandIn, channel_key: SigningKey
) -> None:
    now = [time.time()]
    sdk = sdk_authentication()
    authentication = CachingBotFrameworkAuthentication(sdk, AcceptedTokens(clock=lambda: now[0]))
    short = channel_token(channel_key, lifetime=600)
    long = channel_token(channel_key, lifetime=3 * 3600)
    await authentication.authenticate_request(activity(), short)
    await authentication.authenticate_request(activity(), long)

    now[0] += 600 + 300  # short's exp plus the clock skew: the SDK decides again
    await authentication.authenticate_request(activity(), short)
    await authentication.authenticate_request(activity(), long)  # still from the cache
    now[0] += 3600  # an hour after long went in: the signing key is checked again
    await authentication.authenticate_request(activity(), long)

    assert sdk.outcomes == ["accepted"] * 4


async def test_the_cache_keeps_only_the_latest_tokens(
    metadata: MetadataStandIn, channel_key: SigningKey
) -> None:
    sdk = sdk_authentication()
    accepted = AcceptedTokens(max_entries=2)
    authentication = CachingBotFrameworkAuthentication(sdk, accepted)
    headers = [channel_token(channel_key, jti=str(n)) for n in range(3)]
    for header in [*headers, headers[2], headers[0]]:
        await authentication.authenticate_request(activity(), header)

    assert len(accepted) == 2
    assert sdk.outcomes == ["accepted"] * 4  # the first had been dropped


async def test_without_an_app_id_requests_without_a_token_stay_anonymous() -> None:
    sdk = sdk_authentication(app_id="")
    authentication = CachingBotFrameworkAuthentication(sdk)

    results = [await authentication.authenticate_request(activity(), "") for _ in range(3)]
    with pytest.raises(Exception):  # noqa: B017 (jwt's DecodeError)
        await authentication.authenticate_request(activity(), "Bearer garbage")

    assert [r.claims_identity.authentication_type for r in results] == ["anonymous"] * 3
    assert all(r.claims_identity.claims == {} and r.caller_id is None for r in results)
    assert all(r.claims_identity.is_authenticated for r in results)  # as the SDK marks it
    assert [outcome_fields(r) for r in results[1:]] == [outcome_fields(results[0])] * 2
    assert results[1].claims_identity is not results[2].claims_identity  # each its own
    # The SDK said "anonymous" once; its verdict is reused, a token is still checked.
    assert sdk.outcomes == ["accepted", "refused"]


async def test_without_an_app_id_the_emulators_requests_always_go_to_the_sdk() -> None:
    sdk = sdk_authentication(app_id="")
    authentication = CachingBotFrameworkAuthentication(sdk)

    for _ in range(2):
        result = await authentication.authenticate_request(activity("emulator"), "")
        assert result.claims_identity.authentication_type == "anonymous"

    assert sdk.outcomes == ["accepted"] * 2


async def test_with_an_app_id_a_request_without_a_token_is_refused_every_time() -> None:
    sdk = sdk_authentication()
    authentication = CachingBotFrameworkAuthentication(sdk)

    for _ in range(2):
        with pytest.raises(PermissionError):
            await authentication.authenticate_request(activity(), "")

    assert sdk.outcomes == ["refused"] * 2


async def test_over_http_a_valid_token_gets_an_answer_and_a_forged_one_a_401(
    serve_app: Any,
    sqlite_url: str,
    metadata: MetadataStandIn,
    channel_key: SigningKey,
    forger_key: SigningKey,
) -> None:
    base = await serve_app(
        make_settings(
            sqlite_url, microsoft_app_id=APP_ID, microsoft_app_password="not-a-real-secret"
        )
    )
    body = {
        "type": "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": SERVICE_URL,
        "from": {"id": "29:user-1", "name": "Mei Lin"},
        "recipient": {"id": "28:bot", "name": "Membership bot"},
        "conversation": {"id": f"a:{uuid.uuid4().hex}"},
        "locale": "en-US",
        "deliveryMode": "expectReplies",
        "text": "help",
    }
    valid, forged = channel_token(channel_key), channel_token(forger_key)

    statuses = []
    async with aiohttp.ClientSession() as http:
        for header in [valid, valid, forged, valid, forged]:
            async with http.post(
                f"{base}/api/messages", json=body, headers={"Authorization": header}
            ) as response:
                statuses.append(response.status)
                if response.status == 200:
                    assert (await response.json())["activities"]

    assert statuses == [200, 200, 401, 200, 401]
    assert metadata.requests == [
        "/v1/.well-known/openidconfiguration",
        "/v1/.well-known/keys",
    ]
