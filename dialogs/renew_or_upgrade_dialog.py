"""Renew or upgrade: the menu item that offers both asks which, then runs that journey.

Typing "renew" or "upgrade" (or a button of either) goes straight to its journey; only the
menu item, which names both, asks first.
"""

from __future__ import annotations

from botbuilder.dialogs import DialogTurnResult, WaterfallStepContext

from dialogs.benefits_dialog import BenefitsDialog
from dialogs.cards import Option
from dialogs.intents import JOURNEY_LABELS, Intent
from dialogs.journey_dialog import JourneyDialog
from dialogs.people import JourneyServices
from dialogs.prompts import OptionPrompt, ask
from dialogs.renew_dialog import RenewDialog
from dialogs.texts import texts
from dialogs.waterfall import Waterfall
from services.i18n import N_

__all__ = ["RenewOrUpgradeDialog"]

RENEW = Option(Intent.RENEW, JOURNEY_LABELS[Intent.RENEW])
UPGRADE = Option(Intent.UPGRADE, JOURNEY_LABELS[Intent.UPGRADE])
NOT_NOW = Option("renew_or_upgrade.not_now", N_("Not now"))


class RenewOrUpgradeDialog(JourneyDialog):
    """Ask whether to renew or to upgrade, then do it."""

    def __init__(self, services: JourneyServices) -> None:
        super().__init__(RenewOrUpgradeDialog.__name__, services)
        self.add_dialog(RenewDialog(services))
        self.add_dialog(BenefitsDialog(services))
        self.add_dialog(OptionPrompt("renew_or_upgrade", no=NOT_NOW))
        self.add_dialog(Waterfall("which", [self.which_step, self.journey_step]))
        self.initial_dialog_id = "which"

    async def which_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Ask which (someone the directory does not know goes to the renewal: it says why)."""
        if await self.services.user(step.context) is None:
            return await step.next(RENEW.action)
        return await step.prompt(
            "renew_or_upgrade",
            ask(N_("Renew the membership, or upgrade it?"), choices=[RENEW, UPGRADE, NOT_NOW]),
        )

    async def journey_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Renew, upgrade, or leave it."""
        if step.result == RENEW.action:
            return await step.replace_dialog(RenewDialog.__name__)
        if step.result == UPGRADE.action:
            return await step.replace_dialog(BenefitsDialog.__name__, {"path": "upgrade"})
        await step.context.send_activity(texts(step.context).gettext("OK, nothing was changed."))
        return await step.end_dialog()
