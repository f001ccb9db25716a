"""The only wiring module: builds the PTB Application, storage, intake, outbox and handlers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, ApplicationBuilder, ContextTypes

import handlers.chats.membership
import handlers.chats.start
import handlers.consult
import handlers.fallback
import handlers.issues
import handlers.privacy
import handlers.privacy.commands
import handlers.registry
import handlers.schedule
import handlers.todo
import handlers.votes
from bot.config import Config
from bot.consult.jielong import JielongService
from bot.consult.meetings import MeetingService
from bot.consult.meetings_presenter import sweep_consultation
from bot.consult.notices import NoticeService
from bot.consult.sweep import ConsultSweep
from bot.context import BotContext, Features, Services
from bot.core import collector
from bot.core.clock import Clock, SystemClock
from bot.core.metrics import Metrics
from bot.core.permissions import RoleBook
from bot.core.rendering import Renderer
from bot.core.workcal import WorkCalendar
from bot.issues.draft_store import DraftStore
from bot.issues.ledger import LedgerService
from bot.issues.service import IssueService
from bot.issues.transcribe import transcriber_for
from bot.privacy.personal_data import PersonalDataService
from bot.registry.service import RegistryService
from bot.schedule.chasing import Chaser
from bot.schedule.checkin import CheckinService
from bot.schedule.digest import DigestService
from bot.schedule.jobs import run_sweeps, tick
from bot.schedule.service import ScheduleService
from bot.todo.service import TodoService, TodoSources
from bot.transport.intake import ALLOWED_UPDATES, Intake, record_handler_error
from bot.transport.lean_http import LeanRequest
from bot.transport.outbox import Outbox, Sender
from bot.transport.ratelimit import Limits
from bot.transport.routing import Router
from bot.votes.polls import PollService
from bot.votes.presenter import sweep_votes
from bot.votes.service import VoteService
from storage.backends import open_database
from storage.backends.locks import Lease, hold_lease
from storage.consult.jielong import JielongRepo
from storage.consult.meetings import MeetingRepo
from storage.consult.notices import NoticeRepo
from storage.db import Database
from storage.issues import rollups
from storage.issues.drafts import DraftRepo
from storage.issues.ledger import LedgerRepo
from storage.issues.repo import IssueRepo
from storage.issues.stats import IssueStats
from storage.privacy.personal_data import PersonalDataRepo
from storage.registry.chats import ChatGridRepo
from storage.registry.repo import RegistryRepo
from storage.schedule.checkins import CheckinRepo
from storage.schedule.district import DistrictRepo
from storage.schedule.runs import ScheduleRepo
from storage.transport.inbox import adopt_unowned, bot_key
from storage.transport.outbox import OutboxRepo
from storage.votes.repo import VoteRepo

if TYPE_CHECKING:
    # Imported where used, when configured: both load aiohttp's server side, /metrics loads
    # prometheus-client, and a polling bot without [metrics] needs neither (issue #15 item 5).
    from bot.ops.health import OpsServer
    from bot.transport.webhook import WebhookServer

log = logging.getLogger(__name__)

# (feature, handler group). Group -1 sees every update before the features do.
HANDLER_MODULES: Sequence[tuple[ModuleType, int]] = (
    (handlers.chats.membership, -1),
    (handlers.chats.start, 0),
    (handlers.schedule, 0),
    # Registry before the issue loop: a typed "3-2-301" or a sheet sent privately is not a report.
    (handlers.registry, 0),
    (handlers.privacy, 0),
    # Votes and notices (issue #6) before the issue loop: "#通知 …" is not a report; 接龙 and
    # meetings too: "#建议" replying to a meeting's announcement is a suggestion for it.
    (handlers.votes, 0),
    (handlers.consult, 0),
    # /todo (issue #18 items 5-6) reads every feature and answers before the issue loop.
    (handlers.todo, 0),
    (handlers.issues, 0),
    # Last of all: a button no feature recognised is answered "按钮已失效". Last in the same
    # group, not a later one: PTB runs one handler per group, so a later group would also see
    # every press a feature had already answered.
    (handlers.fallback, 0),
)
RETENTION_SWEEP_SECONDS = 3600
CATCH_UP_WAIT_SECONDS = 30.0

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class GridBot:
    """A running gridbot: ``await start()``, later ``await stop()``."""

    config: Config
    db: Database
    app: AnyApplication
    intake: Intake
    sender: Sender
    services: Services
    webhook: WebhookServer | None = None
    ops: OpsServer | None = None
    _catch_up: asyncio.Task[None] | None = field(default=None, repr=False)
    _lease: Lease | None = field(default=None, repr=False)

    async def start(self) -> None:
        await self.app.initialize()
        self._warn_if_privacy_mode()
        # On PostgreSQL several processes may serve this bot: one consumes its updates, the
        # others wait here as hot standbys (storage.backends.locks). SQLite: returns at once.
        self._lease = await hold_lease(
            self.db,
            f"intake:{self.app.bot.id}",
            waiting=lambda: log.info(
                "another process serves @%s; standing by", self.app.bot.username
            ),
        )
        await self.app.start()  # the JobQueue clock; there is no PTB Updater
        if self.app.job_queue is not None:
            # THE clock (issue #5): one tick a minute runs every sweep.
            self.app.job_queue.run_repeating(tick, interval=self.config.schedule.tick_seconds)
            self.app.job_queue.run_repeating(
                handlers.privacy.commands.sweep_retention, interval=RETENTION_SWEEP_SECONDS
            )
        await self.sender.start()
        polling = self.config.telegram.mode == "polling"
        if polling:
            await self.app.bot.delete_webhook()
        await self.intake.start(polling=polling)
        if not polling:
            from bot.transport.webhook import WebhookServer

            self.webhook = WebhookServer(self.config.telegram.webhook, self.intake)
            await self.webhook.start()
            await self.app.bot.set_webhook(
                url=self.config.telegram.webhook.url,
                secret_token=self.config.telegram.webhook.secret_token,
                allowed_updates=ALLOWED_UPDATES,
            )
        if self.config.metrics.port:
            from bot.ops.health import HealthChecks, OpsServer

            checks = HealthChecks(self.services, self.intake, self.config.metrics)
            self.ops = OpsServer(checks, self.config.metrics)
            await self.ops.start()
        # Work missed while down runs once, beside intake rather than before it: after a long
        # outage it can be large, and residents' messages must not wait for it.
        self._catch_up = asyncio.create_task(self._sweep_missed(), name="catch-up-sweep")
        log.info("gridbot started as @%s", self.app.bot.username)

    async def _sweep_missed(self) -> None:
        # After the updates that waited for the restart are answered (the first getUpdates
        # does not wait): on a big database the sweep takes seconds of the writer and the loop.
        try:
            await asyncio.wait_for(self.intake.caught_up.wait(), CATCH_UP_WAIT_SECONDS)
        except TimeoutError:
            pass  # a backlog that large is no reason to skip the sweep any longer
        try:
            await run_sweeps(self.services, self.app.bot.username)
        except Exception:
            log.exception("catch-up sweep failed; the next tick retries it")

    async def stop(self) -> None:
        """Stop taking updates, finish the stored ones, deliver what is due, close."""
        if self._catch_up is not None:
            await self._catch_up
        if self.webhook is not None:
            await self.webhook.stop()
        if self.ops is not None:
            await self.ops.stop()
        await self.intake.stop()
        await self.sender.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        if self._lease is not None:
            await self._lease.release()
        await self.db.close()
        log.info("gridbot stopped")

    async def wait_idle(self, within: float = 10.0) -> None:
        """Wait until every stored update is dispatched and every due message delivered."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        if self._catch_up is not None:
            await asyncio.wait_for(asyncio.shield(self._catch_up), within)
        progress = self.sender.progress  # the intake's too
        while True:
            progress.clear()
            await self.sender.write_marks()  # delivered rows count as sent at once
            inbox = await self.intake.inbox.counts()
            outbox = await self.sender.repo.counts()
            if not inbox.get("pending") and not outbox.get("pending"):
                return
            if loop.time() > deadline:
                raise TimeoutError(f"still busy: inbox {inbox}, outbox {outbox}")
            await progress.wait(0.05)

    def _warn_if_privacy_mode(self) -> None:
        me = self.app.bot.bot
        if not me.can_read_all_group_messages:
            log.warning(self.services.renderer.text("app.privacy_mode_on", username=me.username))


