"""Digests at street-office scale (issue #15 items 2 and 6): one database, many communities.

``python -m bench.digest_scale [--issues 1000000] [--communities 300] [--grids 3000]
[--repeat 5] [--sample 3] [--postgres URL [--copied]]``

Uses (and if needed generates) the cached database of ``bench.gen_issues``: 300 communities of
10 grids and 4 handlers each, 1,000,000 issues in all, every issue carrying its community, the
rollups built. Timed, each the median of ``--repeat`` runs where it is a single call:

* **one community's digest**: ``DigestService.build(..., community="c0")``, the real service
  and storage path, with the Config of that community (its grids and handlers);
* **all communities' digests**, one after another, each with its own Config;
* **the street office's roll-up**: ``DigestService.roll_up``, every community worst first.

The baseline, in the same run: the same ``DigestService`` over ``NaiveIssueStats``, which reads
every figure from the issues, events and slips with a community filter (``storage.issues.naive``:
the queries the digest ran before the rollups, each now scoped to one community). For
``--sample`` communities the two digests must be equal (``==`` on the whole ``Digest``), and
each one's roll-up line must equal the naive counts; the bench stops on any difference. All
300 naive digests would take minutes, so their total is the sample's mean × 300.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from bench import gen_issues
from bench.common import TOKEN, table
from bot.config import Config, config_from_dict
from bot.core.clock import SystemClock
from bot.core.permissions import RoleBook
from bot.core.workcal import WorkCalendar
from bot.issues.rates import OnTime, RateCounts, rates_from_counts
from bot.issues.service import IssueService
from bot.schedule.digest import DigestService
from bot.schedule.model import at_local
from storage.clock import from_db
from storage.db import Database
from storage.issues import rollups
from storage.issues.repo import IssueRepo
from storage.issues.stats import IssueStats, NaiveIssueStats
from storage.schedule.checkins import CheckinRepo

TARGET_ONE_MS = 50
TARGET_ALL_S = 5
TARGET_ROLL_UP_S = 1
HANDLER_NAMES = {
    "wy": ("物业", "property"),
    "cgk": ("城管科", "department"),
    "sz": ("市政", "department"),
    "jw": ("居委会", "department"),
}


def community_config(db: Path, community: int, per: int) -> Config:
    grids = [
        {"key": f"g{g}", "name": f"第{g}网格", "workers": [100 + g]}
        for g in range(community * per, (community + 1) * per)
    ]
    handlers = [
        {
            "key": f"c{community}_{k}",
            "name": f"{community}号社区{name}",
            "user_id": 900 + i,
            "kind": kind,
        }
        for i, (k, (name, kind)) in enumerate(HANDLER_NAMES.items())
    ]
    data = {
        "storage": {"path": str(db)},
        "community": {
            "name": f"{community}号社区",
            "secretaries": [1],
            "grids": grids,
            "handlers": handlers,
        },
    }
    return config_from_dict(data, {"GRIDBOT_TOKEN": TOKEN})


def work_calendar(config: Config) -> WorkCalendar:
    """As ``bot.app.work_calendar`` (not imported: bot.app pulls in every handler module)."""
    cal = config.calendar
    lunch = None
    if cal.lunch_start is not None and cal.lunch_end is not None:
        lunch = (cal.lunch_start, cal.lunch_end)
    return WorkCalendar(config.timezone, cal.work_start, cal.work_end, lunch)


def digest_service(db: Database, config: Config, *, naive: bool = False) -> DigestService:
    issues = IssueService(
        IssueRepo(db), SystemClock(), config, work_calendar(config), roles=RoleBook()
    )
    stats = NaiveIssueStats(db) if naive else IssueStats(db)
    issues.repo.slips.stats = stats  # the rates' counters too
    return DigestService(issues.feedback, stats, CheckinRepo(db))


def moment(path: Path, config: Config) -> tuple[datetime, date]:
    """The digest's now (08:00 local on the generation day) and today."""
    conn = sqlite3.connect(path)
    end = conn.execute("SELECT value FROM bench_meta WHERE key = 'end'").fetchone()[0]
    conn.close()
    today = from_db(end).astimezone(config.timezone).date()
    return at_local(today, dtime(8), config), today


async def median_ms(call: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, Any]:
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000, result


async def check_roll_up_line(
    db: Database, line: Any, now: datetime, today: date, cfg: Config
) -> None:
    """One community's roll-up line against the naive counts (stops the bench if different)."""
    naive = NaiveIssueStats(db)
    key = line.community
    start, end = (
        at_local(today - timedelta(days=30), dtime(0), cfg),
        at_local(today, dtime(0), cfg),
    )
    slips = (await naive.naive.rate_counts_by(None, start, end, community=key)).get(None, {})
    timed = (await naive.naive.on_time(start, end, community=key)).get(None, (0, 0))
    expected = (
        await naive.naive.open_count(community=key),
        await naive.naive.overdue_count(now, community=key),
        OnTime(*timed),
        rates_from_counts(RateCounts(**slips) if slips else RateCounts()),
    )
    got = (line.open, line.overdue, line.on_time_30, line.rates_30)
    assert got == expected, (key, got, expected)


