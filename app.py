"""The composition root: settings in, a running aiohttp service out.

``create_app(settings, services=None)`` wires the whole bot; tests call it with fakes or with
real local parts. ``main()`` is the ``membership-bot`` console command: ``serve``,
``db upgrade``, ``demo load``, ``manifest build``, ``reminders run``, ``catalog load``,
``orders confirm`` and ``helpdesk channels|set``. Nothing is built at
import time, and every resource with a lifetime (the database engine, the HTTP client, the
background email sender, the renewal reminders' runner) is opened and closed by its own
``cleanup_ctx`` generator, in that order, and closed in the reverse one.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TextIO

import aiohttp
from aiohttp import web
from botbuilder.core.teams import TeamsSSOTokenExchangeMiddleware
from botbuilder.schema import Activity
from pydantic import ValidationError

from bot.adapter import MembershipAdapter, create_adapter
from bot.help_desk import RATING, TeamsHelpDesk
from bot.membership_bot import MembershipBot
from bot.orders import OrderPaidNotifier
from bot.payments import add_payment_routes
from bot.proactive import ContactConfirmedNotifier, Proactive, ReferenceKeeper
from bot.reminders import ChatReminderChannel
from bot.routes import ADAPTER, BOT, READY, add_routes, run_turn
from bot.sql_storage import SqlStorage
from bot.state import FastConversationState, FastUserState
from bot.teams_manifest import (
    DEFAULT_OUTPUT,
    PackageSettingsError,
    build_package,
    default_developer_settings,
)
from bot.transcript import TranscriptRecorder
from bot.verify_page import add_verify_routes
from dialogs.main_dialog import MainDialog
from dialogs.people import JourneyServices
from services import db
from services.benefits import (
    Benefit,
    BenefitsService,
    Order,
    OrderClosed,
    OrderPaidListener,
    Payment,
)
from services.catalog import SHIPPED_CATALOG, Catalog, CatalogError, CatalogStore, load_catalog_file
from services.clock import Clock, SystemClock
from services.contact_verification import (
    Confirmation,
    ContactVerification,
    EmailContactVerification,
    mask_email,
)
from services.conversations import (
    ConversationReferences,
    SqlConversationReferences,
    TeamChannel,
)
from services.demo_data import load_demo
from services.emails import EmailComposer
from services.errors import NotFound
from services.graph_identity import create_identity_service
from services.handoff import HandoffService
from services.i18n import DEFAULT_LOCALE, normalize_locale
from services.identity import IdentityService
from services.logs import configure_logging
from services.mailer import create_mailer
from services.membership import MembershipService
from services.outbox import OutboxSender
from services.reminders import (
    CONTACT_PREFIX,
    EmailReminderChannel,
    PlannedReminder,
    ReminderRunner,
    Reminders,
    RunReport,
    SqlReminders,
)
from services.settings import MailTransport, Settings, is_loopback
from services.state_repository import SqlAlchemyStateRepository, StateRepository
from services.unit_of_work import UnitOfWorkFactory

__all__ = ["Services", "create_app", "main"]

logger = logging.getLogger("membership_bot")


@dataclass(frozen=True)
class Services:
    """What the bot needs from the outside world; tests pass their own."""

    state: StateRepository
    ready: Callable[[], Awaitable[bool]]
    membership: MembershipService
    identity: IdentityService
    verification: ContactVerification
    references: ConversationReferences
    reminders: Reminders | None = None
    benefits: BenefitsService | None = None
    handoff: HandoffService | None = None


@dataclass(frozen=True)
class _Database:
    """The database parts a background task of this app needs (when the app owns them)."""

    units: UnitOfWorkFactory
    clock: Clock


SERVICES = web.AppKey("services", Services)
_DATABASE = web.AppKey("database", _Database)
_KEEPER = web.AppKey("keeper", ReferenceKeeper)
_ORDER_PAID = web.AppKey("order_paid", OrderPaidNotifier)
_CONTACT_CONFIRMED = web.AppKey("contact_confirmed", ContactConfirmedNotifier)
_HELP_DESK = web.AppKey("help_desk", TeamsHelpDesk)
_CLOCK = web.AppKey("clock", Clock)
_HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30)


def create_app(
    settings: Settings, services: Services | None = None, *, clock: Clock | None = None
) -> web.Application:
    """Build the web application for ``settings``; with ``services``, use those instead.

    ``clock`` tells every part of the app the time (the machine's unless given): tests pass a
    fixed one, so that nothing they check depends on the day or the hour they run.
    """
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[_CLOCK] = clock or SystemClock()
    app[ADAPTER] = create_adapter(settings)
    if services is None:
        app.cleanup_ctx.append(_database(settings))
    else:
        app[SERVICES] = services
    # The bot is built in a cleanup_ctx too, so that the reminders' runner, which posts
    # through its reference keeper, starts after it and stops before the database closes.
    app.cleanup_ctx.append(_bot(settings))
    if settings.reminders_enabled:
        app.cleanup_ctx.append(_reminders(settings))
    app.cleanup_ctx.append(_help_desk_reraise(settings))
    add_routes(app)
    add_verify_routes(app, lambda: app[SERVICES].verification, _tell_requester(app))
    add_payment_routes(
        app, lambda: _benefits_of(app), settings.payment_webhook_secret.get_secret_value()
    )
    app.on_startup.append(_freeze_startup_heap)
    if settings.dev_chat_enabled:
        from bot.directline import setup_directline  # dev only: never loaded in production

        setup_directline(
            app,
            deliver=_deliver_to(app),
            webchat_js=settings.webchat_js,
            demo_users=lambda: _demo_users(app),
            on_help_desk_opened=_local_help_desk(app),
            help_desk_locale=normalize_locale(settings.help_desk_locale) or DEFAULT_LOCALE,
        )
        from bot.dev_outbox import setup_dev_outbox

        setup_dev_outbox(app, settings.outbox_dir)
    return app


def _database(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    async def database(app: web.Application) -> AsyncIterator[None]:
        engine = db.create_engine(settings.database_url, pool_size=settings.database_pool_size)
        units = UnitOfWorkFactory(engine)
        clock = app[_CLOCK]
        queued = asyncio.Event()  # set when this instance queues an email: send it now
        stop = asyncio.Event()
        async with aiohttp.ClientSession(timeout=_HTTP_TIMEOUT) as http:
            app[SERVICES] = Services(
                state=SqlAlchemyStateRepository(engine),
                ready=lambda: db.ping(engine),
                membership=MembershipService(units, clock),
                identity=create_identity_service(settings, http),
                verification=EmailContactVerification.from_settings(
                    settings, units, clock, wake=queued
                ),
                references=SqlConversationReferences(units, clock),
                reminders=SqlReminders(units, clock),
                benefits=_benefits_service(settings, units, clock, _OrderPaidLater(app)),
                handoff=_handoff_service(settings, units, clock),
            )
            app[_DATABASE] = _Database(units, clock)
            sender = OutboxSender(
                units,
                create_mailer(settings, http),
                clock,
                base_delay=timedelta(seconds=settings.outbox_retry_seconds),
            )
            sending = asyncio.create_task(
                sender.run(stop, queued, interval=settings.outbox_poll_seconds),
                name="outbox-sender",
            )
            if settings.mail_transport is MailTransport.OUTBOX:
                logger.info(
                    "emails are written as .eml files to %s (the local chat page links them)",
                    settings.outbox_dir.resolve(),
                )
            try:
                yield
            finally:
                stop.set()
                await sending
                await engine.dispose()

    return database


def _handoff_service(settings: Settings, units: UnitOfWorkFactory, clock: Clock) -> HandoffService:
    # About ten turns of the chat: a user's line and the bot's answer each.
    return HandoffService(
        units,
        clock,
        reraise_after=timedelta(minutes=settings.help_desk_reraise_minutes),
        transcript_turns=20,
    )


def _benefits_of(app: web.Application) -> BenefitsService | None:
    # The webhook is mounted before start-up builds the services: look them up late.
    services = app.get(SERVICES)
    return services.benefits if services is not None else None


def _catalogs(settings: Settings, units: UnitOfWorkFactory, clock: Clock) -> CatalogStore:
    return CatalogStore(units, clock, fallback=settings.catalog_file or SHIPPED_CATALOG)


def _benefits_service(
    settings: Settings,
    units: UnitOfWorkFactory,
    clock: Clock,
    listener: OrderPaidListener | None,
) -> BenefitsService:
    return BenefitsService(units, clock, _catalogs(settings, units, clock), listener=listener)


class _OrderPaidLater:
    """The service's listener for paid orders: the bot's notifier, looked up once it exists
    (the services are built before the bot)."""

    def __init__(self, app: web.Application) -> None:
        self._app = app

    async def order_paid(self, order: Order, benefits: list[Benefit]) -> None:
        if (notifier := self._app.get(_ORDER_PAID)) is not None:
            await notifier.order_paid(order, benefits)


def _bot(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    build_bot = _build_bot(settings)

    async def bot(app: web.Application) -> AsyncIterator[None]:
        await build_bot(app)
        yield

    return bot


def _build_bot(settings: Settings) -> Callable[[web.Application], Awaitable[None]]:
    async def build_bot(app: web.Application) -> None:
        services = app[SERVICES]
        storage = SqlStorage(services.state)
        conversation_state = FastConversationState(storage)
        user_state = FastUserState(storage)
        user_profile = user_state.create_property("UserProfile")
        keeper = ReferenceKeeper(services.references)
        transcript = TranscriptRecorder(conversation_state)
        help_desk = None
        if services.handoff is not None:
            help_desk = TeamsHelpDesk(
                services.handoff,
                app[ADAPTER],
                settings.microsoft_app_id,
                keeper,
                app[_CLOCK],
                membership=services.membership,
                transcript=transcript,
                resume=lambda context, then: app[BOT].resume(context, then),  # built below
                asked=conversation_state.create_property("HelpDeskAsked"),
                rating=conversation_state.create_property(RATING),
                locale=normalize_locale(settings.help_desk_locale) or DEFAULT_LOCALE,
            )
            app[_HELP_DESK] = help_desk
        journeys = JourneyServices(
            services.membership,
            services.identity,
            services.verification,
            reminders=services.reminders,
            benefits=services.benefits,
            help_desk=help_desk,
        )
        connection = settings.oauth_connection_name or None
        dialog = MainDialog(user_profile, journeys, sign_in_connection=connection)
        if connection and services.identity.requires_sign_in:
            # Teams may send one token exchange per signed-in client: the SQL storage lets
            # exactly one of them through, across instances.
            app[ADAPTER].use(TeamsSSOTokenExchangeMiddleware(storage, connection))
        app[_KEEPER] = keeper
        app[BOT] = MembershipBot(
            storage,
            conversation_state,
            user_state,
            dialog,
            references=keeper,
            help_desk=help_desk,
            transcript=transcript,
            app_id=settings.microsoft_app_id,
        )
        app[READY] = services.ready
        proactive = Proactive(app[ADAPTER], settings.microsoft_app_id, keeper)
        app[_CONTACT_CONFIRMED] = ContactConfirmedNotifier(proactive, services.membership)
        app[_ORDER_PAID] = OrderPaidNotifier(proactive)

    return build_bot


def _reminder_runner(
    settings: Settings,
    units: UnitOfWorkFactory,
    clock: Clock,
    adapter: MembershipAdapter,
    keeper: ReferenceKeeper,
) -> ReminderRunner:
    return ReminderRunner(
        units,
        clock,
        ChatReminderChannel(adapter, settings.microsoft_app_id, keeper),
        EmailReminderChannel(EmailComposer.from_settings(settings)),
        thresholds=settings.reminder_thresholds,
        default_timezone=settings.reminder_default_timezone,
        references=keeper.references,
    )


def _reminders(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    async def reminders(app: web.Application) -> AsyncIterator[None]:
        database = app.get(_DATABASE)
        if database is None:  # the caller brought its own services: no database of ours
            yield
            return
        runner = _reminder_runner(
            settings, database.units, database.clock, app[ADAPTER], app[_KEEPER]
        )
        stop = asyncio.Event()
        # The reminder emails it queues go out with the outbox sender's next poll.
        running = asyncio.create_task(
            runner.run(stop, interval=settings.reminder_interval_seconds),
            name="reminder-runner",
        )
        try:
            yield
        finally:
            stop.set()
            await running

    return reminders


def _help_desk_reraise(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    async def help_desk(app: web.Application) -> AsyncIterator[None]:
        desk = app.get(_HELP_DESK)
        if desk is None:  # no ticket service among the caller's services
            yield
            return
        stop = asyncio.Event()
        running = asyncio.create_task(
            desk.run(stop, interval=settings.help_desk_interval_seconds), name="help-desk-reraise"
        )
        try:
            yield
        finally:
            stop.set()
            await running

    return help_desk


def _tell_requester(app: web.Application) -> Callable[[Confirmation], Awaitable[None]]:
    # The verification page is mounted before start-up builds the notifier: look it up late.
    async def tell(confirmation: Confirmation) -> None:
        await app[_CONTACT_CONFIRMED](confirmation)

    return tell


async def _freeze_startup_heap(_app: web.Application) -> None:
    # Modules, dialogs and clients built at start-up live as long as the process; moving them
    # out of the collector's sight keeps each full collection from walking them again
    # (decision 0004: a small CPU gain; the tail it was meant for needs more, issue 9).
    gc.collect()
    gc.freeze()


async def _demo_users(app: web.Application) -> list[dict[str, str | None]]:
    users = await app[SERVICES].identity.users()
    return [
        {"id": user.id, "name": user.display_name, "tenantId": user.tenant_id} for user in users
    ]


def _local_help_desk(app: web.Application) -> Callable[[str, str], Awaitable[None]]:
    """Dev only: the chat page's help-desk view names its local channel the help desk."""

    async def opened(team_id: str, channel_id: str) -> None:
        services = app[SERVICES]
        if services.handoff is None:
            return
        current = await services.handoff.help_desk()
        if current is not None and current.team_id != team_id:
            return  # a real Teams help desk, named by the operator: the local page keeps off
        channel = await services.references.channels.get(channel_id)
        if channel is None or not channel.active:
            logger.warning("the local help-desk channel was not recorded: not the help desk")
            return
        # Set again on each opening: the service URL is this run's.
        await services.handoff.set_help_desk(
            channel.team_id, channel.channel_id, channel.service_url, channel.tenant_id,
            set_by="local chat page",
        )  # fmt: skip
        if (desk := app.get(_HELP_DESK)) is not None:
            await desk.post_waiting()  # the requests made before there was a help desk

    return opened


def _deliver_to(app: web.Application) -> Callable[[dict[str, object]], Awaitable[None]]:
    async def deliver(activity: dict[str, object]) -> None:
        await run_turn(app, Activity().deserialize(activity), "", local_page=True)

    return deliver


async def _load_demo(database_url: str, *, reset: bool) -> list[str]:
    engine = db.create_engine(database_url)
    try:
        return await load_demo(UnitOfWorkFactory(engine), SystemClock(), reset=reset)
    finally:
        await engine.dispose()


_PROGRESS_FROM = 1_000  # planned reminders: a dry run this long shows a bar on a terminal
_PROGRESS_WIDTH = 30


class _Progress:
    """A text progress bar on a terminal's standard error (nothing elsewhere)."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self._total = total
        self._stream = stream
        self._shown = -1

    def advance(self, done: int) -> None:
        """Redraw the bar when another percent is done."""
        percent = 100 * done // self._total
        if percent == self._shown:
            return
        self._shown = percent
        filled = _PROGRESS_WIDTH * done // self._total
        bar = "#" * filled + "-" * (_PROGRESS_WIDTH - filled)
        self._stream.write(f"\r[{bar}] {done:,}/{self._total:,} {percent}%")
        if done == self._total:
            self._stream.write("\n")
        self._stream.flush()


def _recipient_shown(recipient_id: str) -> str:
    """A recipient as a listing may show it: a contact's email address masked."""
    if recipient_id.startswith(CONTACT_PREFIX):
        return CONTACT_PREFIX + mask_email(recipient_id.removeprefix(CONTACT_PREFIX))
    return recipient_id


def _plan_line(plan: PlannedReminder) -> str:
    when = plan.not_before.strftime("%Y-%m-%dT%H:%MZ")
    return "\t".join(
        (plan.organization_id, _recipient_shown(plan.recipient_id), str(plan.threshold),
         plan.channel.value, when)
    )  # fmt: skip


def _write_plan(planned: Sequence[PlannedReminder], out: TextIO, err: TextIO) -> None:
    """List a dry run's reminders, one a line, with a bar on a terminal for long lists."""
    progress = (
        _Progress(len(planned), err) if err.isatty() and len(planned) >= _PROGRESS_FROM else None
    )
    out.write("organization\trecipient\tthreshold\tchannel\tnot before (UTC)\n")
    for done, plan in enumerate(planned, 1):
        out.write(_plan_line(plan) + "\n")
        if progress is not None:
            progress.advance(done)
    out.write(f"{len(planned)} reminders would be scheduled (dry run: nothing was changed)\n")


def _summary(report: RunReport) -> str:
    counts = ", ".join(
        f"{name} {getattr(report, name)}"
        for name in ("scheduled", "sent", "emailed", "retrying", "deferred", "failed", "cancelled")
    )
    return f"reminders: {counts}\n"


async def _run_reminders(settings: Settings, *, once: bool, dry_run: bool) -> RunReport | None:
    """One pass of the reminders (or passes until SIGINT or SIGTERM), outside the service.

    Chat reminders go through an adapter of their own, with the bot's credentials, as the
    service's would; reminder emails are queued in the outbox, which the service sends.
    """
    engine = db.create_engine(settings.database_url)
    try:
        units = UnitOfWorkFactory(engine)
        clock = SystemClock()
        keeper = ReferenceKeeper(SqlConversationReferences(units, clock))
        runner = _reminder_runner(settings, units, clock, create_adapter(settings), keeper)
        if once:
            return await runner.run_once(dry_run=dry_run)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, stop.set)
        logger.info("running the renewal reminders until interrupted")
        await runner.run(stop, interval=settings.reminder_interval_seconds)
        return None
    finally:
        await engine.dispose()


