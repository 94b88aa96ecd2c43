"""Who is talking: the directory user behind the activity, and their organization.

In Teams the user is the activity's Microsoft Entra object id; on the local chat page it is
the demo user picked on the page (Web Chat's user id).
"""

from __future__ import annotations

from dataclasses import dataclass

from botbuilder.core import TurnContext

from services.contact_verification import ContactVerification
from services.identity import DirectoryUser, IdentityService
from services.membership import Actor, MembershipService

__all__ = ["JourneyServices", "Member"]


@dataclass(frozen=True)
class Member:
    """A directory user and the organization they act for (None when it has no record)."""

    user: DirectoryUser
    organization_id: str | None

    @property
    def actor(self) -> Actor:
        """The user as the services record them."""
        return Actor(id=self.user.id, name=self.user.display_name)


@dataclass(frozen=True)
class JourneyServices:
    """What the journey dialogs need from the services layer."""

    membership: MembershipService
    identity: IdentityService
    verification: ContactVerification

    async def who(self, context: TurnContext) -> Member | None:
        """The member behind this turn's activity, or None if the directory does not know them."""
        sender = context.activity.from_property
        if sender is None:
            return None
        user = await self.identity.user(sender.aad_object_id or sender.id)
        if user is None:
            return None
        organization_id = await self.membership.organization_for(
            tenant_id=user.tenant_id, organization_id=user.organization_id
        )
        return Member(user, organization_id)
