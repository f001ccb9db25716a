"""Read-only views over issues for the schedules (issue #5): what to chase, and the counts the
daily digest shows. Writes to issues stay in ``storage.issues.repo``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from storage.clock import from_db, to_db
from storage.db import Database, Row, placeholders
from storage.issues import rollups
from storage.issues.naive import (
    ON_TIME_SCOPES,
    OVERDUE,
    RATE_SCOPES,
    NaiveStats,
    scope_column,
)
from storage.issues.rollups import COUNTERS, DUE, OPEN_LITERALS, SLIP_COUNTERS

# Being worked on by a handler: the only states that are chased. A return request waits for the
# grid worker, and resolved / closed / rejected / merged issues are over.
CHASED_STATES: Final = ("assigned", "in_progress")
_DEADLINES: Final = frozenset({"respond_by", "resolve_by"})


# The periods' spans read so far inside IssueStats.remembered_spans (None: outside one).
_SPANS: ContextVar[dict[tuple[int, datetime, datetime], rollups.Span] | None] = ContextVar(
    "gridbot_rollup_spans", default=None
)

# A row as stored (ints and text): cheap to hash and compare, unlike parsed zoned datetimes.
Raw = tuple[Any, ...]


@dataclass(frozen=True)
class ChaseCandidate:
    number: int
    grid: str
    handler: str | None
    assigned_at: datetime
    resolve_by: datetime

    @classmethod
    def parse(cls, row: Raw) -> ChaseCandidate:
        return cls(row[0], row[1], row[2], from_db(row[3]), from_db(row[4]))


@dataclass(frozen=True)
class ReturnRequest:
    """A handler's 申请退单 the grid's workers have not decided on yet."""

    number: int
    grid: str
    category: str
    urgent: bool
    requested_at: datetime

    @classmethod
    def parse(cls, row: Raw) -> ReturnRequest:
        return cls(row[0], row[1], row[2], bool(row[3]), from_db(row[4]))


@dataclass(frozen=True)
class Unaccepted:
    """A report still waiting for 受理 after its respond-by deadline."""

    number: int
    grid: str
    respond_by: datetime
    urgent: bool

    @classmethod
    def parse(cls, row: Raw) -> Unaccepted:
        return cls(row[0], row[1], from_db(row[2]), bool(row[3]))


class IssueStats:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.naive = NaiveStats(db)

    async def chase_candidates(self) -> list[ChaseCandidate]:
        return [ChaseCandidate.parse(tuple(row)) for row in await self.chase_rows()]

    async def chase_rows(self) -> list[Row]:
        """Issues a handler is working on with a deadline, as fetched (``tuple(row)`` is the
        ``Raw`` that ``ChaseCandidate.parse`` reads): the chaser reads them every tick and
        turns them into tuples off the event loop (bot.schedule.chasing)."""
        # ORDER BY +number, not number: sorting by the bare column let SQLite walk the whole
        # table in number order to skip the sort (0.2 s of CPU a tick on 1,000,000 issues);
        # the unary + leaves it the covering index issues_chase (8 ms) and a sort of ~5,000.
        return await self.db.fetchall(
            "SELECT number, grid, handler, assigned_at, resolve_by FROM issues"
            " WHERE state IN (?, ?) AND resolve_by IS NOT NULL AND assigned_at IS NOT NULL"
            " ORDER BY +number",
            CHASED_STATES,
        )

    async def unaccepted(self, now: datetime) -> list[Unaccepted]:
        return [Unaccepted.parse(tuple(row)) for row in await self.unaccepted_rows(now)]

    async def unaccepted_rows(self, now: datetime) -> list[Row]:
        """Reports still new (not accepted, assigned or turned down) after respond-by, as
        fetched (``tuple(row)`` is the ``Raw`` of ``Unaccepted.parse``)."""
        return await self.db.fetchall(
            "SELECT number, grid, respond_by, urgent FROM issues"
            " WHERE state = 'new' AND respond_by < ?"
            " ORDER BY +number",
            (to_db(now),),
        )

    async def return_requests(self) -> list[ReturnRequest]:
        return [ReturnRequest.parse(tuple(row)) for row in await self.return_request_rows()]

    async def return_request_rows(self) -> list[Row]:
        """Issues whose handler asked to give them back (申请退单), waiting for a worker, as
        fetched (``tuple(row)`` is the ``Raw`` of ``ReturnRequest.parse``)."""
        # The request's time as a subquery per issue, not a join grouped by i.id: grouping
        # by the rowid made SQLite scan all issues in rowid order (0.15 s of CPU a tick on
        # 1,000,000); this way it finds the few hundred by state from an index (4 ms).
        rows = await self.db.fetchall(
            "SELECT i.number, i.grid, i.category, i.urgent,"
            " (SELECT MAX(e.at) FROM issue_events e"
            "  WHERE e.issue_id = i.id AND e.action = 'request_return')"
            " FROM issues i WHERE i.state = 'return_requested' ORDER BY +i.number"
        )
        return [row for row in rows if row[4] is not None]  # as the join: with a request

    async def still_in(
        self, number: int, states: Sequence[str], deadline: tuple[str, datetime] | None
    ) -> bool:
        """Whether the issue is in one of ``states`` and, when given, still has that deadline
        (``column``, value): a chase read outside the write transaction is checked again in it.
        """
        sql = f"SELECT 1 FROM issues WHERE number = ? AND state IN ({placeholders(len(states))})"
        params: list[object] = [number, *states]
        if deadline is not None:
            column, value = deadline
            if column not in _DEADLINES:
                raise ValueError(f"not a deadline column: {column}")
            sql += f" AND {column} = ?"
            params.append(to_db(value))
        return await self.db.fetchone(sql, params) is not None

    async def is_chased(self, number: int) -> bool:
        """Whether the issue is still in a chased state (checked again right before sending)."""
        row = await self.db.fetchone(
            "SELECT 1 FROM issues WHERE number = ? AND state IN (?, ?)", (number, *CHASED_STATES)
        )
        return row is not None

    # -- the digest's figures, from the rollups (issue #15 item 2) -----------------------------
    #
    # Each takes ``community`` (None: every community, the street office's roll-up). A period
    # is read as whole local days from issue_rollup, and its edges that are not whole days (a
    # window ending now, a zone other than the rollups') from the raw tables, so every figure
    # is exact whatever the period; the digest's periods are whole days and read no edges.

    async def event_counts(
        self, start: datetime, end: datetime, *, community: str | None = None
    ) -> dict[str, int]:
        """Issues reported, accepted, resolved and reopened in ``[start, end)``.

        Accepted counts 受理 and a 交办 straight from 已登记 (which accepts it too).
        """
        span = await self._span(start, end)
        totals = dict.fromkeys(("new", "accepted", "resolved", "reopened"), 0)
        if span.days:
            sums = "SUM(reported), SUM(accepted), SUM(resolved), SUM(reopened)"
            for row in await self._rollup(sums, span.days, community):  # none without rows
                for name, value in zip(totals, row[1:], strict=True):
                    totals[name] += int(value or 0)
        for lo, hi in span.edges:
            edge = await self.naive.event_counts(lo, hi, community=community)
            for name in totals:
                totals[name] += edge[name]
        return totals

    async def daily_counts(
        self, days: Sequence[tuple[datetime, datetime]], *, community: str | None = None
    ) -> list[tuple[int, int]]:
        """(new reports, resolutions) in each ``[start, end)`` of ``days``, for the digest's
        trend chart: one query over the rollups when every range is one whole rollup day, else
        counted from the events (never held as rows in Python: issue #7's memory peak)."""
        if not days:
            return []
        bounds = [(to_db(start), to_db(end)) for start, end in days]
        starts = await rollups.day_starts(
            self.db, min(b[0] for b in bounds), max(b[1] for b in bounds)
        )
        whole = [(starts[lo], starts[hi]) for lo, hi in bounds if lo in starts and hi in starts]
        if len(whole) < len(days) or any(_next_day(a) != b for a, b in whole):
            return await self.naive.daily_counts(days, community=community)
        rows = await self._rollup(
            "SUM(reported), SUM(resolved)",
            (min(w[0] for w in whole), max(w[1] for w in whole)),
            community,
            "day",
        )
        counts = {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in rows}
        return [counts.get(first, (0, 0)) for first, _ in whole]

    async def open_count(self, *, community: str | None = None) -> int:
        row = await self.db.fetchone(
            f"SELECT SUM(open) FROM open_rollup{_where(community)}", {"community": community}
        )
        return int(row[0] or 0) if row else 0

    async def open_by_grid(
        self, now: datetime, *, community: str | None = None
    ) -> dict[str, tuple[int, int]]:
        """Per grid: (open issues, of which overdue), for grids that have any."""
        return {
            key: counts
            for key, counts in (await self._open_by("grid", now, community)).items()
            if counts[0]
        }

    async def overdue_count(self, now: datetime, *, community: str | None = None) -> int:
        return sum(late for _, late in (await self._open_by(None, now, community)).values())

    async def open_by_community(self, now: datetime) -> dict[str, tuple[int, int]]:
        """Per community: (open issues, of which overdue), in one pass over the open rollup."""
        return await self._open_by("community", now, None)

    async def _open_by(
        self, column: str | None, now: datetime, community: str | None
    ) -> dict[str, tuple[int, int]]:
        """(open, overdue) per ``column``: overdue are the open issues due on a day before
        today, read from the open rollup, plus today's that are due before ``now`` (an indexed
        range over issues_open_due: today's deadlines only)."""
        key = column or "NULL"
        today = await self._today(now)
        params = {"community": community, "today": today[0], "start": today[1]}
        params["now"] = to_db(now)
        rows = await self.db.fetchall(
            f"SELECT {key}, SUM(open), SUM(CASE WHEN due_day != '' AND due_day < :today"
            f" THEN open ELSE 0 END) FROM open_rollup{_where(community)} GROUP BY 1",
            params,
        )
        found = {row[0]: [int(row[1] or 0), int(row[2] or 0)] for row in rows}
        boundary = await self.db.fetchall(
            f"SELECT {key}, COUNT(*) FROM issues WHERE state IN ({OPEN_LITERALS})"
            f" AND {DUE} >= :start AND {DUE} < :now{_and(community)} GROUP BY 1",
            params,
        )
        for row in boundary:
            found.setdefault(row[0], [0, 0])[1] += int(row[1])
        return {k: (v[0], v[1]) for k, v in found.items()}

    async def _span(self, start: datetime, end: datetime) -> rollups.Span:
        """Which part of ``[start, end)`` the rollups answer (whole local days); asked of the
        database once per period inside ``remembered_spans``."""
        memo = _SPANS.get()
        if memo is None:
            return await rollups.span(self.db, start, end)
        key = (id(self.db), start, end)
        if key not in memo:
            memo[key] = await rollups.span(self.db, start, end)
        return memo[key]

    @contextmanager
    def remembered_spans(self) -> Iterator[None]:
        """Within the block, where a period's whole local days begin and end is read once: a
        digest asks it 9 times of 4 periods, each a round trip on PostgreSQL (a third of a
        digest's reads on 1,000,000 issues). For one digest's reads only: the days change
        when the rollups are rebuilt for another zone."""
        token = _SPANS.set({})
        try:
            yield
        finally:
            _SPANS.reset(token)

    async def _today(self, now: datetime) -> tuple[str, str]:
        """(local day, its UTC start) of ``now`` in the rollups' zone."""
        row = await self.db.fetchone(
            "SELECT day, start FROM rollup_days WHERE start <= ? ORDER BY start DESC LIMIT 1",
            (to_db(now),),
        )
        if row is None:  # before the table: nothing is filed on an earlier day
            return "", ""
        return str(row[0]), str(row[1])

    async def overdue(
        self, now: datetime, limit: int, *, community: str | None = None
    ) -> list[tuple[int, str, datetime, str | None]]:
        """The oldest overdue open issues: (number, category, reported_at, handler); over the
        open issues only (the index issues_community_state).

        The overdue test is wrapped in a CASE so no index can serve it: otherwise SQLite answers
        its OR with two index searches, one over issues_chase (0024) across every community's
        open issues (10 ms a digest on 1M issues instead of well under 1)."""
        rows = await self.db.fetchall(
            f"SELECT number, category, reported_at, handler FROM issues i"
            f" WHERE state IN ({OPEN_LITERALS})"
            f" AND (CASE WHEN {OVERDUE} THEN 1 ELSE 0 END) = 1{_and(community, 'i')}"
            " ORDER BY reported_at, number LIMIT :limit",
            {"now": to_db(now), "limit": limit, "community": community},
        )
        return [(r[0], r[1], from_db(r[2]), r[3]) for r in rows]

    async def top_categories(
        self, start: datetime, end: datetime, limit: int, *, community: str | None = None
    ) -> list[tuple[str, int]]:
        """The categories with the most issues reported in the period (by their category now)."""
        span = await self._span(start, end)
        counts: dict[str, int] = {}
        if span.days:
            for row in await self._rollup("SUM(reported)", span.days, community, "category"):
                counts[row[0]] = int(row[1] or 0)
        for lo, hi in span.edges:
            for key, n in (await self.naive.category_counts(lo, hi, community=community)).items():
                counts[key] = counts.get(key, 0) + n
        ranked = sorted(((k, n) for k, n in counts.items() if n), key=lambda kv: (-kv[1], kv[0]))
        return ranked[:limit]

    async def on_time(
        self,
        start: datetime,
        end: datetime,
        scope: str | None = None,
        *,
        community: str | None = None,
    ) -> dict[str | None, tuple[int, int]]:
        """按期办结率's counts: (resolutions with a deadline, of which on time) among resolve
        events in ``[start, end)``, for the whole community (key ``None``) or per ``scope``
        (the issue's grid, handler or category now; issues without one, e.g. no handler, are
        left out of that scope only). A resolution is on time at or before the deadline
        recorded on its event (see bot.issues.rates)."""
        column = scope_column(scope, ON_TIME_SCOPES) if scope else None
        span = await self._span(start, end)
        counts: dict[str | None, list[int]] = {}
        if span.days:
            for row in await self._rollup(
                "SUM(timed), SUM(punctual)", span.days, community, column
            ):
                if row[1] and (column != "handler" or row[0]):
                    counts[row[0]] = [int(row[1]), int(row[2] or 0)]
        for lo, hi in span.edges:
            edge = await self.naive.on_time(lo, hi, scope, community=community)
            for key, (resolved, punctual) in edge.items():
                total = counts.setdefault(key, [0, 0])
                total[0] += resolved
                total[1] += punctual
        return {key: (v[0], v[1]) for key, v in counts.items()}

    async def rate_counts_by(
        self, scope: str | None, start: datetime, end: datetime, *, community: str | None = None
    ) -> dict[str | None, dict[str, int]]:
        """The slip counters of the three rates over slips issued in ``[start, end)``, per key of
        ``scope`` (the slip's own grid, handler or category) or one entry (None) for all."""
        column = scope_column(scope, RATE_SCOPES) if scope else None
        span = await self._span(start, end)
        counts: dict[str | None, dict[str, int]] = {}
        sums = ", ".join(f"SUM({c})" for c in SLIP_COUNTERS)
        if span.days:
            for row in await self._rollup(sums, span.days, community, column):
                if any(row[1:]) and (column != "handler" or row[0]):
                    pairs = zip(SLIP_COUNTERS, row[1:], strict=True)
                    counts[row[0]] = {n: int(v or 0) for n, v in pairs}
        for lo, hi in span.edges:
            edge = await self.naive.rate_counts_by(scope, lo, hi, community=community)
            for key, values in edge.items():
                total = counts.setdefault(key, dict.fromkeys(SLIP_COUNTERS, 0))
                for name, value in values.items():
                    total[name] += value
        return counts

    async def by_community(
        self, now: datetime, start: datetime, end: datetime
    ) -> list[CommunityFigures]:
        """Every community's figures for ``[start, end)`` and now, for the street office's
        roll-up: one query over the rollups across communities (plus edges and today's
        deadlines), in community order; the roll-up ranks them (worst first)."""
        span = await self._span(start, end)
        sums = ", ".join(f"SUM({c})" for c in COUNTERS)
        totals: dict[str, dict[str, int]] = {}
        if span.days:
            for row in await self._rollup(sums, span.days, None, "community"):
                totals[row[0]] = {n: int(v or 0) for n, v in zip(COUNTERS, row[1:], strict=True)}
        for lo, hi in span.edges:  # rarely: a period that is not whole days
            for name in await self._communities():
                figures = totals.setdefault(name, dict.fromkeys(COUNTERS, 0))
                await self._add_edge(figures, lo, hi, name)
        open_now = await self.open_by_community(now)
        return [
            CommunityFigures(
                community=name,
                open=open_now.get(name, (0, 0))[0],
                overdue=open_now.get(name, (0, 0))[1],
                **totals.get(name, dict.fromkeys(COUNTERS, 0)),
            )
            for name in sorted(set(totals) | set(open_now))
        ]

    async def _communities(self) -> list[str]:
        rows = await self.db.fetchall("SELECT DISTINCT community FROM rollup_issues")
        return [str(row[0]) for row in rows]

    async def _add_edge(self, figures: dict[str, int], lo: str, hi: str, community: str) -> None:
        events = await self.naive.event_counts(lo, hi, community=community)
        figures["reported"] += events["new"]
        for name in ("accepted", "resolved", "reopened"):
            figures[name] += events[name]
        timed, punctual = (await self.naive.on_time(lo, hi, community=community)).get(None, (0, 0))
        figures["timed"] += timed
        figures["punctual"] += punctual
        slips = (await self.naive.rate_counts_by(None, lo, hi, community=community)).get(None)
        for name, value in (slips or {}).items():
            figures[name] += value

    async def _rollup(
        self, sums: str, days: tuple[str, str], community: str | None, group: str | None = None
    ) -> list[Any]:
        """``SELECT group, sums`` over issue_rollup for the days ``[first, last)``."""
        key = group or "NULL"
        return list(
            await self.db.fetchall(
                f"SELECT {key}, {sums} FROM issue_rollup WHERE day >= :first AND day < :last"
                f"{_and(community)} GROUP BY 1",
                {"first": days[0], "last": days[1], "community": community},
            )
        )


@dataclass(frozen=True)
class CommunityFigures:
    """One community's line in the street office's roll-up: the period's counters (as in
    issue_rollup) and its open and overdue issues now."""

    community: str
    open: int
    overdue: int
    reported: int = 0
    accepted: int = 0
    resolved: int = 0
    reopened: int = 0
    timed: int = 0
    punctual: int = 0
    valid: int = 0
    missing: int = 0
    contacted: int = 0
    solved: int = 0
    partly: int = 0
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0


def _where(community: str | None) -> str:
    return "" if community is None else " WHERE community = :community"


def _and(community: str | None, alias: str = "") -> str:
    column = f"{alias}.community" if alias else "community"
    return "" if community is None else f" AND {column} = :community"


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


class NaiveIssueStats(IssueStats):
    """Every figure from the raw tables, none from the rollups: the reference the rollups are
    compared with (tests, ``bench.digest_scale``), through the very same interface."""

    async def _span(self, start: datetime, end: datetime) -> rollups.Span:
        lo, hi = to_db(start), to_db(end)
        return rollups.Span(None, ((lo, hi),) if lo < hi else ())

    async def daily_counts(
        self, days: Sequence[tuple[datetime, datetime]], *, community: str | None = None
    ) -> list[tuple[int, int]]:
        return await self.naive.daily_counts(days, community=community)

    async def open_count(self, *, community: str | None = None) -> int:
        return await self.naive.open_count(community=community)

    async def _communities(self) -> list[str]:
        rows = await self.db.fetchall("SELECT DISTINCT community FROM issues")
        return [str(row[0]) for row in rows]

    async def _open_by(
        self, column: str | None, now: datetime, community: str | None
    ) -> dict[str, tuple[int, int]]:
        key = column or "NULL"
        where = "" if community is None else " AND community = :community"
        rows = await self.db.fetchall(
            f"SELECT {key}, COUNT(*), SUM({OVERDUE}) FROM issues WHERE state IN"
            f" ({rollups.OPEN_LITERALS}){where} GROUP BY 1",
            {"now": to_db(now), "community": community},
        )
        return {row[0]: (int(row[1]), int(row[2] or 0)) for row in rows}