async def _load_catalog(settings: Settings, catalog: Catalog, source: str) -> None:
    engine = db.create_engine(settings.database_url)
    try:
        units = UnitOfWorkFactory(engine)
        await _catalogs(settings, units, SystemClock()).load(catalog, source=source)
    finally:
        await engine.dispose()


async def _show_catalog(settings: Settings) -> Catalog:
    engine = db.create_engine(settings.database_url)
    try:
        return await _catalogs(settings, UnitOfWorkFactory(engine), SystemClock()).current()
    finally:
        await engine.dispose()


async def _confirm_order(settings: Settings, order_id: str, reference: str) -> Payment:
    """Confirm a payment from the command line; the buyer is told in the chat, as the service
    would (an adapter of its own, with the bot's credentials)."""
    engine = db.create_engine(settings.database_url)
    try:
        units, clock = UnitOfWorkFactory(engine), SystemClock()
        keeper = ReferenceKeeper(SqlConversationReferences(units, clock))
        proactive = Proactive(create_adapter(settings), settings.microsoft_app_id, keeper)
        service = _benefits_service(settings, units, clock, OrderPaidNotifier(proactive))
        return await service.confirm_payment(order_id, reference)
    finally:
        await engine.dispose()


def _catalog_summary(catalog: Catalog) -> str:
    return (
        f"catalog {catalog.version}: {len(catalog.tiers)} tiers, {len(catalog.benefits)} "
        f"benefits, {len(catalog.offers)} offers\n"
    )


