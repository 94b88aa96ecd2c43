"""Benefits and upgrades: upgrade the membership, buy offers, activate benefits, and roles.

The hub shows where the organization stands (benefits active and ready, orders waiting for
payment) and offers four paths, each its own waterfall inside this component:

* **upgrade**: the current tier and what each higher one adds, with why one is out of reach;
  the Action Pack is bought (the buy path), a competency is applied for: a solution area, then
  each requirement attested or evidenced, then an application that Microsoft reviews;
* **buy**: global administrators only (the others are told who can); an offer priced in the
  organization's currency, confirmed, then an order that waits for payment;
* **activate**: the benefits by state; activating one asks for its detail (a tenant, a number
  of seats) when it needs one. A button's ``activate.<id>`` works from any older card too,
  and activating twice activates once;
* **roles**: which Partner Center role may do what, and how to assign them.

The catalog's names and descriptions come in both languages; everything else is gettext.
"""

from __future__ import annotations

import re
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogTurnResult, WaterfallStepContext
from botbuilder.dialogs.prompts import PromptValidatorContext

from dialogs.cards import (
    MANAGE_BENEFITS,
    Option,
    benefits_card,
    card_action,
    continue_card,
    every_language,
    message,
    offers_card,
    upgrade_card,
)
from dialogs.intents import Intent, fold
from dialogs.journey_dialog import TIER_NAMES, JourneyDialog
from dialogs.people import JourneyServices, Member
from dialogs.prices import format_price, order_text
from dialogs.prompts import LocalizedTextPrompt, OptionPrompt, ask
from dialogs.setup_first_dialog import SetupFirstDialog
from dialogs.texts import texts, turn_locale
from dialogs.waterfall import Waterfall
from services.benefits import (
    Benefit,
    BenefitState,
    DetailRequired,
    IneligibleUpgrade,
    NotGlobalAdmin,
    UpgradeBlock,
)
from services.catalog import ActivationDetail, LocalizedText
from services.errors import SetupIncomplete, ViewOnlyRecord
from services.i18n import N_, Locale, translator
from services.membership import Goal, Tier

__all__ = ["ACTIVATE_PREFIX", "BenefitsDialog"]

UPGRADE = Option("benefits.upgrade", N_("Upgrade the membership"))
BUY = Option("benefits.buy", N_("Buy offers"))
MANAGE = Option(MANAGE_BENEFITS, N_("Activate and manage benefits"))
ROLES = Option("benefits.roles", N_("Add users and permissions"))
BACK = Option("benefits.back", N_("Back to the menu"))
NOT_NOW = Option("benefits.not_now", N_("Not now"))
ATTEST = Option("upgrade.attest", N_("Yes, we meet it"))
CANNOT = Option("upgrade.cannot", N_("Not yet"))
SUBMIT = Option("upgrade.submit", N_("Send the application"))
ORDER = Option("buy.order", N_("Place the order"))
DONE = Option("activate.done", N_("Done"))
OWN_TENANT = "activate.own_tenant"

ACTIVATE_PREFIX = "activate."
_TIER_PREFIX = "upgrade.tier."
_AREA_PREFIX = "upgrade.area."
_OFFER_PREFIX = "buy.offer."
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_MOST_SEATS = 10_000

