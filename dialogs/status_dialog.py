"""Membership status at any time: tier, expiry, days left, the checklist, the latest
verification email while the primary contact has not confirmed, and whether the user stopped
the renewal reminders (with a button to turn them back on), the active benefits and the orders
waiting for payment."""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogTurnResult, WaterfallStepContext

from dialogs.cards import benefit_line, message, status_card
from dialogs.journey_dialog import JourneyDialog
from dialogs.people import JourneyServices
from dialogs.prices import format_price
from dialogs.texts import texts, turn_locale
from dialogs.verify_contact_dialog import last_email_line
from dialogs.waterfall import Waterfall
from services.benefits import BenefitState, OrderStatus
from services.identity import DirectoryUser
from services.membership import Step
from services.unit_of_work import shared_unit

__all__ = ["StatusDialog"]


class StatusDialog(JourneyDialog):
    """Show where the organization's membership and account setup stand."""

    def __init__(self, services: JourneyServices) -> None:
        super().__init__(StatusDialog.__name__, services)
        self.add_dialog(Waterfall("status", [self.show_step]))
        self.initial_dialog_id = "status"

    async def show_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Show the status card, with a button to continue the first pending step."""
        user = await self.directory_user(step.context)
        if user is None:
            return await step.end_dialog()
        # One connection, and on PostgreSQL no transaction, for the organization lookup and the
        # card's reads; whatever is said or recorded comes after it is given back.
        card = None
        async with shared_unit():
            organization_id = await self.services.organization_of(user)
            if organization_id is not None:
                card = await self._card(step.context, user, organization_id)
        if await self.found(step.context, user, organization_id) is None or card is None:
            return await step.end_dialog()
        await step.context.send_activity(message(card))
        return await step.end_dialog()

    async def _card(
        self, context: TurnContext, user: DirectoryUser, organization_id: str
    ) -> dict[str, Any]:
        status = await self.services.membership.status(organization_id)
        verification = await self.services.verification.status(organization_id, allowance=False)
        stopped = False
        if (reminders := self.services.reminders) is not None:
            stopped = (await reminders.preference(user.id, organization_id)).stopped
        only_admins = None
        if status.first_pending is Step.SIGN_IN and user.tenant_id and not user.global_admin:
            # Signing in is a global administrator's: name them rather than lead into it.
            admins = await self.services.identity.global_admins(user.tenant_id)
            only_admins = [admin.display_name for admin in admins]
        return status_card(
            texts(context),
            status,
            last_email=last_email_line(context, verification),
            reminders_stopped=stopped,
            benefits=await self._benefit_lines(context, organization_id),
            only_admins=only_admins,
        )

    async def _benefit_lines(self, context: TurnContext, organization_id: str) -> list[str]:
        """A line per active benefit and per order waiting for payment."""
        if (service := self.services.benefits) is None:
            return []
        orders = await service.orders(organization_id)
        if not orders:
            return []  # benefits come from paid orders: none without an order
        t, locale = texts(context), turn_locale(context)
        lines = [
            f"✅ {benefit_line(t, locale, b)}"
            for b in await service.benefits(organization_id)
            if b.activated_at is not None
            and b.state in (BenefitState.ACTIVE, BenefitState.EXPIRING)
        ]
        lines += [
            t.gettext(
                "⏳ Order {id}: {price}, waiting for payment since {date}.",
                id=order.id,
                price=format_price(order.amount, order.currency),
                date=order.created_at.date().isoformat(),
            )
            for order in orders
            if order.status is OrderStatus.AWAITING_PAYMENT
        ]
        return lines
