"""The Bot Framework adapter and what it does when a turn fails."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from botbuilder.core import ComponentRegistration, InvokeResponse, TurnContext
from botbuilder.dialogs import DialogsComponentRegistration
from botbuilder.dialogs.memory import (
    ComponentMemoryScopesBase,
    ComponentPathResolversBase,
    DialogStateManagerConfiguration,
)
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity, DeliveryModes
from botframework.connector.auth import (
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    UserTokenClient,
)
from botframework.connector.auth._user_token_client_impl import _UserTokenClientImpl
from botframework.connector.auth.service_client_credentials_factory import (
    ServiceClientCredentialsFactory,
)

from bot.authentication import CachingBotFrameworkAuthentication
from bot.turn_context import MembershipTurnContext
from dialogs.cards import choice_card
from dialogs.cards import message as card_message
from dialogs.texts import texts
from services.errors import StorageConflict
from services.handoff import TicketReason
from services.settings import Settings

__all__ = ["MembershipAdapter", "create_adapter"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _SdkConfiguration:
    """The attribute names the SDK's configuration readers look for."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str


class _TokenServiceAuthentication(CachingBotFrameworkAuthentication):
    """The public cloud's authentication, with its user-token client on ``oauth_url``.

    The SDK's own ``OAUTH_URL`` setting switches it to its parameterized authentication, which
    then takes every other endpoint from settings too (token issuer, OpenID metadata, login URL,
    scope: None unless set) and treats an empty ``Authorization`` header as one to validate, so
    every request fails. Only the token service should change. Without an app id (token
    validation off) the client is given "" for it: the SDK's sign-in resource request refuses
    None (``create_token_exchange_state`` raises ``TypeError("app_id")``).
    """

    def __init__(
        self,
        inner: ConfigurationBotFrameworkAuthentication,
        credentials: ServiceClientCredentialsFactory,
        oauth_url: str,
    ) -> None:
        super().__init__(inner)
        self._credentials = credentials
        self._oauth_url = oauth_url
        self._clients: dict[str, UserTokenClient] = {}

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        """A user-token client for the app, on the configured token service, built once."""
        app_id = str(
            claims_identity.get_claim_value(AuthenticationConstants.AUDIENCE_CLAIM)
            or claims_identity.get_claim_value(AuthenticationConstants.APP_ID_CLAIM)
            or ""
        )
        client = self._clients.get(app_id)
        if client is None:
            credentials = await self._credentials.create_credentials(
                app_id,
                oauth_scope=AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
                login_endpoint=AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX,
                validate_authority=True,
            )
            client = self._clients.setdefault(
                app_id, _UserTokenClientImpl(app_id, credentials, self._oauth_url)
            )
        return client


class MembershipAdapter(CloudAdapter):
    """``CloudAdapter`` with a cheaper turn context and ``expectReplies`` serializer.

    Every turn's context is a ``MembershipTurnContext`` (``bot/turn_context.py``), which does
    not deep-copy outgoing activities. The SDK builds the ``expectReplies`` body with msrest's
    generic serializer on every such turn; here the body keeps the reply models, and
    ``bot/routes.py`` writes them with ``bot/wire.py``'s ``dumps``, the same JSON (a test
    holds it to msrest's output) for less.
    """

    def __init__(self, bot_framework_authentication: BotFrameworkAuthentication) -> None:
        super().__init__(bot_framework_authentication)
        self._dialog_memory = _dialog_memory()

    def _create_turn_context(
        self,
        activity: Activity,
        claims_identity: ClaimsIdentity,
        oauth_scope: str,
        connector_client: Any,
        user_token_client: Any,
        logic: Callable[[TurnContext], Awaitable[Any]],
        connector_factory: Any,
    ) -> TurnContext:
        # The SDK's own method (4.17.1), creating our turn context instead of its own.
        context = MembershipTurnContext(self, activity)
        context.turn_state[self.BOT_IDENTITY_KEY] = claims_identity
        context.turn_state[self.BOT_CONNECTOR_CLIENT_KEY] = connector_client
        context.turn_state[self.USER_TOKEN_CLIENT_KEY] = user_token_client
        context.turn_state[self.BOT_CALLBACK_HANDLER_KEY] = logic
        context.turn_state[self.CONNECTOR_FACTORY_KEY] = connector_factory
        context.turn_state[self.BOT_OAUTH_SCOPE_KEY] = oauth_scope
        context.turn_state[_DIALOG_MEMORY_KEY] = self._dialog_memory
        return context

    def _process_turn_results(self, context: TurnContext) -> InvokeResponse | None:
        # The last use of the turn's context (CloudAdapterBase.process_activity, 4.17.1).
        try:
            if context.activity.delivery_mode == DeliveryModes.expect_replies:
                # The models themselves: bot/routes.py writes them with wire.dumps.
                activities = list(context.buffered_reply_activities)
                return InvokeResponse(status=HTTPStatus.OK, body={"activities": activities})
            return super()._process_turn_results(context)
        finally:
            if isinstance(context, MembershipTurnContext):
                context.release()


