"""Shared fixtures: real databases (a SQLite file, a throwaway PostgreSQL cluster) and the app.

PostgreSQL comes from ``TEST_DATABASE_URL`` when set, else from a throwaway cluster started
once per test session from the server binaries on this machine. Each test gets a database of
its own. Where there is no PostgreSQL at all, its tests skip with the reason, except under CI
(``CI=true``), where they fail instead: CI must run them.

``--fake-now`` runs the whole suite as if the wall clock said another time (``time-machine``,
ticking), in this process and in every Python process a test starts
(``tests/support/faketime/sitecustomize.py``): ``weekday-noon`` (12:00 UTC of the next working
day), ``sunday-night`` (23:30 UTC of the next Sunday) or an ISO 8601 instant. ``make
test-clock`` runs the suite at the first two: no test may depend on the day or the hour.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import pytest
from aiohttp import web
from sqlalchemy.engine import make_url

from services import db, i18n
from services.clock import Clock, FixedClock
from services.contact_verification import EmailContactVerification
from services.demo_data import load_demo
from services.emails import EmailComposer
from services.identity import DEMO_DIRECTORY, DirectoryIdentityService
from services.membership import MembershipService
from services.settings import Settings
from services.unit_of_work import UnitOfWorkFactory
from tests.support.postgres import PostgresUnavailable, throwaway_cluster

if TYPE_CHECKING:
    from dialogs.people import JourneyServices


_FAKE_TIME = Path(__file__).parent / "support" / "faketime"
_TIME_OFFSET = "MEMBERSHIP_BOT_TEST_TIME_OFFSET"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fake-now",
        default=None,
        help="run as if the wall clock said this: weekday-noon, sunday-night or an ISO instant",
    )


def fake_instant(spec: str, real: datetime) -> datetime:
    """The instant ``--fake-now`` names, seen from the real one (at most a week away)."""
    day: date = real.date()
    if spec == "weekday-noon":
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return datetime.combine(day, time(12), UTC)
    if spec == "sunday-night":
        while day.weekday() != 6:
            day += timedelta(days=1)
        return datetime.combine(day, time(23, 30), UTC)
    instant = datetime.fromisoformat(spec)
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    spec = config.getoption("--fake-now")
    if not spec:
        return
    import time_machine

    real = datetime.now(UTC)
    instant = fake_instant(spec, real)
    time_machine.travel(instant, tick=True).start()
    # Server processes and command-line runs the tests start move by the same offset.
    os.environ[_TIME_OFFSET] = str((instant - real).total_seconds())
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, (str(_FAKE_TIME), os.environ.get("PYTHONPATH")))
    )


def pytest_report_header(config: pytest.Config) -> str | None:
    if config.getoption("--fake-now"):
        return f"fake wall clock: {datetime.now(UTC):%A %Y-%m-%d %H:%M} UTC (time-machine)"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def catalog_only_language(request: pytest.FixtureRequest) -> Iterator[None]:
    """The catalog-only language mode (``tests/support/language.py``) for one test: the test
    clients check every reply to be all in its reader's language (``mixed_languages``: off)."""
    if request.node.get_closest_marker("mixed_languages") is not None:
        yield
        return
    i18n.mark_catalogs()
    try:
        yield
    finally:
        i18n.mark_catalogs(False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server's URL for the whole session."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    try:
        with throwaway_cluster() as url:
            yield url
    except PostgresUnavailable as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL here: {error}")


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


@pytest.fixture
async def postgres_url(postgres_server: str) -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database for one test."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(postgres_server))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    await db.upgrade_async(url)
    yield url
    admin = await asyncpg.connect(_asyncpg_dsn(postgres_server))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    """A fresh, migrated SQLite file for one test."""
    url = f"sqlite:///{tmp_path / 'membership-bot.db'}"
    await db.upgrade_async(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each real database this project supports, in turn."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return str(request.getfixturevalue("sqlite_url"))


@pytest.fixture
def clock() -> FixedClock:
    """A fixed clock: the demo data's dates are relative to it."""
    return FixedClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))


@pytest.fixture
async def journey_services(sqlite_url: str, clock: FixedClock) -> AsyncIterator[object]:
    """The journeys' services on a real SQLite database with the demo data loaded.

    Verification emails are queued in the database's outbox; nothing sends them unless a test
    runs an ``OutboxSender`` on ``journey_services.verification``'s units. The renewal
    reminders' choices are kept in the same database (``SqlReminders``), and so are the orders and
    benefits (``BenefitsService`` on the shipped catalog).
    """
    engine = db.create_engine(sqlite_url)
    units = UnitOfWorkFactory(engine)
    await load_demo(units, clock)
    yield journey_services_on(units, clock)
    await engine.dispose()


def journey_services_on(units: UnitOfWorkFactory, clock: Clock) -> JourneyServices:
    """The journeys' services on ``units``, as ``journey_services`` has them."""
    from dialogs.people import JourneyServices
    from services.benefits import BenefitsService
    from services.catalog import CatalogStore
    from services.reminders import SqlReminders

    return JourneyServices(
        MembershipService(units, clock),
        DirectoryIdentityService.from_file(DEMO_DIRECTORY),
        EmailContactVerification(
            units,
            clock,
            EmailComposer("membership-bot@bot.example.test", "Partner membership assistant"),
            public_base_url="http://127.0.0.1:3978",
            token_ttl=timedelta(hours=72),
        ),
        reminders=SqlReminders(units, clock),
        benefits=BenefitsService(units, clock, CatalogStore(units, clock)),
    )


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for a test app: loopback, the given database, no .env file.

    The renewal reminders' runner is off unless a test turns it on: it would post whatever is
    due at the hour the test runs into the conversations under test.
    """
    values: dict[str, object] = {
        "database_url": database_url, "port": 0, "log_level": "WARNING",
        "reminders_enabled": False,
    }  # fmt: skip
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def serve_app() -> AsyncIterator[object]:
    """Start ``create_app(settings)`` on a free 127.0.0.1 port; return its base URL.

    ``settings`` may be a function of the base URL, for settings that name it (the public URL
    that emailed links start with); ``clock``, the app's clock (the machine's by default).
    """
    from app import create_app

    runners: list[web.AppRunner] = []

    async def start(
        settings: Settings | Callable[[str], Settings], *, clock: Clock | None = None
    ) -> str:
        port = free_port()
        if not isinstance(settings, Settings):
            settings = settings(f"http://127.0.0.1:{port}")
        runner = web.AppRunner(create_app(settings, clock=clock), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in reversed(runners):
        await runner.cleanup()