NOTHING_CHANGED = N_("OK, nothing was changed.")
ORDERED = N_(
    "Order {id} is placed: {price}, waiting for payment. I'll tell you here when the payment is "
    "confirmed and the benefits are ready."
)
BLOCKS = {
    UpgradeBlock.NO_MEMBERSHIP: N_("your organization has no membership record"),
    UpgradeBlock.SETUP_INCOMPLETE: N_("the Partner Center account must be set up first"),
    UpgradeBlock.EXPIRED: N_("the membership must be renewed first"),
    UpgradeBlock.ALREADY_AT_OR_ABOVE: N_("you already have it, or a higher option"),
    UpgradeBlock.APPLICATION_PENDING: N_("an application for it is in review"),
}
ROLES_TEXT = N_(
    "**Roles in Partner Center**, and what each may do:\n\n"
    "- **Global administrator** of your Microsoft Entra ID tenant (formerly Azure AD): everything, "
    "including buying "
    "offers and assigning every role.\n"
    "- **Account administrator**: manages the company profile, users and their roles, and "
    "benefits; cannot assign the global administrator role.\n"
    "- **Admin agent**: acts for customers (their subscriptions and support) and finishes the "
    "account setup, adding users included.\n"
    "- **MPN partner administrator**: manages the membership: competencies, benefits and the "
    "Action Pack; associates the MPN ID.\n"
    "- **Referrals administrator**: manages the co-sell referrals and leads.\n\n"
    "**To add a user and assign roles**, in Partner Center:\n\n"
    "1. Select Account settings > User management.\n"
    "2. Select Add user, enter their name and work email (they must be in your tenant).\n"
    "3. Select the roles the user needs, then Save.\n\n"
    "To change someone's roles later, select their name in the list, change the roles, then "
    "select Update. Only a global or account administrator can do this."
)


def _words(text: LocalizedText) -> dict[str, str]:
    """A catalog text in each language, to be shown in the language of the moment."""
    return {locale.value: text.text(locale) for locale in Locale}


