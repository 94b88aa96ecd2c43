"""Graph identity with MSAL and the Graph client for real, against a local HTTPS stand-in.

One aiohttp server on 127.0.0.1, with a self-signed certificate (``tests.support.entra``),
answers like Entra ID for any tenant (its OpenID configuration, then the token endpoint's
on-behalf-of exchange) and like Microsoft Graph (``/me``, ``/me/memberOf`` in two pages,
``/organization``). The sign-in tokens are unsigned JWTs made there: the stand-in, like the
service, only reads them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from aiohttp import ClientSession
from pydantic import ValidationError

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
from tests.support.entra import (
    CLIENT_ID,
    CONTOSO,
    FABRIKAM,
    JWT_BEARER,
    Deployment,
    Person,
    graph_identity,
    group,
    msal_session_for,
    role,
    serving_entra_and_graph,
    signs_in,
)
from tests.support.https import Certificate, self_signed_certificate

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


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return self_signed_certificate(tmp_path)


@pytest.fixture
async def deployment(certificate: Certificate) -> AsyncIterator[Deployment]:
    async with serving_entra_and_graph(certificate) as deployment:
        yield deployment


@pytest.fixture
def msal_session(deployment: Deployment) -> Iterator[requests.Session]:
    with msal_session_for(deployment) as session:
        yield session


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
