"""Single sign-on before a journey, when the identity service knows users by token only.

The identity service here is a stand-in for ``MsalGraphIdentityService`` (whose own tests run
real MSAL and Graph code); the token side is botbuilder's ``TestAdapter``, which plays the Bot
Framework token service, and the prompt, middleware and dialogs are the real ones.
"""

from __future__ import annotations

import pytest
from botbuilder.core import MemoryStorage

from dialogs.people import JourneyServices
from services.errors import SignInRefused
from services.identity import DEMO_DIRECTORY, DirectoryIdentityService, DirectoryUser, Tenant
from tests.support.chat import Chat

CONNECTION = "teams-sso"
OAUTH_CARD = "application/vnd.microsoft.card.oauth"


class TokenIdentity:
    """Knows a user only once their token was handed in, as the Graph service does."""

    requires_sign_in = True

    def __init__(self) -> None:
        self._directory = DirectoryIdentityService.from_file(DEMO_DIRECTORY)
        self._signed_in: dict[str, DirectoryUser] = {}
        self.tokens: list[str] = []

    async def sign_in(self, user_token: str) -> DirectoryUser:
        self.tokens.append(user_token)
        if user_token == "refused":
            raise SignInRefused("invalid_grant")
        user = await self._directory.user(user_token.removeprefix("graph-token-for-"))
        assert user is not None, user_token
        self._signed_in[user.id] = user
        return user

    async def user(self, user_id: str) -> DirectoryUser | None:
        return self._signed_in.get(user_id)

    async def tenant(self, tenant_id: str) -> Tenant | None:
        return await self._directory.tenant(tenant_id)

    async def global_admins(self, tenant_id: str) -> list[DirectoryUser]:
        return [u for u in self._signed_in.values() if u.tenant_id == tenant_id and u.global_admin]

    async def users(self) -> list[DirectoryUser]:
        return []


@pytest.fixture
def identity() -> TokenIdentity:
    return TokenIdentity()


@pytest.fixture
def chat_as(journey_services, identity):
    services = JourneyServices(journey_services.membership, identity, journey_services.verification)
    storage = MemoryStorage()

    def chat(user: str, locale: str = "en-US", channel_id: str | None = None) -> Chat:
        return Chat(
            storage, services, locale=locale, user_id=user, conversation_id=f"c-{user}",
            channel_id=channel_id, sign_in_connection=CONNECTION,
        )  # fmt: skip

    return chat


def _oauth_card(chat: Chat) -> dict:
    [attachment] = [a for a in chat.sent[-1].attachments or [] if a.content_type == OAUTH_CARD]
    content = attachment.content
    return content if isinstance(content, dict) else content.serialize()


async def test_a_user_the_token_service_already_has_is_signed_in_without_a_word(chat_as, identity):
    chat = chat_as("mei.lin")
    chat.adapter.add_user_token(CONNECTION, "test", "mei.lin", "graph-token-for-mei.lin")

    status = await chat.say("Membership status")
    again = await chat.say("Membership status")

    assert "Contoso Taiwan Ltd." in status[0].text
    assert "Contoso Taiwan Ltd." in again[0].text
    assert identity.tokens == ["graph-token-for-mei.lin"]  # once: then the user is known


async def test_without_a_token_the_user_signs_in_with_the_card_and_the_journey_goes_on(
    chat_as, identity
):
    chat = chat_as("mei.lin")

    asked = await chat.say("Membership status")

    assert asked[0].text.startswith("First, sign in with your work account")
    card = _oauth_card(chat)
    assert card["connectionName"] == CONNECTION
    assert card["buttons"][0]["title"] == "Sign in"
    assert card["tokenExchangeResource"]["uri"]  # what Teams needs for single sign-on
    assert identity.tokens == []

    chat.adapter.add_user_token(
        CONNECTION, "test", "mei.lin", "graph-token-for-mei.lin", magic_code="424242"
    )
    status = await chat.say("424242")

    assert "Contoso Taiwan Ltd." in status[0].text
    assert identity.tokens == ["graph-token-for-mei.lin"]


async def test_the_sign_in_card_speaks_the_users_language(chat_as):
    chat = chat_as("mei.lin", "zh-TW")

    asked = await chat.say("會員狀態")

    assert asked[0].text.startswith("首先，請用您的公司帳戶登入")
    assert _oauth_card(chat)["buttons"][0]["title"] == "登入"


async def test_a_refused_sign_in_says_what_to_do_and_shows_nothing_of_the_organization(
    chat_as, identity
):
    chat = chat_as("mei.lin")
    chat.adapter.add_user_token(CONNECTION, "test", "mei.lin", "refused")

    replies = await chat.say("Membership status")

    assert replies[0].text.startswith(
        "Microsoft Entra ID (formerly Azure AD) did not accept the sign-in"
    )
    assert all("Contoso" not in reply.text for reply in replies)
    assert replies[-1].text.startswith("What would you like to do?")  # back at the menu


async def test_teams_single_sign_on_exchanges_the_token_once_even_from_two_clients(
    chat_as, identity
):
    chat = chat_as("mei.lin", channel_id="msteams")
    await chat.say("Membership status")  # the OAuth card, with the token exchange resource
    chat.adapter.add_exchangeable_token(
        CONNECTION, "msteams", "mei.lin", "teams-sso-token", "graph-token-for-mei.lin"
    )
    exchange = {"id": "exchange-1", "connectionName": CONNECTION, "token": "teams-sso-token"}

    first = await chat.invoke("signin/tokenExchange", exchange)
    second = await chat.invoke("signin/tokenExchange", exchange)  # Teams on another device

    assert "Contoso Taiwan Ltd." in first[0].text
    assert second == []  # deduplicated by the middleware on the bot's storage
    assert identity.tokens == ["graph-token-for-mei.lin"]
