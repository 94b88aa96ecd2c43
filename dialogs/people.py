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
    """A directory user and the organization they act for."""

    user: DirectoryUser
    organization_id: str

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

    async def user(self, context: TurnContext) -> DirectoryUser | None:
        """The directory user behind this turn's activity, if the directory knows them."""
        sender = context.activity.from_property
        if sender is None:
            return None
        return await self.identity.user(sender.aad_object_id or sender.id)

    async def organization_of(self, user: DirectoryUser) -> str | None:
        """The organization ``user`` acts for, if it has a membership record."""
        return await self.membership.organization_for(
            tenant_id=user.tenant_id, organization_id=user.organization_id
        )
