"""Tell the buyer in the chat when their order's payment is confirmed.

``BenefitsService`` calls its listener after the payment is committed, whoever confirmed it:
the operator's ``membership-bot orders confirm`` (another process) or the signed payment
webhook. The news goes to the buyer's latest conversation through ``Proactive``; a buyer the bot
cannot reach (never chatted, app removed) simply finds the benefits on the status card.
"""

from __future__ import annotations

import logging

from bot.proactive import Proactive
from dialogs.notices import order_paid
from services.benefits import Benefit, Order

__all__ = ["OrderPaidNotifier"]

logger = logging.getLogger(__name__)


class OrderPaidNotifier:
    """An ``OrderPaidListener`` that posts the news to the buyer's chat."""

    def __init__(self, proactive: Proactive) -> None:
        self._proactive = proactive

    async def order_paid(self, order: Order, benefits: list[Benefit]) -> None:
        """Post "payment received" with what the order brought; never fail the payment."""
        try:
            told = await self._proactive.tell(
                order.buyer_id, lambda t: order_paid(t, order, benefits)
            )
        except Exception:  # the payment stands whatever the chat does
            logger.exception("could not tell the buyer of order %s", order.id)
            return
        if not told:
            logger.info("order %s paid; the buyer has no conversation to tell", order.id)
