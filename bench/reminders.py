"""The renewal reminders at scale: a scan over many memberships, and the chat send rate.

    python -m bench.reminders [--memberships N] [--sends N] [--only sqlite,postgres,send]

(``python -m bench`` runs it as its ``reminders`` section and keeps the figures under the
results' ``reminders`` key.)

**Seeding.** ``--memberships`` organizations, each with a membership whose expiry date is
spread over two years around today (half expired within the last year, half due within the
next), a primary contact (reached by email), and one in ten with a global administrator who
chatted with the bot (a stored conversation reference). Rows go in with ``executemany`` on
SQLite and ``COPY`` on PostgreSQL, on a freshly migrated database (the real schema, the
expiry index included).

**The scan.** ``ReminderRunner.run_once(dry_run=True)``: the indexed query for the memberships
in the thresholds' range, then their recipients, preferences and existing claims, as a dry run
of ``membership-bot reminders run`` does. The expiry query alone is timed apart.

**Sending.** ``--sends`` chat reminders, scheduled first (a runner with ``batch=0`` only
schedules), then delivered by one runner through the real adapter and ``ChatReminderChannel``
to the connector stand-in of ``tests/support/connector.py`` on loopback, one at a time, as the
service does; on SQLite, at a fixed working-day noon so that quiet hours do not defer them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.adapter import create_adapter
from bot.proactive import ReferenceKeeper
from bot.reminders import ChatReminderChannel
from services import db
from services.clock import FixedClock, SystemClock
from services.conversations import SqlConversationReferences
from services.emails import EmailComposer
from services.reminders import (
    DEFAULT_THRESHOLDS,
    EmailReminderChannel,
    FakeReminderChannel,
    ReminderRunner,
)
from services.settings import Settings
from services.tables import MembershipRow
from services.unit_of_work import UnitOfWorkFactory
from tests.support.connector import connector_stand_in
from tests.support.postgres import throwaway_cluster

__all__ = ["FULL_MEMBERSHIPS", "SHORT_MEMBERSHIPS", "measure_reminders"]

logger = logging.getLogger("bench")

FULL_MEMBERSHIPS = 1_000_000
SHORT_MEMBERSHIPS = 20_000
SENDS = 200
PARTS = ("sqlite", "postgres", "send")
_ADMIN_EVERY = 10  # one organization in ten has an administrator who chatted
_CHUNK = 50_000
_NOON = datetime(2026, 11, 25, 12, tzinfo=UTC)  # a Wednesday: inside working hours in UTC

NOTES = [
    "memberships: each its own organization, with a primary contact; expiry dates spread "
    "over the year before and the year after today; one in ten with a global administrator "
    "who chatted (a stored conversation reference).",
    "scan: ReminderRunner.run_once(dry_run=True) (what 'reminders run --once --dry-run' "
    "does); expiry_query: the indexed select of the memberships in the thresholds' range alone.",
    "send: chat reminders through the real adapter and ChatReminderChannel to a connector "
    "stand-in on loopback, one at a time, each claimed and recorded in SQLite.",
]


def _rows(count: int, today: date, now: datetime) -> Iterator[dict[str, tuple[Any, ...]]]:
    """The seed rows, table by table, in chunks."""
    for start in range(0, count, _CHUNK):
        chunk: dict[str, list[tuple[Any, ...]]] = {
            "organizations": [], "memberships": [], "primary_contacts": [],
            "organization_members": [], "conversation_references": [],
        }  # fmt: skip
        for i in range(start, min(count, start + _CHUNK)):
            org = f"org-{i:07d}"
            expiry = today + timedelta(days=(i * 7919) % 730 - 365)
            chunk["organizations"].append(
                (org, f"Organization {i}", "", "", "", "", "", "TW", None, "[]", "none", "none",
                 now)
            )  # fmt: skip
            chunk["memberships"].append(
                (org, str(10_000_000 + i), "member", "partner_center",
                 expiry - timedelta(days=365), expiry)
            )  # fmt: skip
            chunk["primary_contacts"].append(
                (org, "Pat", f"Contact {i}", f"contact{i}@org{i}.example", "+886200000000",
                 "unverified", now)
            )  # fmt: skip
            if i % _ADMIN_EVERY == 0:
                user = f"aad-{i:07d}"
                chunk["organization_members"].append(
                    (org, user, f"Admin {i}", f"admin{i}@org{i}.example", True, now)
                )
                document = _reference("http://127.0.0.1:9/", user, f"a:{user}")
                chunk["conversation_references"].append(
                    (user, f"a:{user}", "http://127.0.0.1:9/", "en-US", "UTC", json.dumps(document),
                     True, now)
                )  # fmt: skip
        yield {table: tuple(rows) for table, rows in chunk.items()}


_COLUMNS = {
    "organizations": (
        "id", "legal_name", "address_line1", "address_line2", "city", "region", "postal_code",
        "country", "tenant_id", "verified_domains", "vetting_status", "vetting_sub_status",
        "updated_at",
    ),
    "memberships": ("organization_id", "mpn_id", "tier", "source", "start_date", "expiry_date"),
    "primary_contacts": (
        "organization_id", "first_name", "last_name", "email", "phone", "verification",
        "updated_at",
    ),
    "organization_members": (
        "organization_id", "user_id", "display_name", "email", "global_admin", "last_seen_at",
    ),
    "conversation_references": (
        "user_id", "conversation_id", "service_url", "locale", "timezone", "document", "active",
        "updated_at",
    ),
}  # fmt: skip


def _reference(service_url: str, user_id: str, conversation_id: str) -> dict[str, Any]:
    reference = ConversationReference(
        channel_id="msteams",
        service_url=service_url,
        conversation=ConversationAccount(id=conversation_id),
        user=ChannelAccount(id=f"29:{user_id}", aad_object_id=user_id),
        bot=ChannelAccount(id="28:bench-bot"),
    )
    return dict(reference.serialize())


def _seed_sqlite(url: str, count: int, today: date, now: datetime) -> None:
    """``executemany`` into the migrated SQLite file, in one transaction."""
    path = make_url(url).database
    assert path
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        with connection:
            for chunk in _rows(count, today, now):
                for table, rows in chunk.items():
                    columns = _COLUMNS[table]
                    marks = ", ".join("?" * len(columns))
                    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                    connection.executemany(
                        statement,
                        [
                            tuple(v.isoformat(" ") if isinstance(v, datetime) else v for v in row)
                            for row in rows
                        ],
                    )
        connection.execute("ANALYZE")
    finally:
        connection.close()


async def _seed_postgres(url: str, count: int, today: date, now: datetime) -> None:
    """``COPY`` into the migrated PostgreSQL database."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            for chunk in _rows(count, today, now):
                for table, rows in chunk.items():
                    if rows:
                        await connection.copy_records_to_table(
                            table, records=rows, columns=list(_COLUMNS[table])
                        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def _email_channel() -> EmailReminderChannel:
    return EmailReminderChannel(EmailComposer("bench@localhost", "Bench"))


async def _scan(url: str, count: int) -> dict[str, Any]:
    """Time the expiry query and a dry run over the seeded database."""
    engine = db.create_engine(url)
    clock = SystemClock()
    today = clock.today()
    try:
        units = UnitOfWorkFactory(engine)
        began = time.perf_counter()
        async with units() as unit:
            earliest = today + timedelta(days=min(DEFAULT_THRESHOLDS) - 3)
            latest = today + timedelta(days=max(DEFAULT_THRESHOLDS))
            in_range = len(
                (
                    await unit.session.execute(
                        select(MembershipRow.organization_id, MembershipRow.expiry_date).where(
                            MembershipRow.expiry_date.between(earliest, latest)
                        )
                    )
                ).all()
            )
        query_seconds = time.perf_counter() - began
        runner = ReminderRunner(units, clock, FakeReminderChannel(), _email_channel())
        began = time.perf_counter()
        report = await runner.run_once(dry_run=True)
        scan_seconds = time.perf_counter() - began
    finally:
        await engine.dispose()
    return {
        "memberships": count,
        "in_range": in_range,
        "expiry_query_seconds": round(query_seconds, 3),
        "expiry_query_memberships_per_s": round(count / query_seconds),
        "planned": len(report.planned),
        "planned_by_chat": sum(plan.channel.value == "chat" for plan in report.planned),
        "scan_seconds": round(scan_seconds, 2),
        "scan_memberships_per_s": round(count / scan_seconds),
    }


def _database(name: str, count: int, scratch: Path) -> dict[str, Any]:
    """Seed a fresh database of kind ``name`` and time the scan over it."""
    with contextlib.ExitStack() as stack:
        if name == "sqlite":
            url = f"sqlite:///{scratch / 'reminders.db'}"
        else:
            url = stack.enter_context(throwaway_cluster(scratch))
        db.upgrade(url)
        clock = SystemClock()
        began = time.perf_counter()
        if name == "sqlite":
            _seed_sqlite(url, count, clock.today(), clock.now())
        else:
            asyncio.run(_seed_postgres(url, count, clock.today(), clock.now()))
        seeded = time.perf_counter() - began
        logger.info("reminders %s: %s memberships seeded in %.1fs", name, f"{count:,}", seeded)
        figures = asyncio.run(_scan(url, count))
        figures["seed_seconds"] = round(seeded, 1)
        return figures


async def _send(count: int, scratch: Path) -> dict[str, Any]:
    """Schedule ``count`` chat reminders, then time their delivery to a connector stand-in."""
    url = f"sqlite:///{scratch / 'sends.db'}"
    await db.upgrade_async(url)
    clock = FixedClock(_NOON)
    async with connector_stand_in() as connector:
        path = make_url(url).database
        assert path
        connection = sqlite3.connect(path)
        try:
            with connection:
                for chunk in _rows(count * _ADMIN_EVERY, clock.today(), clock.now()):
                    for table, rows in chunk.items():
                        if table == "conversation_references":  # on the stand-in's URL
                            rows = tuple(
                                (user, conversation, connector.url, "en-US", "UTC",
                                 json.dumps(_reference(connector.url, user, conversation)), True,
                                 clock.now().isoformat(" "))
                                for user, conversation, *_ in rows
                            )  # fmt: skip
                        elif table in ("memberships",):  # all due: 20 days left
                            expiry = clock.today() + timedelta(days=20)
                            rows = tuple((*row[:4], expiry - timedelta(days=365), expiry)
                                         for row in rows)  # fmt: skip
                        elif table == "primary_contacts":
                            continue  # only the chat reminders are timed
                        columns = _COLUMNS[table]
                        connection.executemany(
                            f"INSERT INTO {table} ({', '.join(columns)}) "
                            f"VALUES ({', '.join('?' * len(columns))})",
                            [
                                tuple(
                                    v.isoformat(" ") if isinstance(v, datetime) else v for v in row
                                )
                                for row in rows
                            ],
                        )
        finally:
            connection.close()
        engine = db.create_engine(url)
        try:
            units = UnitOfWorkFactory(engine)
            keeper = ReferenceKeeper(SqlConversationReferences(units, clock))
            settings = Settings(_env_file=None, database_url=url, microsoft_app_id="")  # type: ignore[call-arg]
            channel = ChatReminderChannel(create_adapter(settings), "", keeper)
            scheduled = await ReminderRunner(
                units, clock, channel, _email_channel(), batch=0
            ).run_once()
            sender = ReminderRunner(units, clock, channel, _email_channel(), batch=count)
            began = time.perf_counter()
            report = await sender.run_once()
            seconds = time.perf_counter() - began
        finally:
            await engine.dispose()
        arrived = len(connector.activities)
    return {
        "scheduled": scheduled.scheduled,
        "sent": report.sent,
        "arrived_at_connector": arrived,
        "not_delivered": report.failed + report.retrying,
        "seconds": round(seconds, 2),
        "sends_per_s": round(report.sent / seconds, 1) if seconds else None,
    }


def measure_reminders(
    memberships: int, sends: int, scratch: Path, parts: tuple[str, ...] = PARTS
) -> dict[str, Any]:
    """Run the chosen parts; a part that fails says why instead of figures."""
    results: dict[str, Any] = {"memberships": memberships, "notes": NOTES}
    for part in parts:
        logger.info("reminders: %s", part)
        began = time.monotonic()
        try:
            if part == "send":
                figures = asyncio.run(_send(sends, scratch))
            else:
                figures = _database(part, memberships, scratch)
        except Exception as error:
            logger.error("reminders %s failed: %s", part, error)
            figures = {"failed": f"{type(error).__name__}: {error}"[:3000]}
        figures["wall_seconds"] = round(time.monotonic() - began, 1)
        results[part] = figures
    return results


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reminders", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--memberships", type=int, default=FULL_MEMBERSHIPS)
    parser.add_argument(
        "--short", action="store_true", help=f"{SHORT_MEMBERSHIPS:,} memberships (a quick check)"
    )
    parser.add_argument("--sends", type=int, default=SENDS, help="chat reminders to time")
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts")
    parser.add_argument("--output", type=Path, default=Path("var/bench/results.json"))
    return parser


