"""Renew the membership: open from 90 days before expiry; legacy records need the account first."""

from __future__ import annotations

from botbuilder.dialogs import DialogTurnResult, WaterfallStepContext

from dialogs.cards import Option, message, renewal_card
from dialogs.create_account_dialog import CreateAccountDialog
from dialogs.journey_dialog import TIER_NAMES, JourneyDialog
from dialogs.people import JourneyServices
from dialogs.prompts import OptionPrompt, ask
from dialogs.texts import texts
from dialogs.waterfall import Waterfall
from services.errors import RenewalNotOpen, ViewOnlyRecord
from services.i18n import N_
from services.membership import Source

__all__ = ["CREATE_ACCOUNT_FIRST", "RenewDialog"]

RENEW_NOW = Option("renew.now", N_("Renew now"))
NOT_NOW = Option("renew.not_now", N_("Not now"))
CREATE_ACCOUNT_FIRST = Option("renew.create_account", N_("Create the account now"))
LEGACY = N_(
    "Your membership record is still in the legacy Partner Membership Center. To renew, first "
    "create your Partner Center account: that moves the record into Partner Center. Start now?"
)
LEGACY_EXPIRED = N_(
    "Your membership has expired and its record in the legacy Partner Membership Center is "
    "view-only. To renew, first create your Partner Center account: that moves the record into "
    "Partner Center. Start now?"
)


class RenewDialog(JourneyDialog):
    """Check the record and the calendar, confirm, renew, and sum up."""

    CONFIRM = "renew_confirm"

    def __init__(self, services: JourneyServices) -> None:
        super().__init__(RenewDialog.__name__, services)
        self.add_dialog(CreateAccountDialog(services))
        self.add_dialog(OptionPrompt(self.CONFIRM, yes=RENEW_NOW, no=NOT_NOW))
        self.add_dialog(OptionPrompt("legacy_confirm", yes=CREATE_ACCOUNT_FIRST, no=NOT_NOW))
        self.add_dialog(Waterfall("renew", [self.check_step, self.renew_step]))
        self.initial_dialog_id = "renew"

    async def check_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Say why renewal cannot happen yet, or ask to confirm it."""
        member = await self.member(step.context)
        if member is None:
            return await step.end_dialog()
        t = texts(step.context)
        status = await self.services.membership.status(member.organization_id)
        membership = status.membership
        if membership is None:
            await step.context.send_activity(t.gettext("No membership record."))
            return await step.end_dialog()
        if membership.source is Source.LEGACY:
            question = LEGACY_EXPIRED if membership.view_only else LEGACY
            return await step.prompt(
                "legacy_confirm", ask(question, choices=[CREATE_ACCOUNT_FIRST, NOT_NOW])
            )
        if not membership.can_renew:
            await step.context.send_activity(
                t.gettext(
                    "Renewal opens on {opens}, 90 days before your membership expires on "
                    "{expiry}. I'll be able to renew it from then on.",
                    opens=membership.renewal_opens_on.isoformat(),
                    expiry=membership.expiry_date.isoformat(),
                )
            )
            return await step.end_dialog()
        question = (
            N_(
                "Renew the {tier} of {organization} (MPN ID {mpn_id})? It expires on "
                "{expiry}; renewing adds one year."
            )
            if membership.days_left >= 0
            else N_(
                "Renew the {tier} of {organization} (MPN ID {mpn_id})? It expired on "
                "{expiry}; renewing adds one year from today."
            )
        )
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
        """Renew, start account creation, or leave it for later."""
        t = texts(step.context)
        if step.result == CREATE_ACCOUNT_FIRST.action:
            return await step.replace_dialog(CreateAccountDialog.__name__)
        if step.result != RENEW_NOW.action:
            await step.context.send_activity(t.gettext("OK, nothing was changed."))
            return await step.end_dialog()
        member = await self.member(step.context)
        if member is None:
            return await step.end_dialog()
        try:
            renewed = await self.services.membership.renew(member.organization_id, member.actor)
        except (RenewalNotOpen, ViewOnlyRecord):
            # Someone else renewed or changed the record since the question was asked.
            await step.context.send_activity(
                t.gettext("The membership changed meanwhile; here is where it stands now.")
            )
            return await step.replace_dialog(self.initial_dialog_id)
        await step.context.send_activity(message(renewal_card(t, renewed)))
        return await step.end_dialog()
