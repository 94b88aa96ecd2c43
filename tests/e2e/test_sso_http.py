"""Teams single sign-on end to end: the real app over HTTP, the SDK's own token client and MSAL.

Three servers on 127.0.0.1 stand in for what is outside the bot:

- a Bot Framework token service (``tests.support.token_service``), the app's ``BOT_OAUTH_URL``:
  the SDK's ``UserTokenClient`` asks it for the user's token, the sign-in resource the OAuth
  card carries, and the exchange of Teams' single sign-on token;
- Microsoft Entra ID and Microsoft Graph over HTTPS (``tests.support.entra``): MSAL's
  on-behalf-of exchange, then ``/me``, ``/me/memberOf`` and ``/organization``;
- a connector (``tests.support.connector``), the activities' ``serviceUrl``: every message the
  bot sends arrives there; invoke responses come back in the HTTP response of the invoke.

The app is ``create_app`` with the services ``app.py`` builds, on a SQLite file with the demo
data, its identity the real ``MsalGraphIdentityService``. No ``MicrosoftAppId``: the requests
carry no Bot Framework token.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import update

from app import Services, create_app
from services import db
from services.clock import SystemClock
from services.contact_verification import EmailContactVerification
from services.conversations import SqlConversationReferences
from services.demo_data import load_demo
from services.graph_identity import GLOBAL_ADMIN_ROLE_TEMPLATE_ID, MsalGraphIdentityService
from services.membership import MembershipService
from services.state_repository import SqlAlchemyStateRepository
from services.tables import OrganizationRow
from services.unit_of_work import UnitOfWorkFactory
from tests.conftest import free_port, make_settings
from tests.support.connector import ConnectorStandIn, connector_stand_in
from tests.support.entra import (
    CLIENT_ID,
    Deployment,
    Person,
    group,
    msal_session_for,
    role,
    serving_entra_and_graph,
    sign_in_token,
)
from tests.support.https import Certificate, self_signed_certificate, trusting_tls
from tests.support.token_service import TokenServiceStandIn, token_service_stand_in

CONNECTION = "teams-sso"
OAUTH_CARD = "application/vnd.microsoft.card.oauth"
CONTOSO_TW = "7f3c2a10-0000-4000-8000-000000c0de01"  # the demo directory's Contoso tenant
SIGN_IN_TEXT = "First, sign in with your work account"
BOT = {"id": "28:bot", "name": "Membership bot"}

MEI_LIN = Person(
    oid="mei.lin",
    tenant=CONTOSO_TW,
    name="Mei Lin",
    upn="mei.lin@contoso.example",
    memberships=(
        [role("Global Administrator", GLOBAL_ADMIN_ROLE_TEMPLATE_ID)],
        [group("AdminAgents")],
    ),
)
DAVID_CHEN = Person(
    oid="david.chen",
    tenant=CONTOSO_TW,
    name="David Chen",
    upn="david.chen@contoso.example",
    memberships=([group("Sales")], []),
)
CONTOSO_TW_ORGANIZATION = {
    "id": CONTOSO_TW,
    "displayName": "Contoso Taiwan",
    "verifiedDomains": [{"name": "contoso.example", "isDefault": True}],
}


@dataclass
class World:
    """The bot's URL and everything outside it, as the test sees them."""

    url: str
    connector: ConnectorStandIn
    token_service: TokenServiceStandIn
    entra: Deployment
    http: aiohttp.ClientSession
    database_url: str
    identity: MsalGraphIdentityService


