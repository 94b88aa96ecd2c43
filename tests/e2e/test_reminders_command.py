"""``membership-bot reminders run`` as cron runs it, and the reminders' runner inside ``serve``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select

from app import create_app
from services import db
from services.clock import SystemClock
from services.conversations import SqlConversationReferences, StoredReference
from services.demo_data import load_demo
from services.reminders import Member, SqlReminders, next_window
from services.tables import EmailOutboxRow, PrimaryContactRow, ReminderDeliveryRow
from services.unit_of_work import UnitOfWorkFactory
from tests.conftest import free_port, make_settings

COMMAND = str(Path(sys.executable).parent / "membership-bot")
_OURS = ("Microsoft", "DATABASE_URL", "REMINDER", "LOG_LEVEL")


def _run(cwd: Path, *arguments: str, **values: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    env.update(values)
    # A fresh working directory: no .env of the developer's is read.
    return subprocess.run(
        [COMMAND, "reminders", "run", *arguments],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _working_zone() -> str:
    """A time zone where it is working hours now (none at a weekend: then UTC)."""
    now = datetime.now(UTC)
    for offset in range(-12, 15):
        name = f"Etc/GMT{-offset:+d}" if offset else "UTC"  # POSIX signs: Etc/GMT-8 is UTC+8
        if next_window(now, ZoneInfo(name)) <= now:
            return name
    return "UTC"


async def _seed(url: str) -> None:
    """The demo data; Fabrikam's (45 days left) admin chatted, Northwind's (20) did not.

    Fabrikam's primary contact is not a user the bot met: reached by email.
    """
    engine = db.create_engine(url)
    try:
        units, clock = UnitOfWorkFactory(engine), SystemClock()
        await load_demo(units, clock)
        reminders = SqlReminders(units, clock)
        await reminders.record_member(
            Member(organization_id="fabrikam", user_id="aad-mei", display_name="Mei Lin",
                   email="mei.lin@fabrikam.example", global_admin=True)
        )  # fmt: skip
        await SqlConversationReferences(units, clock).remember(
            StoredReference(
                user_id="aad-mei", conversation_id="a:mei", service_url="http://127.0.0.1:9/",
                timezone="Asia/Taipei", document={"conversation": {"id": "a:mei"}},
            )
        )  # fmt: skip
        await reminders.record_member(
            Member(organization_id="northwind", user_id="aad-ana", display_name="Ana Ruiz",
                   email="ana.ruiz@northwind.example", global_admin=True)
        )  # fmt: skip
        async with units() as unit:
            unit.session.add(
                PrimaryContactRow(
                    organization_id="fabrikam", first_name="Wen", last_name="Hsu",
                    email="wen.hsu@fabrikam.example", phone="+886212345678",
                    updated_at=clock.now(),
                )
            )  # fmt: skip
            await unit.commit()
    finally:
        await engine.dispose()


async def _rows(url: str) -> tuple[list[ReminderDeliveryRow], list[EmailOutboxRow]]:
    engine = db.create_engine(url)
    try:
        async with UnitOfWorkFactory(engine)() as unit:
            claims = list(await unit.session.scalars(select(ReminderDeliveryRow)))
            emails = list(await unit.session.scalars(select(EmailOutboxRow)))
            unit.session.expunge_all()
            return claims, emails
    finally:
        await engine.dispose()


async def test_a_dry_run_lists_each_reminder_with_email_addresses_masked(sqlite_url, tmp_path):
    await _seed(sqlite_url)

    run = _run(tmp_path, "--once", "--dry-run", DATABASE_URL=sqlite_url)

    assert run.returncode == 0, run.stderr
    lines = [line.split("\t") for line in run.stdout.splitlines()]
    assert lines[0][:4] == ["organization", "recipient", "threshold", "channel"]
    listed = sorted(tuple(line[:4]) for line in lines[1:-1])
    assert listed == [
        ("fabrikam", "aad-mei", "60", "chat"),
        ("fabrikam", "contact:w***@fabrikam.example", "60", "email"),
        ("northwind", "aad-ana", "30", "email"),
        ("northwind", "contact:a***@northwind.example", "30", "email"),  # the demo's contact
    ]
    assert lines[-1][0].startswith("4 reminders would be scheduled")
    assert "wen.hsu@" not in run.stdout + run.stderr
    assert await _rows(sqlite_url) == ([], [])  # nothing claimed, nothing queued


async def test_one_pass_queues_an_email_for_a_recipient_without_a_conversation(
    sqlite_url, tmp_path
):
    await _seed(sqlite_url)
    zone = _working_zone()
    at_work = next_window(datetime.now(UTC), ZoneInfo(zone)) <= datetime.now(UTC)
    engine = db.create_engine(sqlite_url)
    try:  # only Northwind's administrator, who never chatted: no chat to post in
        units = UnitOfWorkFactory(engine)
        async with units() as unit:
            await unit.session.execute(
                PrimaryContactRow.__table__.delete().where(
                    PrimaryContactRow.organization_id.in_(("fabrikam", "northwind"))
                )
            )
            await unit.commit()
        await SqlReminders(units, SystemClock()).stop("aad-mei", "fabrikam")
    finally:
        await engine.dispose()

    run = _run(tmp_path, "--once", DATABASE_URL=sqlite_url, REMINDER_DEFAULT_TIMEZONE=zone)

    assert run.returncode == 0, run.stderr
    claims, emails = await _rows(sqlite_url)
    assert [(c.organization_id, c.recipient_id, c.threshold) for c in claims] == [
        ("northwind", "aad-ana", 30)
    ]
    if at_work:
        assert "scheduled 1, sent 1, emailed 1," in run.stdout
        assert [(e.kind, e.organization_id, e.status) for e in emails] == [
            ("renewal_reminder", "northwind", "pending")
        ]
    else:  # a weekend everywhere on Earth: the reminder waits for Monday
        assert "scheduled 1, sent 0, emailed 0, retrying 0, deferred 1," in run.stdout
        assert emails == []


def test_bad_reminder_settings_stop_the_command_with_the_reason(tmp_path):
    run = _run(
        tmp_path, "--once", DATABASE_URL=f"sqlite:///{tmp_path}/x.db",
        REMINDER_THRESHOLDS="90,soon",
    )  # fmt: skip

    assert run.returncode == 2
    assert "REMINDER_THRESHOLDS='90,soon' is not a comma-separated list" in run.stderr


def test_a_dry_run_needs_once(tmp_path):
    run = _run(tmp_path, "--dry-run", DATABASE_URL=f"sqlite:///{tmp_path}/x.db")

    assert run.returncode == 2 and "--dry-run needs --once" in run.stderr


async def test_the_reminders_runner_starts_and_stops_with_the_service(sqlite_url):
    def runners() -> list[asyncio.Task[object]]:
        return [t for t in asyncio.all_tasks() if t.get_name() == "reminder-runner"]

    runner = web.AppRunner(
        create_app(make_settings(sqlite_url, reminders_enabled=True)), access_log=None
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", free_port()).start()
        running = runners()
        assert len(running) == 1 and not running[0].done()
    finally:
        await runner.cleanup()

    assert runners() == [] and running[0].done() and running[0].exception() is None


async def test_the_service_runs_no_reminders_when_they_are_turned_off(sqlite_url):
    runner = web.AppRunner(
        create_app(make_settings(sqlite_url, reminders_enabled=False)), access_log=None
    )
    await runner.setup()
    try:
        assert not [t for t in asyncio.all_tasks() if t.get_name() == "reminder-runner"]
    finally:
        await runner.cleanup()
