"""Process counters for /metrics (issue #17): what the database cannot tell afterwards.

Queue sizes, dead letters, open issues and the three rates are read from the database at each
scrape (bot/ops/health.py); only events that leave no row behind are counted here. Each process
has its own registry, so tests and several bots in one process never share counts.

The counts are plain numbers; prometheus-client (about 30 modules) is imported only when the
registry is first asked for, at the first scrape, so a bot without ``[metrics]`` never loads it
and start-up does not wait for it (issue #15 item 5).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

SWEEP_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30)


class Count:
    """A monotonic counter (exposed as ``<name>_total``)."""

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class Durations:
    """Observed durations of one label value, bucketed as a Prometheus histogram."""

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)  # per bucket, not cumulative
        self.count = 0
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        self.count += 1
        self.sum += seconds
        for n, bound in enumerate(self.buckets):
            if seconds <= bound:
                self.counts[n] += 1
                break

    @contextmanager
    def time(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.observe(time.perf_counter() - started)


class Timings:
    """A histogram with one label: ``labels(value).time()`` as with prometheus-client."""

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.by_label: dict[str, Durations] = {}

    def labels(self, value: str) -> Durations:
        found = self.by_label.get(value)
        if found is None:
            found = self.by_label[value] = Durations(self.buckets)
        return found


class Metrics:
    def __init__(self) -> None:
        self.handler_errors = Count()
        self.retry_after = Count()
        self.sweep_seconds = Timings(SWEEP_BUCKETS)
        self._registry: CollectorRegistry | None = None

    @property
    def registry(self) -> CollectorRegistry:
        """A Prometheus registry reading these counts at each collection."""
        if self._registry is None:
            from prometheus_client import CollectorRegistry

            self._registry = CollectorRegistry(auto_describe=True)
            self._registry.register(_Collector(self))
        return self._registry


class _Collector:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        m = self.metrics
        yield CounterMetricFamily(
            "gridbot_handler_errors",
            "Handler failures (each attempt)",
            value=m.handler_errors.value,
        )
        yield CounterMetricFamily(
            "gridbot_outbox_retry_after",
            "429 Too Many Requests answers",
            value=m.retry_after.value,
        )
        family = HistogramMetricFamily(
            "gridbot_sweep_seconds", "Duration of each scheduled sweep", labels=["sweep"]
        )
        for label, durations in sorted(m.sweep_seconds.by_label.items()):
            cumulative, buckets = 0, []
            for bound, count in zip(durations.buckets, durations.counts, strict=True):
                cumulative += count
                buckets.append((_bound(bound), cumulative))
            buckets.append(("+Inf", durations.count))
            family.add_metric([label], buckets, durations.sum)
        yield family


def _bound(value: float) -> str:
    """A bucket bound as prometheus-client writes it (``1.0``, ``0.05``)."""
    return repr(float(value))