def main() -> int:
    """Measure and merge the figures into the results file under ``reminders``."""
    logging.basicConfig(level=logging.WARNING, format="bench: %(message)s")
    logger.setLevel(logging.INFO)
    options = _parser().parse_args()
    parts = tuple(options.only.split(","))
    if unknown := set(parts) - set(PARTS):
        sys.stderr.write(f"unknown parts: {', '.join(sorted(unknown))}\n")
        return 2
    memberships = SHORT_MEMBERSHIPS if options.short else options.memberships
    with tempfile.TemporaryDirectory(prefix="membership-bot-bench-") as scratch:
        figures = measure_reminders(memberships, options.sends, Path(scratch), parts)
    results = json.loads(options.output.read_text()) if options.output.exists() else {}
    results["reminders"] = figures
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    write_reminders_table(figures)
    return 1 if any("failed" in figures[part] for part in parts) else 0


def write_reminders_table(figures: dict[str, Any]) -> None:
    """Write the reminders' figures as a few readable lines on standard output."""
    lines = [f"reminders over {figures['memberships']:,} memberships"]
    for part in ("sqlite", "postgres"):
        found = figures.get(part)
        if found is None:
            continue
        if "failed" in found:
            lines.append(f"  {part:<9} FAILED: {found['failed'].splitlines()[0]}")
            continue
        lines.append(
            f"  {part:<9} scan {found['scan_seconds']}s ({found['scan_memberships_per_s']:,} "
            f"memberships/s, {found['planned']:,} planned); expiry query "
            f"{found['expiry_query_seconds']}s; seeded in {found['seed_seconds']}s"
        )
    send = figures.get("send")
    if send is not None:
        if "failed" in send:
            lines.append(f"  send      FAILED: {send['failed'].splitlines()[0]}")
        else:
            lines.append(
                f"  send      {send['sent']} chat reminders in {send['seconds']}s "
                f"({send['sends_per_s']}/s), {send['not_delivered']} not delivered"
            )
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
