"""Who is talking: the directory user behind the activity, and their organization.

In Teams the user is the activity's Microsoft Entra object id, in the tenant the activity
names; on the local chat page it is the demo user picked on the page (Web Chat's user id),
with no tenant unless the page acts as Teams. The bot marks the page's turns
(``on_local_chat_page``): only there do the dialogs speak of the page.

A user sees and acts only on organizations of the tenant they arrive from: a directory user
who arrives from another tenant than their own is, for that tenant, nobody.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Protocol

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from services.benefits import BenefitsService
from services.contact_verification import ContactVerification
from services.handoff import Ticket, TicketReason
from services.identity import DirectoryUser, IdentityService
from services.membership import Actor, MembershipService
from services.reminders import Member as OrganizationMember
from services.reminders import Reminders

__all__ = [
    "LOCAL_CHAT_PAGE",
    "HelpDesk",
    "HelpRequest",
    "JourneyServices",
    "Member",
    "on_local_chat_page",
    "tenant_of",
]

logger = logging.getLogger(__name__)

LOCAL_CHAT_PAGE = "membership_bot.local_chat_page"  # in a turn's state: the page sent it
_RECORD_EVERY = 3600.0  # seconds: a member is recorded for the reminders at most this often
_RECORDED = 10_000  # (user, organization) pairs this process remembers recording


def tenant_of(activity: Activity) -> str | None:
    """The tenant the activity comes from: Teams' ``channelData.tenant.id``, else the
    conversation's ``tenantId``; None outside Teams."""
    channel_data: Any = activity.channel_data
    if isinstance(channel_data, dict):
        tenant = channel_data.get("tenant")
        if isinstance(tenant, dict) and tenant.get("id"):
            return str(tenant["id"])
    else:
        tenant = getattr(getattr(channel_data, "tenant", None), "id", None)
        if tenant:
            return str(tenant)
    conversation = activity.conversation
    return str(conversation.tenant_id) if conversation and conversation.tenant_id else None


def on_local_chat_page(context: TurnContext) -> bool:
    """Whether the turn came from the local chat page (dev only), whatever channel it acts as."""
    return context.turn_state.get(LOCAL_CHAT_PAGE) is True


@dataclass(frozen=True)
class Member:
    """A directory user and the organization they act for."""

    user: DirectoryUser
    organization_id: str

    @property
    def actor(self) -> Actor:
        """The user as the services record them."""
        return Actor(id=self.user.id, name=self.user.display_name)


@dataclass(frozen=True)
class HelpRequest:
    """What asking for a person did."""

    ticket: Ticket
    position: int  # the place in the queue of waiting requests (0 once someone took it)
    created: bool  # False: the user had asked already, and this is that request
    help_desk: bool  # a help-desk channel is set up, so someone will see it


class HelpDesk(Protocol):
    """The help desk, as the dialogs need it (the bot layer posts to its Teams channel)."""

    async def request(
        self,
        context: TurnContext,
        *,
        reason: TicketReason,
        organization_id: str | None,
        journey: str | None,
        step: str | None,
    ) -> HelpRequest:
        """Ask for a person for this turn's user (once: a second ask gives the same request)."""
        ...

    async def cancel(self, context: TurnContext) -> Ticket | None:
        """Withdraw this user's waiting or ongoing request, if any (the agents are told)."""
        ...

    async def rate(self, context: TurnContext, ticket_id: int, score: int) -> Ticket:
        """Keep the user's 1 to 5 rating of the help they had."""
        ...

    async def waiting(self, context: TurnContext) -> Ticket | None:
        """This user's request still waiting for someone to take it, if any."""
        ...


@dataclass(frozen=True)
class JourneyServices:
    """What the journey dialogs need from the services layer."""

    membership: MembershipService
    identity: IdentityService
    verification: ContactVerification
    reminders: Reminders | None = None
    benefits: BenefitsService | None = None
    help_desk: HelpDesk | None = None
    # When this process last recorded each (user, organization) for the reminders.
    _recorded: OrderedDict[tuple[str, str], float] = field(
        default_factory=OrderedDict, init=False, repr=False, compare=False
    )

    async def user(self, context: TurnContext) -> DirectoryUser | None:
        """The directory user behind this turn's activity, if the directory knows them there.

        When the activity names a tenant, a user of another tenant is not found; nor is a user
        the directory ties to no tenant, unless the tenant is one the directory knows and the
        organization they act for is not another tenant's.
        """
        activity = context.activity
        sender = activity.from_property
        if sender is None:
            return None
        user = await self.identity.user(sender.aad_object_id or sender.id)
        tenant_id = tenant_of(activity)
        if user is None or tenant_id is None or user.tenant_id == tenant_id:
            return user
        if user.tenant_id is not None or await self.identity.tenant(tenant_id) is None:
            return None
        # Linked to an organization, not a tenant: ``organization_for`` prefers the tenant's
        # own organization, so getting another one back means the tenant is someone else's.
        found = await self.membership.organization_for(
            tenant_id=tenant_id, organization_id=user.organization_id
        )
        if found is None:
            return user  # no organization to see: the journeys say so
        if found != user.organization_id:
            return None
        owner = (await self.membership.status(found)).tenant_id
        return user if owner in (None, tenant_id) else None

    async def organization_of(self, user: DirectoryUser) -> str | None:
        """The organization ``user`` acts for, if it has a membership record."""
        return await self.membership.organization_for(
            tenant_id=user.tenant_id, organization_id=user.organization_id
        )

    async def record_member(self, member: Member) -> None:
        """Tell the reminders who the bot met, at most once an hour per user and organization.

        Reminders are a side line of the journey: a failure here is logged, never shown.
        """
        if self.reminders is None:
            return
        key = (member.user.id, member.organization_id)
        now = time.monotonic()
        last = self._recorded.get(key)
        if last is not None and now - last < _RECORD_EVERY:
            return
        # Remembered before trying: a database that is away costs one attempt an hour, not one
        # every turn.
        self._recorded[key] = now
        self._recorded.move_to_end(key)
        if len(self._recorded) > _RECORDED:
            self._recorded.popitem(last=False)
        user = member.user
        try:
            await self.reminders.record_member(
                OrganizationMember(
                    organization_id=member.organization_id, user_id=user.id,
                    display_name=user.display_name, email=user.email,
                    global_admin=user.global_admin,
                )
            )  # fmt: skip
        except Exception:
            logger.warning("could not record a member for the reminders", exc_info=True,
                           extra={"user_id": user.id})  # fmt: skip
