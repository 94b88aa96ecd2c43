"""Renew the membership: the account set up first, then open from 90 days before expiry.

A renewal needs the Partner Center account set up first (``SetupFirstDialog``: a legacy record
moves in when the account is made); the user's wish to renew is kept meanwhile, and the renewal
question comes as soon as nothing it needs is missing.
"""

from __future__ import annotations

from datetime import timedelta

from botbuilder.dialogs import DialogTurnResult, WaterfallStepContext

from dialogs.cards import Option, message, renewal_card
from dialogs.journey_dialog import TIER_NAMES, JourneyDialog
from dialogs.people import JourneyServices, Member
from dialogs.prices import format_price, order_text
from dialogs.prompts import OptionPrompt, ask
from dialogs.setup_first_dialog import SetupFirstDialog
from dialogs.texts import texts
from dialogs.waterfall import Waterfall
from services.benefits import NotGlobalAdmin, Order, OrderPurpose
from services.errors import RenewalNotOpen, SetupIncomplete, ViewOnlyRecord
from services.i18n import N_
from services.membership import Goal, MembershipView, renewed_expiry

__all__ = ["RenewDialog"]

RENEW_NOW = Option("renew.now", N_("Renew now"))
PLACE_ORDER = Option("renew.order", N_("Place the renewal order"))
NOT_NOW = Option("renew.not_now", N_("Not now"))


QUESTION = N_(
    "Renew the {tier} of {organization} (MPN ID {mpn_id})? It expires on {expiry}; renewing "
    "adds one year."
)
EXPIRED_QUESTION = N_(
    "Renew the {tier} of {organization} (MPN ID {mpn_id})? It expired on {expiry}; renewing "
    "adds one year from today."
)
ORDER_QUESTION = N_(
    "Renew the {tier} of {organization} (MPN ID {mpn_id})? It expires on {expiry}. The "
    "subscription costs {price} a year: I'll place an order that waits for payment, and once "
    "it is paid the membership runs until {until}."
)
EXPIRED_ORDER_QUESTION = N_(
    "Renew the {tier} of {organization} (MPN ID {mpn_id})? It expired on {expiry}. The "
    "subscription costs {price} a year: I'll place an order that waits for payment, and once "
    "it is paid the membership runs until {until}."
)


ORDERED = N_(
    "Renewal order {id} is placed: {price}, waiting for payment. I'll tell you here when the "
    "payment is confirmed and the membership is renewed."
)
ORDERED_ALREADY = N_(
    "The renewal is ordered already: order {id}, {price}, waiting for payment since {date}. "
    "I'll tell you here when the payment is confirmed."
)