def _payment_line(payment: Payment) -> str:
    order = payment.order
    if not payment.newly_paid:
        return (
            f"order {order.id} was already paid (reference {order.payment_reference}): "
            "nothing changed\n"
        )
    return (
        f"order {order.id} paid ({order.amount} {order.currency}, {order.offer_id} for "
        f"{order.organization_id}): {len(payment.benefits)} benefits provisioned\n"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="membership-bot", description="The Microsoft Partner Network membership assistant."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the bot over HTTP")
    database = commands.add_parser("db", help="manage the database")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    database_commands.add_parser("upgrade", help="apply the schema's migrations")
    demo = commands.add_parser("demo", help="demo data for the local chat")
    demo_commands = demo.add_subparsers(dest="demo_command", required=True)
    load = demo_commands.add_parser("load", help="add the demo organizations (idempotent)")
    load.add_argument("--reset", action="store_true", help="reload them, dropping progress")
    manifest = commands.add_parser("manifest", help="the Teams app package")
    manifest_commands = manifest.add_subparsers(dest="manifest_command", required=True)
    build = manifest_commands.add_parser("build", help="render the app package zip for Teams")
    build.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help=f"where (default {DEFAULT_OUTPUT})"
    )
    reminders = commands.add_parser("reminders", help="renewal reminders")
    reminders_commands = reminders.add_subparsers(dest="reminders_command", required=True)
    run = reminders_commands.add_parser(
        "run", help="schedule and send the reminders due (until interrupted, or --once)"
    )
    run.add_argument("--once", action="store_true", help="one pass, then exit (for cron)")
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="with --once: list what would be sent, change nothing",
    )
    catalog = commands.add_parser("catalog", help="the membership catalog (tiers, offers)")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True)
    catalog_load = catalog_commands.add_parser(
        "load", help="validate a catalog YAML file and put it in force (all or nothing)"
    )
    catalog_load.add_argument("file", type=Path, help="the catalog file (YAML)")
    catalog_commands.add_parser("show", help="summarize the catalog in force")
    orders = commands.add_parser("orders", help="benefit orders")
    orders_commands = orders.add_subparsers(dest="orders_command", required=True)
    confirm = orders_commands.add_parser(
        "confirm", help="confirm an order's payment and provision its benefits (idempotent)"
    )
    confirm.add_argument("order_id", metavar="ID", help="the order's id (ORD-…)")
    confirm.add_argument(
        "--reference",
        default="confirmed by the operator",
        help="the payment's reference (a bank transfer's, an invoice number)",
    )
    helpdesk = commands.add_parser("helpdesk", help="the help desk's Teams channel")
    helpdesk_commands = helpdesk.add_subparsers(dest="helpdesk_command", required=True)
    helpdesk_commands.add_parser("channels", help="list the team channels the bot is installed in")
    helpdesk_set = helpdesk_commands.add_parser(
        "set", help="make a team's channel the help desk (where requests for a person go)"
    )
    helpdesk_set.add_argument("team_id", metavar="TEAM_ID", help="the team's id (19:…)")
    helpdesk_set.add_argument(
        "--channel",
        metavar="CHANNEL_ID",
        help="the channel's id (default: the channel the bot was installed in)",
    )
    return parser


