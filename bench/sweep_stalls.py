"""How long each sweep holds the event loop (issue #15 item 6), step by step, on a copy of the
swept 1M-issue database of ``bench.latency``: a load-insensitive figure to iterate on.

``python -m bench.sweep_stalls --cache-dir DIR [--sweeps 6] [--gap 2] [--work-dir DIR]``

Gridbot is built as in production but not started (nothing is sent); ``run_sweeps`` runs
``--sweeps`` times, ``--gap`` seconds apart, while a probe task asks for a 1 ms sleep over
and over (how late it wakes is what a message arriving then would wait). ``bench.loopwatch``
records every callback of 1 ms or more with its thread CPU, the sweep step it fell in, and
the code sampled while it ran. The first sweep after start finds the ladders uncached (as a
restarted bot does); the later ones are the steady state.
"""

from __future__ import annotations

# As `gridbot run` and bench.gridbot_proc do (bot.core.collector): no cyclic collection while
# the bot loads, then what it loaded frozen. The imports below come after this statement.
# ruff: noqa: E402
import gc

gc.disable()

import argparse
import asyncio
import functools
import os
import shutil
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench import latency
from bench.common import TOKEN, gridbot_config
from bench.loopwatch import LoopWatch, summary
from bot.app import build
from bot.config import load_config
from bot.core import collector
from bot.ops import backups
from bot.schedule import jobs


class AheadClock:
    """The system's clock, ``ahead`` in the future: with ``--ahead`` each sweep finds the
    steps of that many more minutes due, as a tick after a longer interval would."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.ahead


def phased(watch: LoopWatch, name: str, method: Any) -> Any:
    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        with watch.phase_of(name):
            return await method(*args, **kwargs)

    return wrapper


async def probe(watch: LoopWatch, lags: list[tuple[str, float]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(0.001)
        lags.append((watch.phase or "-", time.perf_counter() - start - 0.001))


async def main(args: argparse.Namespace, source: Path) -> None:
    work = Path(args.work_dir or "/tmp") / "sweep-stalls.sqlite3"
    if args.fresh or not work.exists():
        for leftover in work.parent.glob(work.name + "*"):
            leftover.unlink()
        shutil.copyfile(source, work)
    fake = SimpleNamespace(base_url="http://127.0.0.1:9/bot", base_file_url="http://127.0.0.1:9")
    os.environ.setdefault("GRIDBOT_TOKEN", TOKEN)
    toml = work.with_suffix(".toml")
    config = gridbot_config(fake, work, [-1001], real_limits=False)  # type: ignore[arg-type]
    toml.write_text(config, "utf-8")
    clock = AheadClock()
    gridbot = await build(load_config(toml), clock=clock)
    collector.resume()
    services = gridbot.services
    watch = LoopWatch()
    features = services.features
    schedule = features.schedule
    issues = features.issues
    issues.sweep_feedback = phased(watch, "feedback", issues.sweep_feedback)  # type: ignore[method-assign]
    schedule.prepare_digests = phased(watch, "digests", schedule.prepare_digests)  # type: ignore[method-assign]
    schedule._calendar = phased(watch, "calendar", schedule._calendar)  # type: ignore[method-assign]
    chaser = schedule.chaser
    chaser.due = phased(watch, "chase-read", chaser.due)  # type: ignore[method-assign]
    chaser.apply = phased(watch, "chase-write", chaser.apply)  # type: ignore[method-assign]
    checkins = schedule.checkins
    checkins.due_escalations = phased(watch, "checkin-read", checkins.due_escalations)  # type: ignore[method-assign]
    jobs.run_hooks = phased(watch, "hooks", jobs.run_hooks)
    jobs.backup_if_due = phased(watch, "backup", backups.backup_if_due)
    watch.install()
    stop = asyncio.Event()
    lags: list[tuple[str, float]] = []
    prober = asyncio.create_task(probe(watch, lags, stop))
    try:
        for n in range(args.sweeps):
            watch.stalls, lags[:], watch.gc_pauses = [], [], []
            watch.loop_cpu = 0.0
            cpu, wall = time.process_time(), time.perf_counter()
            clock.ahead = timedelta(minutes=args.ahead * n)
            with watch.phase_of("sweep"):
                await jobs.run_sweeps(services, "bench_bot")
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            worst = max((lag for _, lag in lags), default=0.0)
            late = sum(lag > 0.005 for _, lag in lags)
            print(
                f"sweep {n + 1}: wall {wall * 1000:.0f} ms, process cpu {cpu * 1000:.0f} ms,"
                f" loop cpu {watch.loop_cpu * 1000:.0f} ms; probe: {len(lags)} wakes,"
                f" {late} late > 5 ms, worst {worst * 1000:.1f} ms"
            )
            if watch.gc_pauses:
                pauses = sorted(watch.gc_pauses, key=lambda p: -p[1])
                print(
                    f"  gc: {len(pauses)} collections, gen2 {sum(g == 2 for g, _ in pauses)},"
                    f" longest {pauses[0][1] * 1000:.1f} ms (gen {pauses[0][0]})"
                )
            watch.gc_pauses = []
            if watch.stalls:
                print(summary(watch.stalls, args.top))
            await asyncio.sleep(args.gap)
        if args.gc_census:
            census = Counter(type(o).__qualname__ for o in gc.get_objects())
            print(
                f"tracked objects (not frozen): {sum(census.values()):,};"
                f" frozen {gc.get_freeze_count():,}"
            )
            print("  " + ", ".join(f"{name} {n:,}" for name, n in census.most_common(12)))
    finally:
        stop.set()
        await prober
        watch.uninstall()
        await services.db.close()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep_stalls", description=__doc__)
    parser.add_argument("--sweeps", type=int, default=6)
    parser.add_argument("--gap", type=float, default=2.0, help="seconds between sweeps")
    parser.add_argument("--top", type=int, default=8, help="sites and stalls listed")
    parser.add_argument("--issues", type=int, default=1_000_000)
    parser.add_argument("--cache-dir", help="where bench.gen_issues keeps the database")
    parser.add_argument("--work-dir", help="where the copy is kept between runs (default /tmp)")
    parser.add_argument(
        "--ahead", type=float, default=0.0, help="minutes each sweep's clock runs further ahead"
    )
    parser.add_argument("--gc-census", action="store_true", help="count what the collector scans")
    parser.add_argument("--fresh", action="store_true", help="copy the cached database again")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    asyncio.run(main(arguments, latency.database_for(arguments)))
