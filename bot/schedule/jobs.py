"""The clock (issue #5): one PTB job a minute runs every sweep; the database holds the rest.

APScheduler keeps nothing that must happen (architecture.md, invariant 5): each tick asks the
services what is due at ``clock.now()`` and records what it did in the same transaction as the
outbox rows, so a crash between ticks loses nothing and a restart repeats nothing. The first
tick runs as soon as the bot starts, which is how work missed during a short outage (within the
grace period) goes out once on start.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.context import BotContext, Services
from bot.issues.presenter import IssueNotifier, issue_service
from bot.ops.backups import backup_if_due
from bot.schedule.presenter import ScheduleNotifier
from bot.schedule.service import ScheduleService
from storage.backends.locks import sweep_turn
from storage.transport.inbox import bot_key

log = logging.getLogger(__name__)


def schedule_service(services: Services) -> ScheduleService:
    return services.features.schedule


async def tick(context: BotContext) -> None:
    """Every minute: feedback reminders and expiry, then every piece of scheduled work."""
    await run_sweeps(context.services, context.bot.username)


async def run_sweeps(services: Services, bot_username: str) -> None:
    """Every sweep at the clock's now, by one process of those sharing the database."""
    # One lock per bot: each bot sweeps its own communities, and one process of those
    # serving it does so per tick (another bot on the database sweeps at the same time).
    async with sweep_turn(
        services.db, f"sweeps:{bot_key(services.config.telegram.token)}"
    ) as mine:
        if mine:
            await _run_sweeps(services, bot_username)


async def _run_sweeps(services: Services, bot_username: str) -> None:
    """Every sweep at the clock's now; each commits on its own, one failing spares the rest."""
    now = services.clock.now()
    timed = services.metrics.sweep_seconds.labels
    try:
        with timed("feedback").time():
            # Short transactions of its own, each queueing what it records (issue #15 item 3).
            notifier = IssueNotifier(services, bot_username)
            await issue_service(services).sweep_feedback(now, notifier.deliver_notices)
    except Exception:
        log.exception("feedback sweep failed at %s", now.isoformat())
    try:
        with timed("schedule").time():
            schedule = schedule_service(services)
            digests = await schedule.prepare_digests(now)  # long reads, outside the transaction
            # Short transactions of its own, each queueing what it records (issue #15 item 3).
            presenter = ScheduleNotifier(services, bot_username)
            result = await schedule.sweep(now, digests, presenter.deliver)
        if result.recorded:
            log.info("schedule sweep at %s: %s", now.isoformat(), result.recorded)
    except Exception:
        log.exception("schedule sweep failed at %s", now.isoformat())
    await run_hooks(services, bot_username, now)
    # Outside every transaction: the copy reads beside the writer and must never hold it.
    with timed("backup").time():
        await backup_if_due(services, now)


async def run_hooks(services: Services, bot_username: str, now: datetime) -> None:
    """Each feature's hook (``services.sweep_hooks``), each committing on its own."""
    for hook in services.sweep_hooks:
        try:
            with services.metrics.sweep_seconds.labels(hook.__name__).time():
                async with services.db.transaction():
                    await hook(services, bot_username, now)
        except Exception:
            log.exception("sweep hook %s failed at %s", hook.__name__, now.isoformat())
