"""Renewal reminders in the chat: ``ChatReminderChannel`` posts the reminder card.

It posts into the recipient's conversation (the reference the runner found for them) in a
proactive turn (``bot.proactive.continue_in``), with the bot's app id, in the language the
recipient last spoke there, and says how it went, as ``services.reminders.ReminderChannel`` asks:

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

from bot.proactive import ReferenceKeeper, continue_in, reference_of
from dialogs.cards import message, renewal_reminder_card
from dialogs.texts import texts
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

        async def send(context: TurnContext) -> None:
            card = renewal_reminder_card(
                texts(context),
                organization_id=reminder.organization_id,
                legal_name=reminder.legal_name,
                expiry_date=reminder.expiry_date,
                days_left=reminder.days_left,
                pending_steps=reminder.pending_steps,
                legacy=reminder.legacy,
                view_only=reminder.view_only,
            )
            await context.send_activity(message(card))

        failure = await continue_in(self._adapter, self._app_id, reference_of(stored), send)
        if failure is None:
            return Sent()
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