class TeamsClient:
    """A user's Teams client in a one-to-one chat with the bot."""

    def __init__(self, world: World, person: Person, slot: str) -> None:
        self.world = world
        self.person = person
        self.account = {"id": f"29:{slot}", "name": person.name, "aadObjectId": person.oid}
        self.conversation = f"a:{uuid.uuid4().hex}"

    def activity(self, kind: str, **fields: Any) -> dict[str, Any]:
        tenant = self.person.tenant
        return {
            "type": kind,
            "id": uuid.uuid4().hex,
            "channelId": "msteams",
            "serviceUrl": self.world.connector.url,
            "from": self.account,
            "recipient": BOT,
            "conversation": {
                "id": self.conversation,
                "conversationType": "personal",
                "tenantId": tenant,
            },
            "channelData": {"tenant": {"id": tenant}},
            "locale": "en-US",
            **fields,
        }

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        async with self.world.http.post(
            f"{self.world.url}/api/messages", json=activity
        ) as response:
            body = await response.json() if response.content_length else None
            return response.status, body

    async def say(self, text: str) -> list[dict[str, Any]]:
        """Send a message; return what the bot posted to the connector for it."""
        before = len(self.world.connector.activities)
        status, _body = await self.post(self.activity("message", text=text))
        assert status in (200, 201)
        return self.world.connector.activities[before:]

    async def exchange(self, exchange_id: str, sso_token: str) -> tuple[int, Any, list[Any]]:
        """Send Teams' ``signin/tokenExchange`` invoke: its HTTP answer and the bot's posts."""
        before = len(self.world.connector.activities)
        value = {"id": exchange_id, "connectionName": CONNECTION, "token": sso_token}
        status, body = await self.post(
            self.activity("invoke", name="signin/tokenExchange", value=value)
        )
        return status, body, self.world.connector.activities[before:]


def texts(activities: list[dict[str, Any]]) -> list[str]:
    """Each posted message's text, an Adaptive Card's text blocks included."""
    out = []
    for activity in activities:
        parts = [activity.get("text") or ""]
        for attachment in activity.get("attachments") or []:
            content = attachment.get("content") or {}
            parts.append(content.get("text") or "")
            parts.extend(
                block.get("text") or ""
                for block in content.get("body") or []
                if isinstance(block, dict)
            )
        out.append("\n".join(p for p in parts if p))
    return out


def oauth_cards(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        attachment["content"]
        for activity in activities
        for attachment in activity.get("attachments") or []
        if attachment.get("contentType") == OAUTH_CARD
    ]


def single_sign_on_token(world: World, person: Person) -> str:
    """What Teams gives the bot for ``person``; the token service exchanges it for a token of
    the connection, which Entra ID accepts as the on-behalf-of assertion."""
    teams_token = f"teams-sso.{uuid.uuid4().hex}"
    connection_token = sign_in_token(person)
    world.token_service.exchangeable[teams_token] = connection_token
    world.entra.stand_in.people[connection_token] = person
    return teams_token


@pytest.fixture
async def database(sqlite_url: str) -> str:
    engine = db.create_engine(sqlite_url)
    try:
        await load_demo(UnitOfWorkFactory(engine), SystemClock())
    finally:
        await engine.dispose()
    return sqlite_url


async def tie_contoso_to_its_tenant(database_url: str) -> None:
    """Record the demo Contoso Taiwan's tenant on its legacy record (the demo has none).

    A user known from Graph comes with a tenant only, and the bot finds an organization by its
    tenant; see ``test_a_legacy_record_without_a_tenant_is_found_after_single_sign_on``.
    """
    engine = db.create_engine(database_url)
    try:
        async with UnitOfWorkFactory(engine)() as unit:
            await unit.session.execute(
                update(OrganizationRow)
                .where(OrganizationRow.id == "contoso")
                .values(tenant_id=CONTOSO_TW)
            )
            await unit.commit()
    finally:
        await engine.dispose()


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return self_signed_certificate(tmp_path)


@pytest.fixture
async def entra(certificate: Certificate) -> AsyncIterator[Deployment]:
    async with serving_entra_and_graph(certificate) as deployment:
        deployment.stand_in.organizations[CONTOSO_TW] = CONTOSO_TW_ORGANIZATION
        yield deployment


@pytest.fixture
def msal_session(entra: Deployment) -> Iterator[requests.Session]:
    with msal_session_for(entra) as session:
        yield session