class RenewDialog(JourneyDialog):
    """Set the account up first if needed, check the calendar, confirm, renew, and sum up."""

    CONFIRM = "renew_confirm"
    CONFIRM_ORDER = "renew_order_confirm"

    def __init__(self, services: JourneyServices) -> None:
        super().__init__(RenewDialog.__name__, services)
        self.add_dialog(SetupFirstDialog(services))
        self.add_dialog(OptionPrompt(self.CONFIRM, yes=RENEW_NOW, no=NOT_NOW))
        self.add_dialog(OptionPrompt(self.CONFIRM_ORDER, yes=PLACE_ORDER, no=NOT_NOW))
        steps = [self.setup_step, self.check_step, self.renew_step]
        self.add_dialog(Waterfall("renew", steps))
        self.initial_dialog_id = "renew"

    async def setup_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Do the account setup renewing needs first, if any is missing."""
        member = await self.member(step.context)
        if member is None:
            return await step.end_dialog()
        status = await self.services.membership.status(member.organization_id)
        if status.membership is None:
            await step.context.send_activity(texts(step.context).gettext("No membership record."))
            return await step.end_dialog()
        if status.setup_missing:
            return await step.begin_dialog(SetupFirstDialog.__name__, {"goal": Goal.RENEW.value})
        return await step.next(True)

    async def check_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Say why renewal cannot happen yet, or ask to confirm it."""
        if step.result is not True:  # the setup was left for later; the user was told
            return await step.end_dialog()
        member = await self.member(step.context)
        if member is None:
            return await step.end_dialog()
        t = texts(step.context)
        status = await self.services.membership.status(member.organization_id)
        membership = status.membership
        if membership is None:
            await step.context.send_activity(t.gettext("No membership record."))
            return await step.end_dialog()
        if not membership.can_renew:
            await self.services.membership.drop_goal(member.organization_id, member.user.id)
            await step.context.send_activity(
                t.gettext(
                    "Renewal opens on {opens}, 90 days before your membership expires on "
                    "{expiry}. I'll be able to renew it from then on.",
                    opens=membership.renewal_opens_on.isoformat(),
                    expiry=membership.expiry_date.isoformat(),
                )
            )
            return await step.end_dialog()
        if (waiting := await self._open_renewal_order(member)) is not None:
            await self.services.membership.drop_goal(member.organization_id, member.user.id)
            text = await order_text(self.services, t, waiting, ORDERED_ALREADY)
            await step.context.send_activity(text)
            return await step.end_dialog()
        current = membership.days_left >= 0
        if (paid := await self._renewal_price(step, member)) is not None:
            offer_id, price = paid
            step.values["offer"] = offer_id
            return await step.prompt(
                self.CONFIRM_ORDER,
                ask(
                    ORDER_QUESTION if current else EXPIRED_ORDER_QUESTION,
                    choices=[PLACE_ORDER, NOT_NOW],
                    translate={"tier": TIER_NAMES[membership.tier]},
                    organization=status.legal_name,
                    mpn_id=membership.mpn_id,
                    expiry=membership.expiry_date.isoformat(),
                    price=price,
                    until=_renewed_until(membership),
                ),
            )
        question = QUESTION if current else EXPIRED_QUESTION
        return await step.prompt(
            self.CONFIRM,
            ask(
                question,
                choices=[RENEW_NOW, NOT_NOW],
                translate={"tier": TIER_NAMES[membership.tier]},
                organization=status.legal_name,
                mpn_id=membership.mpn_id,
                expiry=membership.expiry_date.isoformat(),
            ),
        )

    async def renew_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Renew, or leave it for later."""
        t = texts(step.context)
        member = await self.member(step.context)
        if member is None:
            return await step.end_dialog()
        if step.result == PLACE_ORDER.action:
            return await self._order(step, member)
        if step.result != RENEW_NOW.action:
            await self.services.membership.drop_goal(member.organization_id, member.user.id)
            await step.context.send_activity(t.gettext("OK, nothing was changed."))
            return await step.end_dialog()
        try:
            renewed = await self.services.membership.renew(member.organization_id, member.actor)
        except (RenewalNotOpen, ViewOnlyRecord, SetupIncomplete):
            # Someone else renewed or changed the record since the question was asked.
            await step.context.send_activity(
                t.gettext("The membership changed meanwhile; here is where it stands now.")
            )
            return await step.replace_dialog(self.initial_dialog_id)
        await step.context.send_activity(message(renewal_card(t, renewed)))
        return await step.end_dialog()

    async def _renewal_price(
        self, step: WaterfallStepContext, member: Member
    ) -> tuple[str, str] | None:
        """The offer and the price of renewing, for a paid subscription (None: renewing is
        free)."""
        if (benefits := self.services.benefits) is None:
            return None
        found = await benefits.renewal_offer(member.organization_id)
        if found is None:
            return None
        offer, price = found
        return offer.id, format_price(price.amount, price.currency)

    async def _open_renewal_order(self, member: Member) -> Order | None:
        if (benefits := self.services.benefits) is None:
            return None
        orders = await benefits.orders(member.organization_id, open_only=True)
        return next((o for o in orders if o.purpose is OrderPurpose.RENEWAL), None)

    async def _order(self, step: WaterfallStepContext, member: Member) -> DialogTurnResult:
        """Place the renewal order, and say how to pay it."""
        t = texts(step.context)
        assert self.services.benefits is not None
        try:
            order = await self.services.benefits.create_order(
                member.organization_id,
                member.actor,
                global_admin=member.user.global_admin,
                offer_id=step.values["offer"],
                purpose=OrderPurpose.RENEWAL,
            )
        except NotGlobalAdmin as refused:
            await step.context.send_activity(
                t.gettext(
                    "Only a global administrator of your organization can order the renewal, "
                    "and you are not one. Global administrators: {names}.",
                    names=", ".join(refused.admins) or t.gettext("(none found)"),
                )
            )
            return await step.end_dialog()
        except (RenewalNotOpen, SetupIncomplete, ViewOnlyRecord):
            await step.context.send_activity(
                t.gettext("The membership changed meanwhile; here is where it stands now.")
            )
            return await step.replace_dialog(self.initial_dialog_id)
        await self.services.membership.drop_goal(member.organization_id, member.user.id)
        await step.context.send_activity(await order_text(self.services, t, order, ORDERED))
        return await step.end_dialog()


def _renewed_until(membership: MembershipView) -> str:
    """The expiry date a renewal paid today gives (the view knows today by its days left)."""
    today = membership.expiry_date - timedelta(days=membership.days_left)
    return renewed_expiry(membership.expiry_date, today).isoformat()