def work_calendar(config: Config) -> WorkCalendar:
    """The working calendar of ``[calendar]`` in the community's time zone."""
    cal = config.calendar
    lunch = None
    if cal.lunch_start is not None and cal.lunch_end is not None:
        lunch = (cal.lunch_start, cal.lunch_end)
    return WorkCalendar(
        config.timezone, cal.work_start, cal.work_end, lunch, official=cal.holidays_file
    )


async def build_features(
    db: Database, clock: Clock, config: Config, renderer: Renderer
) -> Features:
    """Every feature service; registry role grants feed the other features' permissions."""
    roles = RoleBook()
    registry = RegistryService(RegistryRepo(db), clock, config, roles)
    await registry.load_roles()
    label = renderer.text("registry.forgotten_label")
    votes = VoteService(VoteRepo(db), clock, config, roles)
    issues = IssueService(
        IssueRepo(db),
        clock,
        config,
        work_calendar(config),
        roles=roles,
        bindings=ChatGridRepo(db),
        transcriber=transcriber_for(config),
    )
    schedule, checkin = schedule_features(db, clock, config, issues)
    jielong, meetings, consult_sweep = consult_features(db, clock, config, registry)
    notices = NoticeService(NoticeRepo(db), votes)
    todo = TodoService(
        TodoSources(issues, votes, notices, jielong, meetings, checkin, registry), clock
    )
    return Features(
        issues=issues,
        drafts=DraftStore(DraftRepo(db), clock),
        ledger=LedgerService(LedgerRepo(db), clock, config, roles),
        registry=registry,
        personal_data=PersonalDataService(
            db, PersonalDataRepo(db), RegistryRepo(db), clock, config, label
        ),
        votes=votes,
        polls=PollService(votes),
        notices=notices,
        schedule=schedule,
        checkin=checkin,
        jielong=jielong,
        meetings=meetings,
        consult_sweep=consult_sweep,
        todo=todo,
    )