@pytest.fixture
async def world(
    database: str, entra: Deployment, msal_session: requests.Session, tmp_path: Path
) -> AsyncIterator[World]:
    """The app serving on 127.0.0.1, wired as ``app.py`` wires it, Graph identity included."""
    async with (
        connector_stand_in() as connector,
        token_service_stand_in() as token_service,
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=trusting_tls(entra.certificate))
        ) as graph_http,
        aiohttp.ClientSession() as http,
    ):
        settings = make_settings(
            database,
            oauth_connection_name=CONNECTION,
            bot_oauth_url=token_service.url,
            outbox_dir=tmp_path / "outbox",
        )
        engine = db.create_engine(settings.database_url)
        units = UnitOfWorkFactory(engine)
        clock = SystemClock()
        identity = MsalGraphIdentityService(
            CLIENT_ID,
            SecretStr(entra.stand_in.client_secret),
            http_session=graph_http,
            authority_host=entra.root,
            graph_url=entra.root,
            http_client=msal_session,
        )
        services = Services(
            state=SqlAlchemyStateRepository(engine),
            ready=lambda: db.ping(engine),
            membership=MembershipService(units, clock),
            identity=identity,
            verification=EmailContactVerification.from_settings(
                settings, units, clock, wake=asyncio.Event()
            ),
            references=SqlConversationReferences(units, clock),
        )
        runner = web.AppRunner(create_app(settings, services=services), access_log=None)
        await runner.setup()
        try:
            port = free_port()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            yield World(
                f"http://127.0.0.1:{port}", connector, token_service, entra, http, database,
                identity,
            )  # fmt: skip
        finally:
            await runner.cleanup()
            await engine.dispose()
    assert entra.guard.refused == []  # MSAL asked the stand-in alone


async def test_a_global_admin_signs_in_through_teams_once_and_sees_the_status(world):
    await tie_contoso_to_its_tenant(world.database_url)
    mei = TeamsClient(world, MEI_LIN, "mei")
    tokens, entra = world.token_service, world.entra.stand_in

    # 1. A journey needs to know who Mei is: the bot asks for the token and shows the card.
    asked = await mei.say("Membership status")

    assert texts(asked)[0].startswith(SIGN_IN_TEXT)
    [card] = oauth_cards(asked)
    assert card["connectionName"] == CONNECTION
    [resource_call] = tokens.called("/api/botsignin/GetSignInResource")
    assert card["tokenExchangeResource"]["uri"] == "api://botid-" + CLIENT_ID
    # The SDK writes the resource with ``as_dict()``: Python's key, not the wire's providerId.
    assert card["tokenExchangeResource"]["provider_id"] == f"provider-for-{CONNECTION}"
    assert card["buttons"][0]["value"].startswith(tokens.url)  # Teams needs the link
    [asked_token] = tokens.called("/api/usertoken/GetToken")
    assert asked_token.query["userId"] == "29:mei"
    assert asked_token.query["connectionName"] == CONNECTION
    assert asked_token.query["channelId"] == "msteams"
    assert entra.requests == []

    # 2. Teams exchanges silently: the invoke is answered in its HTTP response, the status
    # follows in the chat.
    sso_token = single_sign_on_token(world, MEI_LIN)
    status, body, posted = await mei.exchange("exchange-1", sso_token)

    assert status == 200
    assert body["connectionName"] == CONNECTION and body["id"] == "exchange-1"
    assert not body.get("failureDetail")
    assert any("Contoso Taiwan Ltd." in text for text in texts(posted))
    assert all(not oauth_cards([activity]) for activity in posted)
    exchanges = tokens.called("/api/usertoken/exchange")
    assert {call.body["token"] for call in exchanges} == {sso_token}
    assert all(call.query["userId"] == "29:mei" for call in exchanges)
    assert len(entra.token_requests) == 1  # one on-behalf-of exchange at Entra ID
    assert entra.token_requests[0]["assertion"] == tokens.exchangeable[sso_token]
    assert entra.graph_calls("/v1.0/me") == 1
    assert entra.graph_calls("/v1.0/me/memberOf") == 2  # two pages
    assert entra.graph_calls("/v1.0/organization") == 1

    # 3. Teams on Mei's second device sends the same exchange: answered, and nothing more.
    exchanges_before = len(exchanges)
    status, _body, posted = await mei.exchange("exchange-1", sso_token)

    assert status == 200
    assert posted == []
    assert len(entra.token_requests) == 1
    assert entra.graph_calls("/v1.0/me") == 1
    # The middleware exchanges before it deduplicates (a consent failure must reach every
    # client), so the token service sees this one too; Entra ID and Graph do not.
    assert len(tokens.called("/api/usertoken/exchange")) == exchanges_before + 1

    # 4. Mei is known now: the status needs no sign-in.
    again = await mei.say("Membership status")

    assert any("Contoso Taiwan Ltd." in text for text in texts(again))
    assert oauth_cards(again) == []
    assert not any(text.startswith(SIGN_IN_TEXT) for text in texts(again))
    assert len(tokens.called("/api/usertoken/GetToken")) == 1
    assert len(entra.token_requests) == 1
    assert resource_call.authorization is None  # no app id: the client sends no token


