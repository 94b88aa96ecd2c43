"""A help desk for dialog tests: real tickets, no Teams channel."""

from __future__ import annotations

from botbuilder.core import TurnContext

from dialogs.people import HelpRequest
from services.handoff import HandoffService, Ticket, TicketReason, TicketStatus

__all__ = ["TicketsOnlyHelpDesk"]


class TicketsOnlyHelpDesk:
    """A ``HelpDesk`` that keeps real tickets and posts nowhere (the channel is the bot's)."""

    def __init__(self, handoffs: HandoffService, *, channel: bool = True) -> None:
        self.handoffs = handoffs
        self.channel = channel

    async def request(
        self,
        context: TurnContext,
        *,
        reason: TicketReason,
        organization_id: str | None,
        journey: str | None,
        step: str | None,
    ) -> HelpRequest:
        user = context.activity.from_property
        ticket, created = await self.handoffs.open(
            user.id, user.name or "", context.activity.conversation.id, organization_id,
            journey, step, reason, context.activity.locale, [],
        )  # fmt: skip
        return HelpRequest(ticket, await self.handoffs.position(ticket.id), created, self.channel)

    async def cancel(self, context: TurnContext) -> Ticket | None:
        return await self.handoffs.cancel(context.activity.from_property.id)

    async def rate(self, context: TurnContext, ticket_id: int, score: int) -> Ticket:
        return await self.handoffs.rate(ticket_id, context.activity.from_property.id, score)

    async def waiting(self, context: TurnContext) -> Ticket | None:
        ticket = await self.handoffs.active_for(context.activity.from_property.id)
        return ticket if ticket is not None and ticket.status is TicketStatus.OPEN else None
