"""What every journey dialog shares: finding the member, and the words for tiers and steps."""

from __future__ import annotations

from collections.abc import Sequence

from botbuilder.core import TurnContext

from dialogs.contexts import Component
from dialogs.people import JourneyServices, Member, on_local_chat_page
from dialogs.texts import texts
from services.i18n import N_, Translator
from services.identity import DirectoryUser
from services.membership import Step, Tier

__all__ = ["STEP_NAMES", "TIER_NAMES", "JourneyDialog", "not_in_directory", "steps_text"]

TIER_NAMES = {
    Tier.NETWORK: N_("Network membership"),
    Tier.ACTION_PACK: N_("Microsoft Action Pack subscription"),
    Tier.SILVER: N_("Silver competency"),
    Tier.GOLD: N_("Gold competency"),
}
STEP_NAMES = {
    Step.SIGN_IN: N_("Sign in as a global administrator"),
    Step.LEGAL_PROFILE: N_("Legal business profile and primary contact"),
    Step.CONTACT_VERIFICATION: N_("Primary contact's email confirmed"),
    Step.AGREEMENT: N_("Partner agreement accepted"),
    Step.ADMIN_AGENT: N_("Admin agent role"),
}

NOT_IN_DIRECTORY = N_(
    "I can't find you in your organization's directory, so I can't look up its membership."
)
# The same on the local chat page (dev only), with what to do about it there.
NOT_IN_DIRECTORY_ON_PAGE = N_(
    "I can't find you in your organization's directory, so I can't look up its membership. "
    "(On the local chat page, pick a demo user at the top.)"
)


def not_in_directory(context: TurnContext) -> str:
    """Why the bot cannot look the user up (on the local chat page, what to do about it)."""
    source = NOT_IN_DIRECTORY_ON_PAGE if on_local_chat_page(context) else NOT_IN_DIRECTORY
    return texts(context).gettext(source)


LIST_SEPARATOR = N_("; ")  # between the items of a list inside a sentence


def steps_text(t: Translator, steps: Sequence[Step]) -> str:
    """The steps' names in ``t``'s language, as a list inside a sentence."""
    return t.gettext(LIST_SEPARATOR).join(t.gettext(STEP_NAMES[step]) for step in steps)


class JourneyDialog(Component):
    """A journey that needs to know who the user is and which organization they act for."""

    def __init__(self, dialog_id: str, services: JourneyServices) -> None:
        super().__init__(dialog_id)
        self.services = services

    async def member(self, context: TurnContext) -> Member | None:
        """The member with an organization record, or None after telling the user why not."""
        user = await self.directory_user(context)
        if user is None:
            return None
        organization_id = await self.services.organization_of(user)
        return await self.found(context, user, organization_id)

    async def directory_user(self, context: TurnContext) -> DirectoryUser | None:
        """The directory user behind this turn, or None after telling the user why not."""
        user = await self.services.user(context)
        if user is None:
            await context.send_activity(not_in_directory(context))
        return user

    async def found(
        self, context: TurnContext, user: DirectoryUser, organization_id: str | None
    ) -> Member | None:
        """The member ``user`` is for ``organization_id`` (recorded for the reminders), or
        None after telling the user their organization has no membership."""
        if organization_id is None:
            await context.send_activity(
                texts(context).gettext(
                    "{name}, I can't find a Microsoft Partner Network membership for your "
                    "organization. It must join the network first: https://partner.microsoft.com",
                    name=user.display_name,
                )
            )
            return None
        member = Member(user, organization_id)
        await self.services.record_member(member)
        return member
