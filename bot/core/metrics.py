"""Process counters for /metrics (issue #17): what the database cannot tell afterwards.

Queue sizes, dead letters, open issues and the three rates are read from the database at each
scrape (bot/ops/health.py); only events that leave no row behind are counted here. Each process
has its own registry, so tests and several bots in one process never share counts.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.handler_errors = Counter(
            "gridbot_handler_errors", "Handler failures (each attempt)", registry=self.registry
        )
        self.retry_after = Counter(
            "gridbot_outbox_retry_after", "429 Too Many Requests answers", registry=self.registry
        )
        self.sweep_seconds = Histogram(
            "gridbot_sweep_seconds",
            "Duration of each scheduled sweep",
            ["sweep"],
            registry=self.registry,
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30),
        )
