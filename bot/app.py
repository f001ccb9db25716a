"""The only wiring module: builds the PTB Application, storage, intake, outbox and handlers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from telegram.ext import Application, ApplicationBuilder, ContextTypes

import handlers.chats
import handlers.issues
import handlers.issues_feedback
import handlers.issues_private
import handlers.issues_triage
import handlers.issues_views
import handlers.start
from bot.config import Config
from bot.context import BotContext, Services
from bot.intake import ALLOWED_UPDATES, Intake, record_handler_error
from bot.outbox import Outbox, Sender
from bot.ratelimit import Limits
from bot.rendering import Renderer
from bot.services.clock import Clock, SystemClock
from bot.services.issues import IssueService
from bot.services.workcal import WorkCalendar
from bot.webhook import WebhookServer
from storage.db import Database
from storage.issues import IssueRepo
from storage.outbox import OutboxRepo

log = logging.getLogger(__name__)

# (module, handler group). Group -1 sees every update before the features do.
HANDLER_MODULES: Sequence[tuple[ModuleType, int]] = (
    (handlers.chats, -1),
    (handlers.start, 0),
    # Order matters inside group 0: a slip comment (a reply) before the private guided report.
    (handlers.issues, 0),
    (handlers.issues_feedback, 0),
    (handlers.issues_triage, 0),
    (handlers.issues_views, 0),
    (handlers.issues_private, 0),
)
FEEDBACK_SWEEP_SECONDS = 60

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
    _started: bool = field(default=False, repr=False)

    async def start(self) -> None:
        await self.app.initialize()
        self._warn_if_privacy_mode()
        await self.app.start()  # the JobQueue clock; there is no PTB Updater
        if self.app.job_queue is not None:
            self.app.job_queue.run_repeating(
                handlers.issues_feedback.sweep_feedback, interval=FEEDBACK_SWEEP_SECONDS
            )
        await self.sender.start()
        polling = self.config.telegram.mode == "polling"
        if polling:
            await self.app.bot.delete_webhook()
        await self.intake.start(polling=polling)
        if not polling:
            self.webhook = WebhookServer(self.config.telegram.webhook, self.intake)
            await self.webhook.start()
            await self.app.bot.set_webhook(
                url=self.config.telegram.webhook.url,
                secret_token=self.config.telegram.webhook.secret_token,
                allowed_updates=ALLOWED_UPDATES,
            )
        self._started = True
        log.info("gridbot started as @%s", self.app.bot.username)

    async def stop(self) -> None:
        """Stop taking updates, finish the stored ones, deliver what is due, close."""
        if self.webhook is not None:
            await self.webhook.stop()
        await self.intake.stop()
        await self.sender.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        await self.db.close()
        log.info("gridbot stopped")

    async def wait_idle(self, within: float = 10.0) -> None:
        """Wait until every stored update is dispatched and every due message delivered."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            inbox = await self.intake.inbox.counts()
            outbox = await self.sender.repo.counts()
            if not inbox.get("pending") and not outbox.get("pending"):
                return
            if loop.time() > deadline:
                raise TimeoutError(f"still busy: inbox {inbox}, outbox {outbox}")
            await asyncio.sleep(0.02)

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
    return WorkCalendar(config.timezone, cal.work_start, cal.work_end, lunch)


async def build(config: Config, *, clock: Clock | None = None) -> GridBot:
    """Open the database and assemble the bot; nothing talks to Telegram until ``start``."""
    clock = clock or SystemClock()
    db = await Database.open(config.storage.path)
    tg = config.telegram
    app = (
        ApplicationBuilder()
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .updater(None)
        .context_types(ContextTypes(context=BotContext))
        .build()
    )
    repo = OutboxRepo(db)
    limits = Limits(
        config.outbox.global_per_second,
        config.outbox.group_per_minute,
        config.outbox.private_per_second,
    )
    sender = Sender(
        app.bot,
        repo,
        clock,
        limits,
        concurrency=config.outbox.concurrency,
        max_attempts=config.outbox.max_attempts,
        backoff=config.outbox.backoff_seconds,
    )
    services = Services(
        config=config,
        db=db,
        clock=clock,
        renderer=Renderer(config.locale),
        outbox=Outbox(db, repo, clock, sender.wake),
        sender=sender,
        features={"issues": IssueService(IssueRepo(db), clock, config, work_calendar(config))},
    )
    app.bot_data["services"] = services
    for module, group in HANDLER_MODULES:
        for handler in module.build_handlers():
            app.add_handler(handler, group=group)
    app.add_error_handler(record_handler_error)
    intake = Intake(
        app,
        db,
        clock,
        poll_timeout=tg.poll_timeout,
        batch=config.intake.batch,
        max_attempts=config.intake.max_attempts,
    )
    return GridBot(config, db, app, intake, sender, services)


async def run_until_stopped(config: Config, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set (SIGINT/SIGTERM in the CLI), then shut down cleanly."""
    gridbot = await build(config)
    await gridbot.start()
    try:
        await stop.wait()
    finally:
        await gridbot.stop()
