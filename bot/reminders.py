"""Renewal reminders in the chat: ``ChatReminderChannel`` posts the reminder card.

It posts into the recipient's conversation (the reference the runner found for them) through
the adapter's ``continue_conversation``, with the bot's app id, in the recipient's language,
and says how it went, as ``services.reminders.ReminderChannel`` asks:

* the connector accepted the message: ``Sent``;
* HTTP 429: ``RetryAfter``, with the seconds of its ``Retry-After`` header (0 without one);
* HTTP 403 or 404 (the bot was removed, the conversation is gone): ``Gone``; the runner marks
  the reference inactive and emails instead, and the keeper forgets it as stored, so that the
  user's next turn there stores it again;
* anything else (a 5xx, a network error, no token): ``Failed``, to be tried again, with the
  error's type and status only (no personal data).
"""

from __future__ import annotations

import logging

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import ConversationReference

from bot.proactive import ReferenceKeeper
from dialogs.cards import message, renewal_reminder_card
from services.i18n import translator
from services.reminders import DeliveryResult, DueReminder, Failed, Gone, RetryAfter, Sent
from services.retry import retry_after_seconds

__all__ = ["ChatReminderChannel"]

logger = logging.getLogger(__name__)

_THROTTLED = 429
_GONE = frozenset({403, 404})


class ChatReminderChannel:
    """A ``ReminderChannel`` that posts the reminder card into the recipient's chat."""

    def __init__(self, adapter: BotAdapter, app_id: str, keeper: ReferenceKeeper) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._keeper = keeper

    async def deliver(self, reminder: DueReminder) -> DeliveryResult:
        """Post the reminder card; say how it went (never raise)."""
        stored = reminder.recipient.reference
        if stored is None:
            return Failed("no conversation to post in", permanent=True)
        reference = ConversationReference().deserialize(stored.document)
        card = renewal_reminder_card(
            translator(reminder.recipient.locale),
            organization_id=reminder.organization_id,
            legal_name=reminder.legal_name,
            expiry_date=reminder.expiry_date,
            days_left=reminder.days_left,
            pending_steps=reminder.pending_steps,
            legacy=reminder.legacy,
            view_only=reminder.view_only,
        )
        failures: list[Exception] = []

        async def send(context: TurnContext) -> None:
            # Caught here: the adapter would otherwise hand the error to on_turn_error, which
            # apologises into the very conversation that just failed.
            try:
                await context.send_activity(message(card))
            except Exception as error:
                failures.append(error)

        try:
            await self._adapter.continue_conversation(reference, send, self._app_id)
        except Exception as error:  # the credentials or the connector could not be had
            failures.append(error)
        if not failures:
            return Sent()
        failure = failures[0]
        response = getattr(failure, "response", None)
        status = getattr(response, "status_code", None)
        if status == _THROTTLED:
            headers = getattr(response, "headers", None) or {}
            return RetryAfter(retry_after_seconds(headers.get("Retry-After")) or 0.0)
        if status in _GONE:
            try:
                await self._keeper.forget(stored.user_id, stored.conversation_id)
            except Exception:  # the runner marks it inactive too; Gone is what matters here
                logger.warning("could not forget a gone conversation", exc_info=True,
                               extra={"user_id": stored.user_id})  # fmt: skip
            return Gone()
        kind = type(failure).__name__
        return Failed(f"{kind} (HTTP {status})" if status else kind)