def schedule_features(
    db: Database, clock: Clock, config: Config, issues: IssueService
) -> tuple[ScheduleService, CheckinService]:
    """The schedule sweep (issue #5) and the check-in service it shares with the handlers."""
    calendar = work_calendar(config)
    stats, checkin_repo = IssueStats(db), CheckinRepo(db)
    runs = ScheduleRepo(db, bot_key(config.telegram.token))  # each bot's sweeps, own clock
    checkins = CheckinService(checkin_repo, clock, config)
    schedule = ScheduleService(
        runs,
        clock,
        config,
        calendar,
        chaser=Chaser(issues, stats, runs, calendar),
        checkins=checkins,
        digests=DigestService(issues.feedback, stats, checkin_repo, DistrictRepo(db)),
    )
    return schedule, checkins


async def record_communities(db: Database, config: Config, now: datetime) -> None:
    """This bot's street office and communities, for the district's roll-up, whichever bot of
    the database sends it (issue #16, migration 0027)."""
    key = bot_key(config.telegram.token)
    communities = [(c.key, c.name) for c in config.communities]
    for taken in await DistrictRepo(db).keep_current(key, config.office_name, communities, now):
        # two configs with one community key: the data cannot say whose its issues are
        log.warning(
            "community key %r was %s's (bot %s) and is now %s's: community keys must be"
            " unique across the database",
            taken.community,
            taken.office,
            taken.bot,
            config.office_name,
        )