# Where each dialog context's memory-scope manager (DialogStateManager) looks for the scopes
# and path resolvers it uses before building them itself (botbuilder-dialogs 4.17.1).
_DIALOG_MEMORY_KEY = DialogStateManagerConfiguration.__name__


def _dialog_memory() -> DialogStateManagerConfiguration:
    """The dialogs' memory scopes and path resolvers, built once as the SDK builds them.

    The SDK builds this on a turn's first dialog context and keeps it in the turn's state for
    the others: about twenty objects a turn, which a dialog context's reference cycle holds
    until a full collection (issue 9, decision 0011). The scopes and resolvers hold nothing
    of a turn (a name, constant keys), so one set serves every turn, as the SDK's
    ``DialogManager.state_configuration`` is meant to.
    """
    ComponentRegistration.add(DialogsComponentRegistration())
    configuration = DialogStateManagerConfiguration()
    components = ComponentRegistration.get_components()
    for component in components:
        if isinstance(component, ComponentMemoryScopesBase):
            configuration.memory_scopes.extend(component.get_memory_scopes())
    for component in components:
        if isinstance(component, ComponentPathResolversBase):
            configuration.path_resolvers.extend(component.get_path_resolvers())
    return configuration


def create_adapter(settings: Settings) -> MembershipAdapter:
    """Build the adapter: token validation on whenever an app id is configured."""
    configuration = _SdkConfiguration(
        APP_ID=settings.microsoft_app_id,
        APP_PASSWORD=settings.microsoft_app_password.get_secret_value(),
        APP_TYPE=settings.microsoft_app_type.value,
        APP_TENANTID=settings.microsoft_app_tenant_id,
    )
    credentials = ConfigurationServiceClientCredentialFactory(configuration)
    inner = ConfigurationBotFrameworkAuthentication(configuration, credentials_factory=credentials)
    authentication = (
        _TokenServiceAuthentication(inner, credentials, settings.bot_oauth_url)
        if settings.bot_oauth_url  # another token service than the public cloud's
        else CachingBotFrameworkAuthentication(inner)
    )
    adapter = MembershipAdapter(authentication)
    adapter.on_turn_error = on_turn_error
    return adapter


async def on_turn_error(context: TurnContext, error: Exception) -> None:
    """Log the failure, apologise once in the user's language, keep saved progress.

    The turn's state changes are not saved (the bot saves only after a turn succeeds), so the
    conversation resumes from its last good step. The apology offers a person (the help desk).
    """
    activity = context.activity
    logger.exception(
        "turn failed",
        exc_info=error,
        extra={
            "conversation_id": activity.conversation.id if activity.conversation else None,
            "activity_type": activity.type,
        },
    )
    t = texts(context)
    if isinstance(error, StorageConflict):
        message: Activity | str = t.gettext(
            "Your message crossed with another one in this chat. Please send it again."
        )
    else:
        apology = t.gettext(
            "Sorry, something went wrong on my side. What you saved is kept; please try again."
        )
        # With a "Talk to a person" button: the help desk can take it from here.
        message = card_message(choice_card(t, apology, [], person_reason=TicketReason.ERROR.value))
    try:
        await context.send_activity(message)
    except Exception:
        logger.exception("could not send the apology")
