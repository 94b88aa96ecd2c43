"""Contact verification: the primary contact confirms by email that they registered and that
the address is their organization's.

``ContactVerification`` is the port the journey calls at "Register now". Until email delivery
exists (its own issue), ``RecordedContactVerification`` only records that verification was
requested; the journey shows the step as waiting either way.
"""

from __future__ import annotations

import logging
from typing import Protocol

from services.membership import Actor
from services.profile import LegalProfile

__all__ = ["ContactVerification", "RecordedContactVerification"]

logger = logging.getLogger(__name__)


class ContactVerification(Protocol):
    """Asks a primary contact to confirm their email address."""

    async def start(self, organization_id: str, profile: LegalProfile, requested_by: Actor) -> None:
        """Ask the profile's primary contact to confirm."""
        ...


class RecordedContactVerification:
    """Records requests; sends nothing yet."""

    def __init__(self) -> None:
        self.requested: list[tuple[str, str]] = []

    async def start(self, organization_id: str, profile: LegalProfile, requested_by: Actor) -> None:
        """Record that ``organization_id`` asked its primary contact to confirm."""
        self.requested.append((organization_id, profile.contact_email))
        logger.info(
            "contact verification requested",
            extra={"organization_id": organization_id, "contact": profile.contact_email},
        )