class _UnknownTeam(Exception):
    """The bot was not installed in that team (or channel)."""


async def _help_desk_channels(settings: Settings) -> list[TeamChannel]:
    engine = db.create_engine(settings.database_url)
    try:
        units = UnitOfWorkFactory(engine)
        return await SqlConversationReferences(units, SystemClock()).channels.active()
    finally:
        await engine.dispose()


async def _set_help_desk(
    settings: Settings, team_id: str, channel_id: str | None
) -> tuple[TeamChannel, int]:
    """Name the help desk's channel among those the bot was installed in; how many requests
    wait for their card to be posted there."""
    engine = db.create_engine(settings.database_url)
    try:
        units, clock = UnitOfWorkFactory(engine), SystemClock()
        installed = await SqlConversationReferences(units, clock).channels.active()
        of_team = [c for c in installed if c.team_id == team_id]
        wanted = [c for c in of_team if channel_id in (None, c.channel_id)]
        if not wanted:
            raise _UnknownTeam
        # The team's General channel has the team's id; else the first channel installed.
        chosen = next((c for c in wanted if c.channel_id == team_id), wanted[0])
        handoff = _handoff_service(settings, units, clock)
        await handoff.set_help_desk(
            chosen.team_id, chosen.channel_id, chosen.service_url, chosen.tenant_id,
            set_by="membership-bot helpdesk set",
        )  # fmt: skip
        waiting = [ticket for ticket in await handoff.queue() if ticket.channel_message_id is None]
        return chosen, len(waiting)
    finally:
        await engine.dispose()


