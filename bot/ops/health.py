"""``/healthz`` and ``/metrics`` on a small HTTP endpoint (``[metrics]``, 127.0.0.1 by default).

/healthz answers 200 "ok" or 503 with one reason a line: the intake loop stopped, Telegram not
reached for too long, the database not writable, or a message waiting too long to be sent.
/metrics is Prometheus text: the process counters of bot/core/metrics.py plus gauges read from
the database at each scrape (queues, dead letters, open and overdue issues, the three rates and
the on-time rate).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from bot.config.schema import MetricsConfig
from bot.context import Services
from bot.issues.feedback import RateScope
from bot.issues.rates import Rate
from bot.transport.intake import Intake
from storage.issues.stats import IssueStats
from storage.ops.repo import OpsRepo, QueueState
from storage.transport.inbox import bot_key

log = logging.getLogger(__name__)

WRITABLE_WITHIN_SECONDS = 5.0
RATE_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Health:
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


class HealthChecks:
    def __init__(self, services: Services, intake: Intake, config: MetricsConfig) -> None:
        self.services = services
        self.intake = intake
        self.config = config
        self.repo = OpsRepo(services.db, bot_key(services.config.telegram.token))

    async def health(self) -> Health:
        now = self.services.clock.now()
        stalled = self.intake.problem(now)
        problems = [stalled] if stalled else []
        if not await self._writable():
            problems.append("database not writable")
        queues = await self.repo.queues()
        limit = timedelta(seconds=self.config.pending_age_limit_seconds)
        if queues.oldest_pending is not None and now - queues.oldest_pending > limit:
            age = int((now - queues.oldest_pending).total_seconds())
            problems.append(f"outbox: a message has waited {age} s to be sent")
        return Health(tuple(problems))

    async def _writable(self) -> bool:
        try:
            async with asyncio.timeout(WRITABLE_WITHIN_SECONDS):
                async with self.services.db.transaction():
                    pass  # BEGIN IMMEDIATE takes the write lock; COMMIT releases it
            return True
        except Exception:
            log.warning("health check: the database did not take a write", exc_info=True)
            return False

    async def metrics(self) -> bytes:
        now = self.services.clock.now()
        registry = CollectorRegistry(auto_describe=True)
        _queue_gauges(registry, await self.repo.queues(), now)
        await self._issue_gauges(registry, now)
        return generate_latest(registry) + generate_latest(self.services.metrics.registry)

    async def _issue_gauges(self, registry: CollectorRegistry, now: datetime) -> None:
        config = self.services.config
        issues = self.services.features.issues
        stats = IssueStats(self.services.db)
        by_grid = await stats.open_by_grid(now)
        open_ = Gauge(
            "gridbot_issues_open", "Open issues", ["community", "grid"], registry=registry
        )
        overdue = Gauge(
            "gridbot_issues_overdue",
            "Overdue open issues",
            ["community", "grid"],
            registry=registry,
        )
        for community in config.communities:
            for grid in community.grids:
                count, late = by_grid.get(grid.key, (0, 0))
                open_.labels(community.name, grid.key).set(count)
                overdue.labels(community.name, grid.key).set(late)
        gauge = Gauge(
            "gridbot_rate_30d",
            "The rates over 30 days of feedback slips, and on_time_rate over 30 days of"
            " resolutions, 0..1; each absent while there are none",
            ["community", "rate"],
            registry=registry,
        )
        for community in config.communities:
            # each community's own figures (issue #15); with one, every issue is its own
            key = community.key if config.several else None
            rates = await issues.rates(
                RateScope.COMMUNITY, None, now - RATE_WINDOW, now, community=key
            )
            for which in Rate:
                value = rates.rate(which)
                if value is not None:
                    gauge.labels(community.name, which.value).set(float(value))
            # 按期办结率 over the resolutions of the same 30 days (bot.issues.rates, issue #18)
            found = await stats.on_time(now - RATE_WINDOW, now, community=key)
            resolved, punctual = found.get(None, (0, 0))
            if resolved:
                gauge.labels(community.name, "on_time_rate").set(punctual / resolved)


def _queue_gauges(registry: CollectorRegistry, queues: QueueState, now: datetime) -> None:
    inbox = Gauge("gridbot_updates", "Updates received, by state", ["state"], registry=registry)
    for state in ("pending", "done", "dead"):
        inbox.labels(state).set(queues.inbox.get(state, 0))
    outbox = Gauge("gridbot_outbox", "Outgoing messages, by state", ["state"], registry=registry)
    for state in ("pending", "sent", "dead", "unreachable"):
        outbox.labels(state).set(queues.outbox.get(state, 0))
    age = 0.0 if queues.oldest_pending is None else (now - queues.oldest_pending).total_seconds()
    Gauge(
        "gridbot_outbox_oldest_pending_seconds",
        "Age of the oldest unsent message",
        registry=registry,
    ).set(max(0.0, age))
    Gauge("gridbot_unreachable_chats", "Chats the bot may not write to", registry=registry).set(
        queues.unreachable_chats
    )


class OpsServer:
    """The aiohttp endpoint; ``start()`` binds, ``stop()`` releases the port."""

    def __init__(self, checks: HealthChecks, config: MetricsConfig) -> None:
        self.checks = checks
        self.config = config
        self._runner: web.AppRunner | None = None
        self.port = config.port

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.listen, self.config.port)
        await site.start()
        for address in self._runner.addresses:  # the real port when the config says 0
            self.port = int(address[1])
        log.info("health and metrics on http://%s:%s/", self.config.listen, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        health = await self.checks.health()
        if health.ok:
            return web.Response(text="ok\n")
        return web.Response(status=503, text="\n".join(health.problems) + "\n")

    async def _metrics(self, request: web.Request) -> web.Response:
        body = await self.checks.metrics()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})
