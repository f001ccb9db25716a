"""Digest and rates at scale (issue #7, item 2): the real code path against naive Python.

``python -m bench.digest_scale [--issues 1000000] [--naive-digests 2] [--all N]``

Uses (and if needed generates) the cached database of ``bench.gen_issues``. Gridbot's digest
path is ``DigestService.build`` with a Config of one community (its ten grids and four handlers,
built with ``config_from_dict``) over ``storage.issues.stats`` and ``storage.issues.slips``. The
baseline loads every issue, event and slip once into Python and loops over all of them for each
digest (rates through ``bot.issues.rates.compute_rates``, the reference implementation). Each
naive digest must equal the service's (the same ``Digest`` dataclass, compared with ``==``).

Important: the digest queries have no grid or community filter, because one gridbot serves one
community and owns its database. In a database shared by 300 communities every "community
digest" therefore reports on all 1,000,000 issues. Two contenders are timed:

* **shared**: the 1,000,000-issue database itself (what the issue asked for);
* **own db**: one community's share (issues ÷ communities, 10 grids) in its own database, which
  is how gridbot is deployed: 300 bots each build one such digest.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import fields
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from bench import gen_issues
from bench.common import TOKEN, table
from bot.config import Config, config_from_dict
from bot.core.clock import SystemClock
from bot.core.permissions import RoleBook
from bot.core.workcal import WorkCalendar
from bot.issues.feedback import RateScope
from bot.issues.rates import (
    Rates,
    Satisfaction,
    Slip,
    Solved,
    compare,
    compute_rates,
    on_time,
)
from bot.issues.service import IssueService
from bot.schedule.digest import OVERDUE_SHOWN, TOP, Digest, DigestService, HandlerScore, Overdue
from bot.schedule.model import at_local
from storage.clock import from_db, to_db
from storage.db import Database
from storage.issues.repo import OPEN_STATES, IssueRepo
from storage.issues.stats import IssueStats
from storage.schedule.checkins import CheckinRepo

# The indexes proposed in bench/README.md (not a migration: tried on a copy with --try-indexes).
PROPOSED_INDEXES = (
    "CREATE INDEX IF NOT EXISTS issue_events_at ON issue_events (at, action, from_state)",
    "CREATE INDEX IF NOT EXISTS issues_reported ON issues (reported_at, category)",
    "CREATE INDEX IF NOT EXISTS issues_state ON issues (state, respond_by, resolve_by)",
    "CREATE INDEX IF NOT EXISTS feedback_slips_handler ON feedback_slips (handler, created_at)",
)
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


def digest_service(db: Database, config: Config) -> DigestService:
    issues = IssueService(
        IssueRepo(db), SystemClock(), config, work_calendar(config), roles=RoleBook()
    )
    return DigestService(issues.feedback, IssueStats(db), CheckinRepo(db))


def moment(path: Path, config: Config) -> tuple[datetime, date]:
    """The digest's now (08:00 local on the generation day) and today."""
    conn = sqlite3.connect(path)
    end = conn.execute("SELECT value FROM bench_meta WHERE key = 'end'").fetchone()[0]
    conn.close()
    today = from_db(end).astimezone(config.timezone).date()
    return at_local(today, dtime(8), config), today


# -- the naive baseline ---------------------------------------------------------------------