@pytest.mark.parametrize(
    "refusal",
    [
        404,
        pytest.param(
            400,
            marks=pytest.mark.xfail(
                strict=True,
                reason="SDK bug (botbuilder-core 4.17.1): the token client returns the 400's "
                "ErrorResponse as the exchange result; TeamsSSOTokenExchangeMiddleware reads its "
                ".token outside its try (AttributeError): the turn fails, 501 and an apology",
            ),
        ),
    ],
)
async def test_a_token_the_service_cannot_exchange_fails_the_invoke_with_412(world, refusal):
    await tie_contoso_to_its_tenant(world.database_url)
    world.token_service.refuse_status = refusal
    mei = TeamsClient(world, MEI_LIN, "mei")
    await mei.say("Membership status")
    refused = f"teams-sso.{uuid.uuid4().hex}"  # needs consent: the service has no exchange

    status, body, posted = await mei.exchange("exchange-1", refused)

    assert status == 412
    assert body["connectionName"] == CONNECTION
    assert body["failureDetail"] == (
        "The bot is unable to exchange token. Proceed with regular login."
    )
    assert posted == []
    assert world.entra.stand_in.requests == []  # nobody signed in
    assert await world.identity.user(MEI_LIN.oid) is None


async def test_a_user_who_is_not_a_global_admin_is_told_so_from_graphs_answer(world):
    await tie_contoso_to_its_tenant(world.database_url)
    david = TeamsClient(world, DAVID_CHEN, "david")

    asked = await david.say("Create the Partner Center account")
    assert texts(asked)[0].startswith(SIGN_IN_TEXT)
    status, _body, posted = await david.exchange(
        "exchange-d", single_sign_on_token(world, DAVID_CHEN)
    )
    assert status == 200
    assert any(
        "Creating the Partner Center account takes a few minutes" in t for t in texts(posted)
    )

    answer = await david.say("Next")

    assert any(
        text.startswith("Only a global administrator of your tenant can create the account")
        and "(none found)" in text
        for text in texts(answer)
    ), texts(answer)
    assert world.entra.stand_in.graph_calls("/v1.0/me/memberOf") == 2


@pytest.mark.xfail(
    strict=True,
    reason="product bug: a Graph user has a tenant and no organization link, and "
    "organization_for finds organizations by tenant only, so a legacy record without a "
    "tenant (the demo's Contoso Taiwan) is never found; 'Create the Partner Center "
    "account', which would record the tenant, needs the organization found first",
)
async def test_a_legacy_record_without_a_tenant_is_found_after_single_sign_on(world):
    mei = TeamsClient(world, MEI_LIN, "mei")
    await mei.say("Membership status")

    _status, _body, posted = await mei.exchange("exchange-1", single_sign_on_token(world, MEI_LIN))

    assert any("Contoso Taiwan Ltd." in text for text in texts(posted)), texts(posted)