async def run(args: argparse.Namespace) -> None:
    path, generated = gen_issues.ensure(args)
    per = args.grids // args.communities
    configs = [community_config(path, c, per) for c in range(args.communities)]
    now, today = moment(path, configs[0])
    copied = None
    if args.postgres:
        # The same generated database, copied into PostgreSQL the way an operator moves a
        # community (gridbot migrate-db: verified table by table), then timed there.
        from storage.backends.copy import migrate
        from storage.backends.postgres import PgDatabase

        if not args.copied:
            started = time.perf_counter()
            results = await migrate(path, args.postgres, force=True)
            copied = time.perf_counter() - started
            assert all(r.ok for r in results), [r.table for r in results if not r.ok]
        db: Database = await PgDatabase.open(args.postgres)
        if args.copied:  # the copy of an earlier run: at least the same issues
            issues = (await db.fetchone("SELECT COUNT(*) FROM issues") or (0,))[0]
            assert issues == args.issues, f"{args.postgres} holds {issues} issues"
    else:
        db = await Database.open(path)
    try:
        rows = await rollups.row_count(db)
        fast = [digest_service(db, cfg) for cfg in configs]
        slow = [digest_service(db, cfg, naive=True) for cfg in configs]
        build = lambda s, c: s.build(now, today, weekly=False, community=f"c{c}")  # noqa: E731
        await build(fast[0], 0)  # warm the page cache once for both contenders
        one_ms, _ = await median_ms(lambda: build(fast[0], 0), args.repeat)
        naive_one_ms, _ = await median_ms(lambda: build(slow[0], 0), max(1, args.repeat // 2))
        started = time.perf_counter()
        for c, service in enumerate(fast):
            await build(service, c)
        all_s = time.perf_counter() - started
        roll_ms, rollup = await median_ms(lambda: fast[0].roll_up(now, today), args.repeat)
        lines = rollup.lines
        # the sample: equal digests, equal roll-up lines, and the naive time of each
        step = max(1, args.communities // args.sample)
        sample = list(range(0, args.communities, step))[: args.sample]
        naive_ms = []
        by_key = {line.community: line for line in lines}
        for c in sample:
            t0 = time.perf_counter()
            expected = await build(slow[c], c)
            naive_ms.append((time.perf_counter() - t0) * 1000)
            got = await build(fast[c], c)
            assert got == expected, f"community c{c}: the digest differs from the naive one"
            await check_roll_up_line(db, by_key[f"c{c}"], now, today, configs[c])
    finally:
        await db.close()
    naive_all_s = statistics.mean(naive_ms) * args.communities / 1000
    met = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    if copied is not None:
        print(f"on PostgreSQL ({args.postgres}), copied from SQLite in {copied:.0f} s")
    elif args.postgres:
        print(f"on PostgreSQL ({args.postgres}), copied by an earlier run")
    print(
        f"database: {path.name} ({path.stat().st_size / 2**20:,.0f} MiB,"
        f" {f'generated in {generated:.0f} s' if generated else 'cached'}),"
        f" {args.communities} communities × {per} grids, {rows:,} rollup rows"
    )
    print(
        table(
            ["what", "rollups", "naive (same run)", "naive ÷ rollups", "target"],
            [
                [
                    "one community's digest",
                    f"{one_ms:.1f} ms",
                    f"{naive_one_ms:.0f} ms",
                    f"{naive_one_ms / one_ms:.0f}×",
                    f"< {TARGET_ONE_MS} ms {met(one_ms < TARGET_ONE_MS)}",
                ],
                [
                    f"all {args.communities} digests",
                    f"{all_s:.2f} s",
                    f"≈ {naive_all_s:.0f} s (sample mean × {args.communities})",
                    f"{naive_all_s / all_s:.0f}×",
                    f"< {TARGET_ALL_S} s {met(all_s < TARGET_ALL_S)}",
                ],
                [
                    f"street office's roll-up ({len(lines)} communities, worst first)",
                    f"{roll_ms:.0f} ms",
                    "—",
                    "—",
                    f"< {TARGET_ROLL_UP_S} s {met(roll_ms < TARGET_ROLL_UP_S * 1000)}",
                ],
            ],
        )
    )
    checked = ", ".join(f"c{c}" for c in sample)
    times = ", ".join(f"{m:.0f}" for m in naive_ms)
    print(
        "equal to the naive computation: digests and roll-up lines of communities"
        f" {checked} (naive digests {times} ms)"
    )
    worst = ", ".join(f"{line.community} ({line.overdue} overdue)" for line in lines[:3])
    print(f"roll-up, worst first: {worst} …")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.digest_scale", description=__doc__)
    gen_issues.add_arguments(parser)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sample", type=int, default=3)
    parser.add_argument("--force", action="store_true", help="regenerate the database")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="copy the generated database into this PostgreSQL database (emptied) and time there",
    )
    parser.add_argument(
        "--copied",
        action="store_true",
        help="with --postgres: time the database an earlier run copied there (the copy of"
        " 1,000,000 issues takes tens of minutes)",
    )
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