class Naive:
    """Every row loaded once; each digest loops over all of them."""

    def __init__(self, path: Path) -> None:
        conn = sqlite3.connect(path)
        self.issues = conn.execute(
            "SELECT number, category, state, handler, reported_at, respond_by, resolve_by, grid"
            " FROM issues"
        ).fetchall()
        self.events = conn.execute("SELECT at, from_state, action FROM issue_events").fetchall()
        # 按期办结率: every resolution with the deadline recorded on it, and its issue's grid and
        # category (bot.issues.rates.on_time is the reference count)
        self.resolutions = conn.execute(
            "SELECT e.at, e.resolve_by, i.grid, i.category FROM issue_events e"
            " JOIN issues i ON i.id = e.issue_id WHERE e.action = 'resolve'"
        ).fetchall()
        self.slips = conn.execute(
            "SELECT created_at, state, handler, grid, contacted, solved, satisfaction"
            " FROM feedback_slips"
        ).fetchall()
        self.alerts = conn.execute("SELECT raised_at, outcome FROM checkin_alerts").fetchall()
        conn.close()

    def digest(self, config: Config, now: datetime, today: date) -> Digest:
        day = lambda d: to_db(at_local(d, dtime(0), config))  # noqa: E731
        start, end = day(today - timedelta(days=1)), day(today)
        back30, back60 = day(today - timedelta(days=30)), day(today - timedelta(days=60))
        counts = dict.fromkeys(("new", "accepted", "resolved", "reopened"), 0)
        days = [today - timedelta(days=n) for n in range(30, 0, -1)]
        trend = {d: [0, 0] for d in days}
        for at, src, action in self.events:
            if back30 <= at < end and (src is None or action == "resolve"):
                local = from_db(at).astimezone(config.timezone).date()
                if local in trend:
                    trend[local][0 if src is None else 1] += 1
            if start <= at < end:
                counts["new"] += src is None
                counts["accepted"] += action == "accept" or (action == "assign" and src == "new")
                counts["resolved"] += action == "resolve"
                counts["reopened"] += action == "reopen"
        stamp, open_now, overdue, categories = to_db(now), 0, [], Counter()
        by_grid = {g.key: [0, 0] for g in config.community.grids}
        for (
            number,
            category,
            state,
            handler,
            reported,
            respond_by,
            resolve_by,
            grid,
        ) in self.issues:
            if back30 <= reported < end:
                categories[category] += 1
            if state not in OPEN_STATES:
                continue
            open_now += 1
            late = bool(resolve_by and resolve_by < stamp)
            late = late or (state == "new" and respond_by < stamp)
            if late:
                overdue.append((reported, number, category, handler))
            if grid in by_grid:
                by_grid[grid][0] += 1
                by_grid[grid][1] += late
        overdue.sort()
        name = lambda key: c.name if (c := config.category(key)) else key  # noqa: E731
        who = lambda key: h.name if (h := config.handler_by_key(key or "")) else key  # noqa: E731
        shown = tuple(
            Overdue(number, name(category), (now - from_db(reported)).days, who(handler))
            for reported, number, category, handler in overdue[:OVERDUE_SHOWN]
        )
        periods = {"day": (start, end), "30": (back30, end), "prev": (back60, back30)}
        slips: dict[str, list[Slip]] = {p: [] for p in periods}
        by_handler: dict[str, list[Slip]] = {}
        for created, state, handler, _grid, contacted, solved, satisfaction in self.slips:
            if state not in ("answered", "expired"):
                continue
            slip = (
                Slip(bool(contacted), Solved(solved), Satisfaction(satisfaction))
                if state == "answered"
                else Slip(None, None, None)
            )
            for period, (low, high) in periods.items():
                if low <= created < high:
                    slips[period].append(slip)
            if back30 <= created < end and handler is not None:
                by_handler.setdefault(handler, []).append(slip)
        weights = digest_weights(config)
        rates = {p: compute_rates(s, weights) for p, s in slips.items()}
        best, worst = self._rank(by_handler, weights, who)
        raised = sum(1 for at, _ in self.alerts if start <= at < end)
        on_time_fields = self._on_time(config, start, end, back30, name)
        top = sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
        return Digest(
            weekly=False,
            start=today - timedelta(days=1),
            end=today,
            counts=counts,
            open_now=open_now,
            overdue_now=len(overdue),
            overdue=shown,
            rates=rates["day"],
            rates_30=rates["30"],
            rates_prev_30=rates["prev"],
            changes=compare(rates["30"], rates["prev"]),
            categories=tuple((name(k), n) for k, n in top),
            best=best,
            worst=worst,
            alerts=raised,
            alerts_open=sum(1 for _, outcome in self.alerts if outcome is None),
            today=(),
            **self._trend(trend),
            **self._grids(config, by_grid),
            **on_time_fields,
        )

    def _on_time(self, config: Config, start: str, end: str, back30: str, name) -> dict:  # type: ignore[no-untyped-def]
        """The period's and the last 30 days' on-time rate, per grid and worst categories."""
        day: list[tuple[datetime, datetime | None]] = []
        month: list[tuple[datetime, datetime | None]] = []
        grids: dict[str, list[tuple[datetime, datetime | None]]] = {}
        categories: dict[str, list[tuple[datetime, datetime | None]]] = {}
        for at, deadline, grid, category in self.resolutions:
            if not back30 <= at < end:
                continue
            pair = (from_db(at), None if deadline is None else from_db(deadline))
            month.append(pair)
            if start <= at:
                day.append(pair)
            grids.setdefault(grid, []).append(pair)
            categories.setdefault(category, []).append(pair)
        by_category = {k: on_time(v) for k, v in categories.items()}
        by_category = {k: v for k, v in by_category.items() if v.resolved}
        worst = sorted(by_category.items(), key=lambda kv: (kv[1].rate, -kv[1].resolved, kv[0]))
        several = len(config.community.grids) >= 2
        return {
            "on_time": on_time(day),
            "on_time_30": on_time(month),
            "on_time_grids": tuple(
                (g.name, on_time(grids.get(g.key, []))) for g in config.community.grids
            )
            if several
            else (),
            "on_time_categories": tuple((name(k), v) for k, v in worst[:TOP]),
        }

    @staticmethod
    def _grids(config: Config, by_grid: dict[str, list[int]]) -> dict:
        """Open / overdue per grid, if this version of ``Digest`` has them (issue #7's
        follow-up); only for a community of several grids, most overdue first."""
        if "grids" not in {f.name for f in fields(Digest)} or len(by_grid) < 2:
            return {}
        rows = [(g.name, *by_grid[g.key]) for g in config.community.grids]
        return {"grids": tuple(sorted(rows, key=lambda row: (-row[2], -row[1])))}

    @staticmethod
    def _trend(trend: dict[date, list[int]]) -> dict:
        """The 30-day trend, if this version of ``Digest`` has one (added during issue #7)."""
        if "trend" not in {f.name for f in fields(Digest)}:
            return {}
        return {"trend": tuple((day, new, done) for day, (new, done) in trend.items())}

    @staticmethod
    def _rank(by_handler, weights, who):  # type: ignore[no-untyped-def]
        rated = {k: compute_rates(s, weights) for k, s in by_handler.items()}
        rated = {k: r for k, r in rated.items() if r.valid}  # answered slips only
        scored = sorted(
            rated.items(), key=lambda kr: (-(kr[1].composite or 0), -kr[1].valid, kr[0])
        )
        ranked = [HandlerScore(who(key) or key, rates) for key, rates in scored]
        split = min(TOP, (len(ranked) + 1) // 2)
        return tuple(ranked[:split]), tuple(reversed(ranked[split:][-TOP:]))

    def rates30(self, config: Config, today: date, grids: set[str] | None) -> Rates:
        low = to_db(at_local(today - timedelta(days=30), dtime(0), config))
        high = to_db(at_local(today, dtime(0), config))
        chosen = [
            Slip(bool(c), Solved(s), Satisfaction(f))
            if state == "answered"
            else Slip(None, None, None)
            for created, state, _h, grid, c, s, f in self.slips
            if low <= created < high
            and state in ("answered", "expired")
            and (grids is None or grid in grids)
        ]
        return compute_rates(chosen, digest_weights(config))


def digest_weights(config: Config):  # type: ignore[no-untyped-def]
    from bot.issues.rates import RateWeights

    r = config.rates
    return RateWeights(
        r.response_weight, r.resolution_weight, r.satisfaction_weight, r.basic_satisfied_weight
    )


# -- the contenders -------------------------------------------------------------------------


def timed(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def measure(path: Path, communities: int, per: int, args: argparse.Namespace) -> dict:
    """Service and naive timings for one database; asserts the numbers are equal."""
    db = await Database.open(path)
    result: dict = {}
    try:
        config = community_config(path, 0, per)
        now, today = moment(path, config)
        service = digest_service(db, config)
        one = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            digest = await service.build(now, today, weekly=False)
            one.append(time.perf_counter() - t0)
        result["one_ms"] = timed(one)
        result["queries"] = await query_breakdown(service, now, today)
        # The three rates over the last 30 days: the community, and each of its grids.
        back30 = at_local(today - timedelta(days=30), dtime(0), config)
        end = at_local(today, dtime(0), config)
        t0 = time.perf_counter()
        rates30 = await service.feedback.rates(RateScope.COMMUNITY, None, back30, end)
        result["rates_ms"] = (time.perf_counter() - t0) * 1000
        grid_keys = [g.key for g in config.community.grids]
        t0 = time.perf_counter()
        grid_rates = [
            await service.feedback.rates(RateScope.GRID, key, back30, end) for key in grid_keys
        ]
        result["grid_rates_ms"] = (time.perf_counter() - t0) * 1000 / len(grid_keys)
        # All communities' digests, one after another (each with its own Config).
        todo = range(min(communities, args.all or communities))
        t0 = time.perf_counter()
        digests = {}
        for c in todo:
            svc = digest_service(db, community_config(path, c, per))
            digests[c] = await svc.build(now, today, weekly=False)
        result["all_s"] = time.perf_counter() - t0
        result["all_n"] = len(todo)
    finally:
        await db.close()
    # The naive baseline: load once, then loop over all rows per digest.
    t0 = time.perf_counter()
    naive = Naive(path)
    result["load_s"] = time.perf_counter() - t0
    checked = list(todo)[: args.naive_digests]
    t0 = time.perf_counter()
    for c in checked:
        expected = naive.digest(community_config(path, c, per), now, today)
        assert digests[c] == expected, f"community {c}: digest differs\n{digests[c]}\n{expected}"
    result["naive_ms"] = (time.perf_counter() - t0) * 1000 / len(checked)
    assert digest == naive.digest(config, now, today)
    assert rates30 == naive.rates30(config, today, None), "30-day community rates differ"
    for key, rates in zip(grid_keys, grid_rates, strict=True):
        assert rates == naive.rates30(config, today, {key}), f"30-day rates of {key} differ"
    result["checked"] = len(checked) + 1
    result["valid30"] = rates30.valid
    return result


async def query_breakdown(service: DigestService, now: datetime, today: date) -> list[list[str]]:
    """Each storage query of one digest, timed on its own (slowest first)."""
    stats, feedback = service.stats, service.feedback
    at = lambda d: at_local(d, dtime(0), service.config)  # noqa: E731
    start, end, back30 = at(today - timedelta(days=1)), at(today), at(today - timedelta(days=30))
    calls = {
        "event_counts (issue_events.at)": stats.event_counts(start, end),
        "open_count": stats.open_count(),
        "overdue_count": stats.overdue_count(now),
        "overdue (oldest 5)": stats.overdue(now, OVERDUE_SHOWN),
        "top_categories 30 d (issues.reported_at)": stats.top_categories(back30, end, TOP),
        **_optional(stats, "daily_counts 30 d (trend)", "daily_counts", trend_days(at, today)),
        "rate_counts community 30 d": feedback.rates(RateScope.COMMUNITY, None, back30, end),
        "rate_counts_by handler 30 d (one GROUP BY)": feedback.repo.slips.rate_counts_by(
            "handler", back30, end
        ),
        **_optional(stats, "on_time community 30 d", "on_time", back30, end),
        **_optional(stats, "on_time by grid 30 d", "on_time", back30, end, "grid"),
        **_optional(stats, "on_time by category 30 d", "on_time", back30, end, "category"),
    }
    rows = []
    for name, call in calls.items():
        t0 = time.perf_counter()
        await call
        rows.append(((time.perf_counter() - t0) * 1000, name))
    rows.sort(reverse=True)
    return [[name, f"{ms:.1f}"] for ms, name in rows]


def trend_days(at: Callable[[date], datetime], today: date) -> list[tuple[datetime, datetime]]:
    return [
        (at(today - timedelta(days=n)), at(today - timedelta(days=n - 1)))
        for n in range(30, 0, -1)
    ]


def _optional(stats: IssueStats, label: str, method: str, *args: object) -> dict:
    """A query only some versions of ``IssueStats`` have."""
    call = getattr(stats, method, None)
    return {} if call is None else {label: call(*args)}


def plans(path: Path) -> list[str]:
    """SQLite's plan for the queries that scan (the evidence for the proposed indexes)."""
    conn = sqlite3.connect(path)
    open_states = ", ".join(f"'{s}'" for s in OPEN_STATES)
    queries = {
        "event_counts": "SELECT COUNT(*) FROM issue_events WHERE at >= 'a' AND at < 'b'",
        "open_count": f"SELECT COUNT(*) FROM issues WHERE state IN ({open_states})",
        "top_categories": "SELECT category, COUNT(*) FROM issues WHERE reported_at >= 'a'"
        " AND reported_at < 'b' GROUP BY category",
        "rate_counts handler": "SELECT COUNT(*) FROM feedback_slips WHERE created_at >= 'a'"
        " AND created_at < 'b' AND handler = 'h'",
    }
    out = []
    for name, sql in queries.items():
        detail = "; ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
        out.append(f"  {name}: {detail}")
    conn.close()
    return out


def own_db_args(args: argparse.Namespace) -> argparse.Namespace:
    per = args.grids // args.communities
    return argparse.Namespace(
        issues=args.issues // args.communities,
        communities=1,
        grids=per,
        days=args.days,
        seed=args.seed,
    )


def main(args: argparse.Namespace) -> None:
    shared_path, gen_s = gen_issues.ensure(args)  # generation runs its own event loop
    own_path, own_gen_s = gen_issues.ensure(own_db_args(args))
    indexed = indexed_copy(shared_path) if args.try_indexes else None
    asyncio.run(report(args, shared_path, gen_s, own_path, own_gen_s, indexed))


def indexed_copy(path: Path) -> Path:
    """A cached copy of the shared database with ``PROPOSED_INDEXES`` added."""
    copy = path.with_name(path.stem + "-indexed.sqlite3")
    if not copy.exists():
        tmp = copy.with_suffix(".tmp")
        shutil.copyfile(path, tmp)
        conn = sqlite3.connect(tmp)
        for sql in PROPOSED_INDEXES:
            conn.execute(sql)
        conn.execute("ANALYZE")
        conn.close()
        tmp.rename(copy)
    return copy


async def report(
    args: argparse.Namespace,
    shared_path: Path,
    gen_s: float | None,
    own_path: Path,
    own_gen_s: float | None,
    indexed: Path | None,
) -> None:
    per = args.grids // args.communities
    for label, seconds in (("shared", gen_s), ("own", own_gen_s)):
        if seconds is not None:
            print(f"generated the {label} database in {seconds:.1f} s")
    rows_shared = gen_issues.counts(shared_path)
    shared = await measure(shared_path, args.communities, per, args)
    own = await measure(own_path, 1, per, argparse.Namespace(**{**vars(args), "all": 1}))
    extra = await measure(indexed, args.communities, per, args) if indexed else None
    print(
        f"\ndigest at scale: {rows_shared['issues']:,} issues, "
        f"{rows_shared['issue_events']:,} events, {rows_shared['feedback_slips']:,} slips, "
        f"{args.communities} communities × {per} grids"
    )
    own_all = own["one_ms"] * args.communities / 1000
    shared_all = shared["all_s"] * args.communities / shared["all_n"]
    all_note = "" if shared["all_n"] == args.communities else f" (×{shared['all_n']} timed)"
    print(
        table(
            [
                "contender",
                "one digest ms",
                f"all {args.communities} s",
                "30-d rates ms",
                "per-grid rates ms",
                "naive digest ms",
                "ratio naive/service",
                "naive load s",
            ],
            [
                [
                    "shared db (1 community's config)",
                    f"{shared['one_ms']:.0f}",
                    f"{shared_all:.1f}{all_note}",
                    f"{shared['rates_ms']:.1f}",
                    f"{shared['grid_rates_ms']:.1f}",
                    f"{shared['naive_ms']:.0f}",
                    f"{shared['naive_ms'] / shared['one_ms']:.1f}x",
                    f"{shared['load_s']:.1f}",
                ],
                [
                    f"own db ({args.issues // args.communities:,} issues)",
                    f"{own['one_ms']:.1f}",
                    f"{own_all:.1f} (300 bots × one)",
                    f"{own['rates_ms']:.1f}",
                    f"{own['grid_rates_ms']:.1f}",
                    f"{own['naive_ms']:.1f}",
                    f"{own['naive_ms'] / own['one_ms']:.1f}x",
                    f"{own['load_s']:.2f}",
                ],
                *(
                    []
                    if extra is None
                    else [
                        [
                            "shared db + proposed indexes",
                            f"{extra['one_ms']:.0f}",
                            f"{extra['all_s'] * args.communities / extra['all_n']:.1f}{all_note}",
                            f"{extra['rates_ms']:.1f}",
                            f"{extra['grid_rates_ms']:.1f}",
                            f"{extra['naive_ms']:.0f}",
                            f"{extra['naive_ms'] / extra['one_ms']:.1f}x",
                            f"{extra['load_s']:.1f}",
                        ]
                    ]
                ),
            ],
        )
    )
    print(
        f"numbers equal between service and naive: {shared['checked']} shared digests, "
        f"{own['checked']} own-db digests, 30-day community and per-grid rates "
        f"({shared['valid30']:,} valid slips in 30 days, shared)"
    )
    for label, r, total in (("shared", shared, shared_all), ("own db", own, own_all)):
        verdict = lambda ok: "met" if ok else "NOT met"  # noqa: E731
        print(
            f"targets, {label}: one digest < 50 ms {verdict(r['one_ms'] < 50)}, "
            f"all {args.communities} < 5 s {verdict(total < 5)}"
        )
    print("\nshared db, one digest's queries timed alone (ms):")
    print(table(["query", "ms"], shared["queries"]))
    print("\nquery plans (shared db):")
    print("\n".join(plans(shared_path)))
    if extra is not None:
        print("\nshared db + proposed indexes, the same queries (ms):")
        print(table(["query", "ms"], extra["queries"]))
        print("\nquery plans (shared db + proposed indexes):")
        print("\n".join(plans(indexed)))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.digest_scale", description=__doc__)
    gen_issues.add_arguments(parser)
    parser.add_argument(
        "--try-indexes", action="store_true", help="also measure a copy with the proposed indexes"
    )
    parser.add_argument("--repeat", type=int, default=3, help="one digest: median of N")
    parser.add_argument(
        "--all", type=int, default=0, help="time only the first N of the shared digests (0: all)"
    )
    parser.add_argument(
        "--naive-digests",
        type=int,
        default=2,
        help="naive digests compared (each loops over all rows)",
    )
    return parser.parse_args()


if __name__ == "__main__":
    main(parse_args())
