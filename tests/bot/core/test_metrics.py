"""The process counters keep prometheus-client's exposition while loading it only at a scrape."""

from __future__ import annotations

from prometheus_client import generate_latest

from bot.core.metrics import Metrics


def test_counts_and_durations_read_as_prometheus_counters_and_a_histogram() -> None:
    metrics = Metrics()
    metrics.handler_errors.inc()
    metrics.handler_errors.inc()
    metrics.retry_after.inc()
    for seconds in (0.005, 0.07, 0.07, 3.0, 45.0):
        metrics.sweep_seconds.labels("schedule").observe(seconds)
    with metrics.sweep_seconds.labels("feedback").time():
        pass

    registry = metrics.registry
    value = registry.get_sample_value
    assert value("gridbot_handler_errors_total") == 2
    assert value("gridbot_outbox_retry_after_total") == 1
    schedule = {"sweep": "schedule"}
    assert value("gridbot_sweep_seconds_bucket", {**schedule, "le": "0.01"}) == 1
    assert value("gridbot_sweep_seconds_bucket", {**schedule, "le": "0.1"}) == 3
    assert value("gridbot_sweep_seconds_bucket", {**schedule, "le": "5.0"}) == 4
    assert value("gridbot_sweep_seconds_bucket", {**schedule, "le": "+Inf"}) == 5
    assert value("gridbot_sweep_seconds_count", schedule) == 5
    assert value("gridbot_sweep_seconds_sum", schedule) == 0.005 + 0.07 + 0.07 + 3.0 + 45.0
    assert value("gridbot_sweep_seconds_count", {"sweep": "feedback"}) == 1
    # Later counts show at the next scrape: the registry reads them live.
    metrics.retry_after.inc()
    assert registry.get_sample_value("gridbot_outbox_retry_after_total") == 2
    assert b'gridbot_sweep_seconds_count{sweep="schedule"} 5.0' in generate_latest(registry)
