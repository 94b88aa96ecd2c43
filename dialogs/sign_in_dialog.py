"""Single sign-on: who the user is, when the identity service needs their token to know.

With the embedded directory the bot knows every user by their id and this dialog is never
started. With Microsoft Graph (``IDENTITY_PROVIDER=graph``) the bot learns who a user is, their
roles and their tenant's domains, only from their token: ``MainDialog`` starts this dialog before
a journey when ``identity.requires_sign_in`` and the identity service does not know the user yet.

The token comes from an ``OAuthPrompt`` on the bot's OAuth connection. In Teams that is single
sign-on: the prompt's OAuth card carries the token exchange resource, Teams answers with a
``signin/tokenExchange`` invoke holding the user's token, and ``TeamsSSOTokenExchangeMiddleware``
(on the project's SQL storage, so that one instance handles each exchange) swaps it at the Bot
Framework token service; the user sees nothing, or a consent card the first time. Elsewhere the
card's button signs in through a browser and the channel sends the magic code back.

The token goes straight to ``identity.sign_in`` and is never put in dialog state or logs.
"""

from __future__ import annotations

import logging

from botbuilder.core import MessageFactory
from botbuilder.dialogs import (
    DialogTurnResult,
    WaterfallStepContext,
)
from botbuilder.dialogs.prompts import OAuthPrompt, OAuthPromptSettings, PromptOptions

from dialogs.contexts import Component
from dialogs.people import JourneyServices
from dialogs.texts import texts, turn_locale
from dialogs.waterfall import Waterfall
from services.errors import IdentityUnavailable, SignInRefused
from services.i18n import N_, Locale, translator

__all__ = ["SignInDialog"]

logger = logging.getLogger(__name__)

SIGN_IN_TEXT = N_(
    "First, sign in with your work account, so that I can check your roles in your "
    "organization's directory."
)
SIGN_IN_BUTTON = N_("Sign in")
_TIMEOUT_MS = 5 * 60 * 1000  # how long the prompt waits for the sign-in to finish


class SignInDialog(Component):
    """Get the user's token through the OAuth connection and tell the identity service.

    Ends with True when the identity service now knows the user, False otherwise (after saying
    why).
    """

    def __init__(self, services: JourneyServices, connection_name: str) -> None:
        super().__init__(SignInDialog.__name__)
        self.services = services
        # One prompt per language: the card's button title is fixed when a prompt is built.
        for locale in Locale:
            t = translator(locale)
            settings = OAuthPromptSettings(
                connection_name=connection_name,
                title=t.gettext(SIGN_IN_BUTTON),  # the prompt's message says why
                timeout=_TIMEOUT_MS,
                end_on_invalid_message=True,
            )
            self.add_dialog(OAuthPrompt(_prompt_id(locale), settings))
        self.add_dialog(Waterfall("sign_in", [self.prompt_step, self.signed_in_step]))
        self.initial_dialog_id = "sign_in"

    async def prompt_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Ask for the token (silently, when the token service already has one)."""
        text = texts(step.context).gettext(SIGN_IN_TEXT)
        return await step.begin_dialog(
            _prompt_id(turn_locale(step.context)),
            PromptOptions(prompt=MessageFactory.text(text)),
        )

    async def signed_in_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Hand the token to the identity service; say what went wrong if anything did."""
        t = texts(step.context)
        token = getattr(step.result, "token", None)
        if not token:
            await step.context.send_activity(
                t.gettext(
                    "You're not signed in, so I can't check your roles yet. Pick the task again "
                    "when you're ready to sign in."
                )
            )
            return await step.end_dialog(False)
        try:
            user = await self.services.identity.sign_in(token)
        except SignInRefused as refused:
            logger.warning("sign-in refused: %s", refused)
            await step.context.send_activity(
                t.gettext(
                    "Microsoft Entra ID (formerly Azure AD) did not accept the sign-in (it may "
                    "need your consent or "
                    "another verification step). Sign out of Teams and back in, or ask your "
                    "administrator to consent to the app, then try again."
                )
            )
            return await step.end_dialog(False)
        except IdentityUnavailable as unavailable:
            logger.warning("identity provider unavailable: %s", unavailable)
            await step.context.send_activity(
                t.gettext(
                    "I can't reach Microsoft Entra ID (formerly Azure AD) right now to check your "
                    "roles. Nothing "
                    "was lost; please try again in a few minutes."
                )
            )
            return await step.end_dialog(False)
        logger.info("user signed in", extra={"user_id": user.id, "tenant_id": user.tenant_id})
        return await step.end_dialog(True)


def _prompt_id(locale: Locale) -> str:
    return f"oauth_{locale.value}"
