"""Load the demo organizations and agreement into the database (``membership-bot demo load``).

Dates in ``demo/organizations.json`` are offsets from today, so that the demo's cases (an
expired legacy record, an organization without a tenant, one expiring soon) hold whenever it
is loaded. Loading is idempotent: an organization that already exists is left as it is, with
whatever progress was made on it, unless ``reset`` is asked for.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from services.clock import Clock
from services.membership import DEMO_DATA, StepState
from services.tables import (
    AgreementVersionRow,
    ChecklistEntryRow,
    MembershipRow,
    OrganizationRow,
    PrimaryContactRow,
)
from services.unit_of_work import UnitOfWork

__all__ = ["DEMO_ORGANIZATIONS", "load_demo"]

DEMO_ORGANIZATIONS = Path(__file__).parent / "demo" / "organizations.json"


def _day(today: date, offset: int) -> date:
    return today + timedelta(days=offset)


async def load_demo(
    units: Callable[[], UnitOfWork],
    clock: Clock,
    *,
    path: Path = DEMO_ORGANIZATIONS,
    reset: bool = False,
) -> list[str]:
    """Add the demo data that is missing (all of it again with ``reset``); return what was added."""
    data: dict[str, Any] = json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
    today, now = clock.today(), clock.now()
    added: list[str] = []
    async with units() as unit:
        session = unit.session
        for agreement in data["agreements"]:
            if await session.get(AgreementVersionRow, agreement["version"]) is None:
                session.add(
                    AgreementVersionRow(
                        version=agreement["version"],
                        effective_date=_day(today, agreement["effective_in_days"]),
                        url=agreement["url"],
                        summaries=agreement["summaries"],
                    )
                )
        for entry in data["organizations"]:
            existing = await session.get(OrganizationRow, entry["id"])
            if existing is not None and not reset:
                continue
            if existing is not None:
                await session.execute(
                    delete(OrganizationRow).where(OrganizationRow.id == entry["id"])
                )
                await session.flush()
            membership = entry["membership"]
            session.add(
                OrganizationRow(
                    id=entry["id"], legal_name=entry["legal_name"],
                    address_line1=entry["address_line1"], address_line2="",
                    city=entry["city"], region=entry["region"], postal_code=entry["postal_code"],
                    country=entry["country"], tenant_id=entry["tenant_id"],
                    verified_domains=entry.get("verified_domains", []),
                    vetting_status="pending" if "primary_contact" in entry else "none",
                    updated_at=now,
                )
            )  # fmt: skip
            await session.flush()
            session.add(
                MembershipRow(
                    organization_id=entry["id"], mpn_id=membership["mpn_id"],
                    tier=membership["tier"], source=membership["source"],
                    start_date=_day(today, membership["started_in_days"]),
                    expiry_date=_day(today, membership["expires_in_days"]),
                )
            )  # fmt: skip
            if (contact := entry.get("primary_contact")) is not None:
                # Given, not confirmed: the checklist's two profile steps follow from this row.
                session.add(
                    PrimaryContactRow(organization_id=entry["id"], first_name=contact["first_name"],
                                      last_name=contact["last_name"], email=contact["email"],
                                      phone=contact["phone"], verification="pending",
                                      updated_at=now)
                )  # fmt: skip
            for step, state in entry.get("checklist", {}).items():
                session.add(
                    ChecklistEntryRow(organization_id=entry["id"], step=step,
                                      state=StepState(state).value, by_user=DEMO_DATA.name, at=now)
                )  # fmt: skip
            added.append(entry["id"])
        await unit.commit()
    return added