class BenefitsDialog(JourneyDialog):
    """The hub and the four paths: upgrade, buy, activate and manage, roles."""

    HUB = "benefits_hub"

    def __init__(self, services: JourneyServices) -> None:
        super().__init__(BenefitsDialog.__name__, services)
        self.add_dialog(SetupFirstDialog(services))
        self.add_dialog(OptionPrompt(self.HUB))
        self.add_dialog(OptionPrompt("pick", no=NOT_NOW))
        self.add_dialog(OptionPrompt("attest", yes=ATTEST, no=CANNOT))
        self.add_dialog(OptionPrompt("confirm", yes=SUBMIT, no=NOT_NOW))
        self.add_dialog(OptionPrompt("order", yes=ORDER, no=NOT_NOW))
        self.add_dialog(LocalizedTextPrompt("evidence", self._recognize_evidence))
        self.add_dialog(LocalizedTextPrompt("tenant", self._recognize_tenant))
        self.add_dialog(LocalizedTextPrompt("seats", self._recognize_seats))
        self.add_dialog(Waterfall("hub", [self.hub_step, self.route_step]))
        upgrade = [self.upgrade_setup_step, self.upgrade_step, self.tier_step]
        self.add_dialog(Waterfall("upgrade", upgrade))
        self.add_dialog(Waterfall("apply", [self.area_step, self.area_chosen_step]))
        self.add_dialog(Waterfall("requirement", [self.ask_step, self.answer_step]))
        self.add_dialog(Waterfall("submit", [self.submit_step, self.submitted_step]))
        buy = [self.buy_setup_step, self.offers_step, self.price_step, self.buy_step]
        self.add_dialog(Waterfall("buy", buy))
        self.add_dialog(Waterfall("manage", [self.list_step, self.picked_step]))
        self.add_dialog(Waterfall("activate", [self.detail_step, self.activate_step]))
        self.initial_dialog_id = "hub"

    # The hub

    async def hub_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Sum up the benefits and orders, and offer the paths (or take the one asked for)."""
        options: dict[str, Any] = step.options if isinstance(step.options, dict) else {}
        if (benefit_id := options.get("activate")) is not None:
            return await step.replace_dialog("activate", {"benefit": benefit_id})
        if (path := options.get("path")) in ("manage", "upgrade"):
            return await step.replace_dialog(path)
        member = await self.member(step.context)
        if member is None or (service := self.services.benefits) is None:
            return await step.end_dialog()
        status = await self.services.membership.status(member.organization_id)
        benefits = await service.benefits(member.organization_id)
        orders = await service.orders(member.organization_id, open_only=True)
        tier = status.membership.tier if status.membership else None
        return await step.prompt(
            self.HUB,
            ask(
                N_(
                    "{organization}: {tier}. Benefits active: {active}; ready to activate: "
                    "{ready}; orders waiting for payment: {orders}. What would you like to do?"
                ),
                choices=[UPGRADE, BUY, MANAGE, ROLES, BACK],
                translate={"tier": TIER_NAMES[tier] if tier else N_("No membership record.")},
                organization=status.legal_name,
                active=sum(b.state in _IN_USE and b.activated_at is not None for b in benefits),
                ready=len(_ready(benefits)),
                orders=len(orders),
            ),
        )

    async def route_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Go down the chosen path."""
        paths = {UPGRADE.action: "upgrade", BUY.action: "buy", MANAGE.action: "manage"}
        if (path := paths.get(step.result)) is not None:
            return await step.replace_dialog(path)
        if step.result == ROLES.action:
            await step.context.send_activity(texts(step.context).gettext(ROLES_TEXT))
        return await step.end_dialog()

    # Upgrade

    async def upgrade_setup_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Do the account setup upgrading needs first, if any is missing."""
        return await self._setup_first(step, Goal.UPGRADE)

    async def upgrade_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Show the current tier and each higher one; ask which, among those within reach."""
        member = await self.member(step.context)
        if step.result is not True or member is None or (service := self.services.benefits) is None:
            return await step.end_dialog()
        t = texts(step.context)
        status = await self.services.membership.status(member.organization_id)
        if status.membership is None:
            await step.context.send_activity(t.gettext("No membership record."))
            return await step.end_dialog()
        if status.membership.days_left < 0:
            # A network member upgrades: renewing comes first, and the upgrade is kept for after.
            await self.services.membership.set_goal(
                member.organization_id, member.user.id, Goal.UPGRADE
            )
            text = t.gettext(
                "Your membership expired on {date}: renew it first, then you can upgrade.",
                date=status.membership.expiry_date.isoformat(),
            )
            await step.context.send_activity(message(continue_card(t, text, Intent.RENEW)))
            return await step.end_dialog()
        choices = await service.upgrade_options(member.organization_id)
        if not choices:
            await step.context.send_activity(
                t.gettext(
                    "You have the {tier}: there is no higher option to upgrade to.",
                    tier=t.gettext(TIER_NAMES[status.membership.tier]),
                )
            )
            return await step.end_dialog()
        catalog = await service.catalog()
        locale = turn_locale(step.context)
        card = upgrade_card(
            t,
            current=t.gettext(TIER_NAMES[status.membership.tier]),
            options=[
                (
                    choice.tier.name.text(locale),
                    choice.tier.description.text(locale),
                    [
                        f"{grant.quantity} × {catalog.benefit(grant.benefit).name.text(locale)}"
                        for grant in choice.tier.benefits
                    ],
                    t.gettext(BLOCKS[choice.block]) if choice.block else None,
                )
                for choice in choices
            ],
        )
        await step.context.send_activity(message(card))
        eligible = [choice.tier for choice in choices if choice.eligible]
        if not eligible:
            await self._drop_goal(member)
            return await step.end_dialog()
        return await step.prompt(
            "pick",
            ask(
                N_("Which one would you like?"),
                choices=[
                    *(Option(f"{_TIER_PREFIX}{tier.id}", _words(tier.name)) for tier in eligible),
                    NOT_NOW,
                ],
            ),
        )

    async def tier_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Buy the tier's offer (the Action Pack), or apply for it (a competency)."""
        if not isinstance(step.result, str) or not step.result.startswith(_TIER_PREFIX):
            member = await self.member(step.context)
            if member is not None:
                await self._drop_goal(member)
            await step.context.send_activity(texts(step.context).gettext(NOTHING_CHANGED))
            return await step.end_dialog()
        tier = Tier(step.result.removeprefix(_TIER_PREFIX))
        assert self.services.benefits is not None
        spec = (await self.services.benefits.catalog()).tier(tier)
        if spec.purchasable_offer:
            return await step.replace_dialog("buy", {"offer": spec.purchasable_offer})
        return await step.replace_dialog("apply", {"tier": tier.value, "answers": {}})

    async def area_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Ask in which solution area the competency is sought."""
        state: dict[str, Any] = dict(step.options)
        step.values["state"] = state
        assert self.services.benefits is not None
        spec = (await self.services.benefits.catalog()).tier(Tier(state["tier"]))
        if not spec.solution_areas:
            return await step.next(None)
        return await step.prompt(
            "pick",
            ask(
                N_("In which solution area?"),
                choices=[
                    *(Option(f"{_AREA_PREFIX}{a.id}", _words(a.name)) for a in spec.solution_areas),
                    NOT_NOW,
                ],
            ),
        )

    async def area_chosen_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Go through the requirements, one by one."""
        state = step.values["state"]
        if step.result == NOT_NOW.action:
            await step.context.send_activity(texts(step.context).gettext(NOTHING_CHANGED))
            return await step.end_dialog()
        if isinstance(step.result, str):
            state["area"] = step.result.removeprefix(_AREA_PREFIX)
        return await step.replace_dialog("requirement", {**state, "index": 0})

    async def ask_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Ask to attest the next requirement, or for its evidence."""
        state: dict[str, Any] = dict(step.options)
        step.values["state"] = state
        assert self.services.benefits is not None
        spec = (await self.services.benefits.catalog()).tier(Tier(state["tier"]))
        if state["index"] >= len(spec.requirements):
            return await step.replace_dialog("submit", state)
        requirement = spec.requirements[state["index"]]
        values: dict[str, Any] = {
            "number": state["index"] + 1,
            "total": len(spec.requirements),
            "translate": {"requirement": _words(requirement.text)},
        }
        if requirement.evidence:
            return await step.prompt(
                "evidence",
                ask(
                    N_(
                        "Requirement {number} of {total}: {requirement}\n\nDescribe your "
                        "evidence, or paste a link to it."
                    ),
                    retry=N_(
                        "Please describe the evidence in a few words (at least 10 characters), "
                        "or paste a link to it."
                    ),
                    **values,
                ),
            )
        return await step.prompt(
            "attest",
            ask(
                N_(
                    "Requirement {number} of {total}: {requirement}\n\nDoes your organization "
                    "meet it?"
                ),
                choices=[ATTEST, CANNOT],
                **values,
            ),
        )

    async def answer_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Keep the answer and go on; a requirement not met ends the application here."""
        state = step.values["state"]
        assert self.services.benefits is not None
        spec = (await self.services.benefits.catalog()).tier(Tier(state["tier"]))
        requirement = spec.requirements[state["index"]]
        if step.result == CANNOT.action:
            await step.context.send_activity(
                texts(step.context).gettext(
                    "Then the application can't go in yet: every requirement must be met. "
                    "Nothing was sent; come back when your organization meets it."
                )
            )
            return await step.end_dialog()
        answer = "attested" if step.result == ATTEST.action else str(step.result)
        answers = {**state["answers"], requirement.id: answer}
        return await step.replace_dialog(
            "requirement", {**state, "answers": answers, "index": state["index"] + 1}
        )

    async def submit_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Confirm sending the application for review."""
        state: dict[str, Any] = dict(step.options)
        step.values["state"] = state
        return await step.prompt(
            "confirm",
            ask(
                N_(
                    "Send the application for the {tier} for review? Microsoft checks the "
                    "answers and evidence; the competency is granted once the review approves it."
                ),
                choices=[SUBMIT, NOT_NOW],
                translate={"tier": TIER_NAMES[Tier(state["tier"])]},
            ),
        )

    async def submitted_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Send the application, or leave it."""
        t = texts(step.context)
        state = step.values["state"]
        member = await self.member(step.context)
        if step.result != SUBMIT.action or member is None:
            await step.context.send_activity(t.gettext(NOTHING_CHANGED))
            return await step.end_dialog()
        assert self.services.benefits is not None
        try:
            application = await self.services.benefits.apply_for_upgrade(
                member.organization_id,
                member.actor,
                Tier(state["tier"]),
                state.get("area"),
                dict(state["answers"]),
            )
        except IneligibleUpgrade as refused:
            await step.context.send_activity(
                t.gettext(
                    "The application can't go in: {reason}.",
                    reason=t.gettext(BLOCKS[refused.block]),
                )
            )
            return await step.end_dialog()
        await self._drop_goal(member)
        await step.context.send_activity(
            t.gettext(
                "Application {id} for the {tier} is in review. You will find its state on the "
                "status card.",
                id=application.id,
                tier=t.gettext(TIER_NAMES[application.tier]),
            )
        )
        return await step.end_dialog()

    # Buy

    async def buy_setup_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Global administrators only; the account setup buying needs first, if missing."""
        member = await self.member(step.context)
        if member is None:
            return await step.end_dialog()
        if not member.user.global_admin:
            await self._tell_who_can_buy(step.context, member)
            return await step.end_dialog()
        return await self._setup_first(step, Goal.BUY)

    async def offers_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Show the offers with their prices, and ask which."""
        options: dict[str, Any] = step.options if isinstance(step.options, dict) else {}
        member = await self.member(step.context)
        if step.result is not True or member is None or (service := self.services.benefits) is None:
            return await step.end_dialog()
        t = texts(step.context)
        locale = turn_locale(step.context)
        priced = [(o, p) for o, p in await service.offers(member.organization_id) if p is not None]
        if options.get("offer") in {offer.id for offer, _ in priced}:
            return await step.next(f"{_OFFER_PREFIX}{options['offer']}")
        if not priced:
            await step.context.send_activity(
                t.gettext("There are no offers for your organization's country or region yet.")
            )
            return await step.end_dialog()
        catalog = await service.catalog()
        card = offers_card(
            t,
            [
                (
                    offer.name.text(locale),
                    offer.description.text(locale),
                    format_price(price.amount, price.currency),
                    [
                        f"{grant.quantity} × {catalog.benefit(grant.benefit).name.text(locale)}"
                        for grant in offer.grants
                    ],
                )
                for offer, price in priced
            ],
        )
        await step.context.send_activity(message(card))
        return await step.prompt(
            "pick",
            ask(
                N_("Which offer would you like to buy?"),
                choices=[
                    *(Option(f"{_OFFER_PREFIX}{o.id}", _words(o.name)) for o, _ in priced),
                    NOT_NOW,
                ],
            ),
        )

    async def price_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Confirm the order at its price."""
        if not isinstance(step.result, str) or not step.result.startswith(_OFFER_PREFIX):
            await step.context.send_activity(texts(step.context).gettext(NOTHING_CHANGED))
            return await step.end_dialog()
        member = await self.member(step.context)
        if member is None or (service := self.services.benefits) is None:
            return await step.end_dialog()
        offer_id = step.result.removeprefix(_OFFER_PREFIX)
        step.values["offer"] = offer_id
        offer, price = next(
            (o, p) for o, p in await service.offers(member.organization_id) if o.id == offer_id
        )
        assert price is not None
        return await step.prompt(
            "order",
            ask(
                N_(
                    "Order {offer} for {price}? The order waits for payment; the benefits are "
                    "provisioned once the payment is confirmed."
                ),
                choices=[ORDER, NOT_NOW],
                translate={"offer": _words(offer.name)},
                price=format_price(price.amount, price.currency),
            ),
        )

    async def buy_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Place the order, or leave it."""
        t = texts(step.context)
        member = await self.member(step.context)
        if step.result != ORDER.action or member is None or self.services.benefits is None:
            await step.context.send_activity(t.gettext(NOTHING_CHANGED))
            return await step.end_dialog()
        try:
            order = await self.services.benefits.create_order(
                member.organization_id,
                member.actor,
                global_admin=member.user.global_admin,
                offer_id=step.values["offer"],
            )
        except NotGlobalAdmin:
            await self._tell_who_can_buy(step.context, member)
            return await step.end_dialog()
        except (ViewOnlyRecord, SetupIncomplete, IneligibleUpgrade):
            await step.context.send_activity(t.gettext("The membership changed meanwhile."))
            return await step.replace_dialog("buy")
        await self._drop_goal(member)
        await step.context.send_activity(await order_text(self.services, t, order, ORDERED))
        return await step.end_dialog()

    async def _setup_first(self, step: WaterfallStepContext, goal: Goal) -> DialogTurnResult:
        """Run the account setup ``goal`` needs first (or go on at once: True when it may)."""
        member = await self.member(step.context)
        if member is None:
            return await step.end_dialog()
        status = await self.services.membership.status(member.organization_id)
        if status.membership is not None and status.setup_missing:
            return await step.begin_dialog(SetupFirstDialog.__name__, {"goal": goal.value})
        return await step.next(True)

    async def _drop_goal(self, member: Member) -> None:
        await self.services.membership.drop_goal(member.organization_id, member.user.id)

    async def _tell_who_can_buy(self, context: TurnContext, member: Member) -> None:
        t = texts(context)
        names: list[str] = []
        if member.user.tenant_id:
            admins = await self.services.identity.global_admins(member.user.tenant_id)
            names = [admin.display_name for admin in admins]
        if not names and self.services.benefits is not None:
            names = await self.services.benefits.who_can_buy(member.organization_id)
        await context.send_activity(
            t.gettext(
                "Only a global administrator of your organization can buy offers, and you are "
                "not one. Global administrators: {names}. Ask one of them to open this chat and "
                "choose “Buy and activate benefits”.",
                names=", ".join(names) or t.gettext("(none found)"),
            )
        )

    # Activate and manage

    async def list_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Show the benefits by state; offer to activate those ready."""
        member = await self.member(step.context)
        if member is None or (service := self.services.benefits) is None:
            return await step.end_dialog()
        t = texts(step.context)
        benefits = await service.benefits(member.organization_id)
        if not benefits:
            await step.context.send_activity(
                t.gettext(
                    "Your organization has no benefits yet: buying an offer or upgrading the "
                    "membership brings some."
                )
            )
            return await step.end_dialog()
        locale = turn_locale(step.context)
        await step.context.send_activity(message(benefits_card(t, locale, benefits)))
        ready = _ready(benefits)
        if not ready:
            return await step.end_dialog()
        return await step.prompt(
            "pick",
            ask(
                N_("Activate one?"),
                choices=[
                    *(
                        Option(
                            f"{ACTIVATE_PREFIX}{b.id}",
                            {
                                language.value: translator(language).gettext(
                                    "Activate: {name}", name=b.spec.name.text(language)
                                )
                                for language in Locale
                            },
                        )
                        for b in ready
                    ),
                    DONE,
                ],
            ),
        )

    async def picked_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Activate the chosen benefit."""
        if isinstance(step.result, str) and step.result.startswith(ACTIVATE_PREFIX):
            benefit_id = step.result.removeprefix(ACTIVATE_PREFIX)
            if benefit_id.isdigit():
                return await step.replace_dialog("activate", {"benefit": int(benefit_id)})
        return await step.end_dialog()

    async def detail_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Ask for what activating needs: the tenant, or the number of seats."""
        benefit_id = int(dict(step.options)["benefit"])
        step.values["benefit"] = benefit_id
        member = await self.member(step.context)
        if member is None or (service := self.services.benefits) is None:
            return await step.end_dialog()
        t = texts(step.context)
        benefit = next(
            (b for b in await service.benefits(member.organization_id) if b.id == benefit_id), None
        )
        if benefit is None:
            await step.context.send_activity(
                t.gettext("That benefit isn't your organization's, or it no longer exists.")
            )
            return await step.end_dialog()
        if benefit.activated_at is not None:
            return await step.next(None)  # activating again says when it was
        name = _words(benefit.spec.name)
        if benefit.spec.needs is ActivationDetail.TENANT:
            status = await self.services.membership.status(member.organization_id)
            own = (
                [Option(OWN_TENANT, await self._tenant_words(status.tenant_id))]
                if status.tenant_id
                else []
            )
            return await step.prompt(
                "tenant",
                ask(
                    N_(
                        "Which Microsoft Entra ID (formerly Azure AD) tenant should {benefit} go "
                        "to? Type its tenant ID "
                        "(like 00000000-0000-0000-0000-000000000000), or its "
                        "name.onmicrosoft.com domain."
                    ),
                    retry=N_(
                        "That is not a tenant ID or an onmicrosoft.com domain. Type the tenant "
                        "ID (8-4-4-4-12 hexadecimal digits) or the name.onmicrosoft.com domain."
                    ),
                    choices=own,
                    translate={"benefit": name},
                    own_tenant=status.tenant_id,
                ),
            )
        if benefit.spec.needs is ActivationDetail.SEATS:
            most = min(benefit.quantity - benefit.used, _MOST_SEATS)
            step.values["most_seats"] = most
            return await step.prompt(
                "seats",
                ask(
                    N_("How many seats of {benefit} do you need now (1 to {most})?"),
                    retry=N_("Type a whole number from 1 to {most}."),
                    translate={"benefit": name},
                    most=most,
                ),
            )
        return await step.next(None)

    async def _tenant_words(self, tenant_id: str) -> dict[str, str]:
        """The organization's tenant named in words, in each language: its name and a domain
        (an onmicrosoft.com one first), never its bare ID."""
        tenant = await self.services.identity.tenant(tenant_id)
        words = {}
        for language in Locale:
            t = translator(language)
            if tenant is None:
                words[language.value] = t.gettext("Our organization's tenant")
                continue
            domains = sorted(
                tenant.verified_domains, key=lambda domain: not domain.endswith(".onmicrosoft.com")
            )
            words[language.value] = (
                t.gettext("Our tenant: {name} ({domain})", name=tenant.name, domain=domains[0])
                if domains
                else t.gettext("Our tenant: {name}", name=tenant.name)
            )
        return words

    async def activate_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Activate (once), and say who activated it and when."""
        t = texts(step.context)
        member = await self.member(step.context)
        if member is None or self.services.benefits is None:
            return await step.end_dialog()
        detail = None if step.result is None else str(step.result)
        try:
            activation = await self.services.benefits.activate(
                member.organization_id, step.values["benefit"], member.actor, detail
            )
        except DetailRequired:
            return await step.replace_dialog("activate", {"benefit": step.values["benefit"]})
        benefit = activation.benefit
        name = benefit.spec.name.text(turn_locale(step.context))
        when = benefit.activated_at.date().isoformat() if benefit.activated_at else ""
        if activation.already_active:
            text = t.gettext(
                "{benefit} was already activated, by {who} on {date}.",
                benefit=name, who=benefit.activated_by or "", date=when,
            )  # fmt: skip
        else:
            text = t.gettext(
                "{benefit} is active: activated by {who} on {date}, until {end}.",
                benefit=name, who=benefit.activated_by or "", date=when,
                end=benefit.term_end.isoformat(),
            )  # fmt: skip
        await step.context.send_activity(text)
        return await step.end_dialog()

    # Validators

    async def _recognize_evidence(self, prompt: PromptValidatorContext) -> bool:
        value = (prompt.recognized.value or "").strip() if prompt.recognized.succeeded else ""
        if len(value) < 10:
            return False
        prompt.recognized.value = value[:2000]
        return True

    async def _recognize_tenant(self, prompt: PromptValidatorContext) -> bool:
        spec = prompt.options.validations
        own = spec.get("values", {}).get("own_tenant")
        value = (prompt.recognized.value or "").strip() if prompt.recognized.succeeded else ""
        label = next((c["label"] for c in spec.get("choices", [])), None)
        typed_label = (
            label is not None
            and card_action(prompt.context.activity) is None
            and fold(value) in {fold(words) for words in every_language(label)}
        )
        if card_action(prompt.context.activity) == OWN_TENANT or typed_label:
            prompt.recognized.value = own
            return own is not None
        if _GUID.match(value) or re.fullmatch(
            r"[a-z0-9][a-z0-9-]{0,62}\.onmicrosoft\.com", value.lower()
        ):
            prompt.recognized.value = value.lower()
            return True
        return False

    async def _recognize_seats(self, prompt: PromptValidatorContext) -> bool:
        value = (prompt.recognized.value or "").strip() if prompt.recognized.succeeded else ""
        most = int(prompt.options.validations.get("values", {}).get("most", 0))
        digits = value.translate(_FULL_WIDTH_DIGITS)
        if not digits.isdigit() or not 1 <= int(digits) <= most:
            return False
        prompt.recognized.value = str(int(digits))
        return True


_IN_USE = (BenefitState.ACTIVE, BenefitState.EXPIRING)
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def _ready(benefits: list[Benefit]) -> list[Benefit]:
    """The benefits that can be activated now."""
    return [
        b
        for b in benefits
        if b.activated_at is None and b.state in (BenefitState.AVAILABLE, BenefitState.EXPIRING)
    ]