def consult_features(
    db: Database, clock: Clock, config: Config, registry: RegistryService
) -> tuple[JielongService, MeetingService, ConsultSweep]:
    """接龙 and meetings (issue #6), and their share of the sweep."""
    jielong = JielongService(JielongRepo(db), RegistryRepo(db), clock, config, registry.roles)
    meetings = MeetingService(MeetingRepo(db), clock, config, registry.roles)
    return (
        jielong,
        meetings,
        ConsultSweep(meetings, jielong, ScheduleRepo(db, bot_key(config.telegram.token)), config),
    )


async def build(config: Config, *, clock: Clock | None = None) -> GridBot:
    """Open the database and assemble the bot; nothing talks to Telegram until ``start``."""
    clock = clock or SystemClock()
    db = await open_database(config.storage.database)
    await rollups.ensure_zone(db, config.timezone)  # the digest's days are the config's
    tg = config.telegram
    app = (
        ApplicationBuilder()
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .updater(None)
        .request(LeanRequest(connection_pool_size=config.outbox.concurrency + 8))
        .get_updates_request(LeanRequest(connection_pool_size=2))
        .context_types(ContextTypes(context=BotContext))
        .build()
    )
    # Several bots (street offices) may share one PostgreSQL database: each sends its own rows
    # only, and rows from before that was possible (migration 0025) are this bot's.
    key = bot_key(tg.token)
    await adopt_unowned(db, key)
    await record_communities(db, config, clock.now())
    repo = OutboxRepo(db, key)
    renderer = Renderer(config.locale)
    limits = Limits(
        config.outbox.global_per_second,
        config.outbox.group_per_minute,
        config.outbox.private_per_second,
    )
    metrics = Metrics()
    sender = Sender(
        app.bot,
        repo,
        clock,
        limits,
        concurrency=config.outbox.concurrency,
        max_attempts=config.outbox.max_attempts,
        backoff=config.outbox.backoff_seconds,
        metrics=metrics,
    )
    services = Services(
        config=config,
        db=db,
        clock=clock,
        renderer=renderer,
        outbox=Outbox(db, repo, clock, sender.wake, sender.queued),
        sender=sender,
        features=await build_features(db, clock, config, renderer),
        sweep_hooks=[sweep_votes, sweep_consultation],
        metrics=metrics,
    )
    app.bot_data["services"] = services
    groups: dict[int, list[Any]] = {}
    for module, group in HANDLER_MODULES:
        groups.setdefault(group, []).extend(module.build_handlers())
    for group, handlers_of_group in groups.items():
        # One router per group: PTB would ask its ~60 handlers in turn (bot/transport/routing.py)
        app.add_handler(Router(handlers_of_group), group=group)
    app.add_error_handler(record_handler_error)
    intake = Intake(
        app,
        db,
        clock,
        poll_timeout=tg.poll_timeout,
        batch=config.intake.batch,
        max_attempts=config.intake.max_attempts,
        metrics=metrics,
        progress=sender.progress,
    )
    return GridBot(config, db, app, intake, sender, services)


async def run_until_stopped(config: Config, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set (SIGINT/SIGTERM in the CLI), then shut down cleanly."""
    gridbot = await build(config)
    collector.resume()  # paused by the run command while the bot loaded (bot.core.collector)
    if not await start_unless_stopped(gridbot, stop):
        return
    try:
        await stop.wait()
    finally:
        await gridbot.stop()


async def start_unless_stopped(gridbot: GridBot, stop: asyncio.Event) -> bool:
    """Start, unless ``stop`` is set first: a standby (PostgreSQL, another process serving
    the bot) waits inside ``start`` for as long as the other lives, and SIGTERM must still
    end it. False when stopped before serving (everything is closed then)."""
    starting = asyncio.create_task(gridbot.start(), name="gridbot-start")
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if starting.done():
        starting.result()  # a failed start raises here
        return True
    starting.cancel()
    await asyncio.gather(starting, return_exceptions=True)
    await gridbot.stop()
    return False