def _helpdesk(settings: Settings, arguments: argparse.Namespace) -> int:
    if arguments.helpdesk_command == "channels":
        channels = asyncio.run(_help_desk_channels(settings))
        sys.stdout.write("team\tchannel\tname\ttenant\n")
        for channel in channels:
            sys.stdout.write(
                f"{channel.team_id}\t{channel.channel_id}\t{channel.name}\t"
                f"{channel.tenant_id or ''}\n"
            )
        return 0
    try:
        chosen, waiting = asyncio.run(
            _set_help_desk(settings, arguments.team_id, arguments.channel)
        )
    except _UnknownTeam:
        where = f"channel {arguments.channel!r} of team" if arguments.channel else "team"
        sys.stderr.write(
            f"membership-bot: the bot is not installed in {where} {arguments.team_id!r}: install "
            "the app in the team first (membership-bot helpdesk channels lists where it is)\n"
        )
        return 2
    sys.stdout.write(
        f"help desk set: channel {chosen.channel_id} ({chosen.name}) of team {chosen.team_id}\n"
    )
    if waiting:
        sys.stdout.write(
            f"{waiting} request(s) for a person made before: the service posts them there within "
            f"HELP_DESK_INTERVAL_SECONDS ({settings.help_desk_interval_seconds:g} s)\n"
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``membership-bot`` command line."""
    parser = _parser()
    arguments = parser.parse_args(argv)
    if arguments.command == "reminders" and arguments.dry_run and not arguments.once:
        parser.error("--dry-run needs --once")
    try:
        settings = Settings()
    except ValidationError as error:
        reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        sys.stderr.write(f"membership-bot: invalid settings: {reasons}\n")
        return 2
    configure_logging(settings.log_level)

    if arguments.command == "db":
        db.upgrade(settings.database_url)
        logger.info("database schema is up to date")
        return 0
    if arguments.command == "demo":
        added = asyncio.run(_load_demo(settings.database_url, reset=arguments.reset))
        logger.info("demo data loaded", extra={"organizations_added": added})
        return 0
    if arguments.command == "manifest":
        try:
            package = build_package(settings, arguments.output)
        except PackageSettingsError as error:
            problems = "; ".join(error.problems)
            sys.stderr.write(f"membership-bot: cannot build the Teams app package: {problems}\n")
            return 2
        if defaults := default_developer_settings(settings):
            logger.warning(
                "%s left at the defaults: set your own before publishing the app",
                ", ".join(defaults),
            )
        logger.info("Teams app package written to %s", package)
        return 0
    if arguments.command == "reminders":
        report = asyncio.run(
            _run_reminders(settings, once=arguments.once, dry_run=arguments.dry_run)
        )
        if report is not None and arguments.dry_run:
            _write_plan(report.planned, sys.stdout, sys.stderr)
        elif report is not None:
            sys.stdout.write(_summary(report))
        return 0
    if arguments.command == "catalog":
        if arguments.catalog_command == "show":
            sys.stdout.write(_catalog_summary(asyncio.run(_show_catalog(settings))))
            return 0
        try:
            loaded = load_catalog_file(arguments.file)
        except CatalogError as error:
            sys.stderr.write(f"membership-bot: the catalog was not loaded:\n{error}\n")
            return 2
        asyncio.run(_load_catalog(settings, loaded, str(arguments.file)))
        sys.stdout.write("loaded " + _catalog_summary(loaded))
        return 0
    if arguments.command == "helpdesk":
        return _helpdesk(settings, arguments)
    if arguments.command == "orders":
        try:
            payment = asyncio.run(_confirm_order(settings, arguments.order_id, arguments.reference))
        except NotFound:
            sys.stderr.write(f"membership-bot: no order {arguments.order_id!r}\n")
            return 2
        except OrderClosed as error:
            sys.stderr.write(
                f"membership-bot: order {error.order_id} is {error.status.value}: not confirmed\n"
            )
            return 2
        sys.stdout.write(_payment_line(payment))
        return 0

    app = create_app(settings)
    logger.info(
        "serving on http://%s:%s (token validation %s)",
        settings.host,
        settings.port,
        "on" if settings.auth_enabled else "off: loopback only, local chat page at /",
    )
    if "public_base_url" not in settings.model_fields_set:
        # Fine on loopback (the local chat page); elsewhere only the operator knows the address.
        logger.log(
            logging.INFO if is_loopback(settings.host) else logging.WARNING,
            "PUBLIC_BASE_URL is not set: links in emails start with %s (from HOST and PORT); "
            "set it to the address people reach this service at",
            settings.public_base_url,
        )
    web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
