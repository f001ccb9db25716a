"""Read-only views over issues for the schedules (issue #5): what to chase, and the counts the
daily digest shows. Writes to issues stay in ``storage.issues.repo``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from storage.clock import from_db, to_db
from storage.db import Database, placeholders
from storage.issues.repo import OPEN_STATES

# Being worked on by a handler: the only states that are chased. A return request waits for the
# grid worker, and resolved / closed / rejected / merged issues are over.
CHASED_STATES: Final = ("assigned", "in_progress")
_OPEN: Final = ", ".join("?" for _ in OPEN_STATES)
_DEADLINES: Final = frozenset({"respond_by", "resolve_by"})
# The issue columns the on-time rate is grouped by (bot.issues.rates, 按期办结率).
ON_TIME_SCOPES: Final = frozenset({"grid", "handler", "category"})


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

    async def chase_candidates(self) -> list[ChaseCandidate]:
        return [ChaseCandidate.parse(row) for row in await self.chase_rows()]

    async def chase_rows(self) -> list[Raw]:
        """Issues a handler is working on with a deadline, as stored (``ChaseCandidate.parse``):
        the chaser reads them every tick and parses only rows it has not seen before."""
        rows = await self.db.fetchall(
            "SELECT number, grid, handler, assigned_at, resolve_by FROM issues"
            " WHERE state IN (?, ?) AND resolve_by IS NOT NULL AND assigned_at IS NOT NULL"
            " ORDER BY number",
            CHASED_STATES,
        )
        return [tuple(row) for row in rows]

    async def unaccepted(self, now: datetime) -> list[Unaccepted]:
        return [Unaccepted.parse(row) for row in await self.unaccepted_rows(now)]

    async def unaccepted_rows(self, now: datetime) -> list[Raw]:
        """Reports still new (not accepted, assigned or turned down) after respond-by."""
        rows = await self.db.fetchall(
            "SELECT number, grid, respond_by, urgent FROM issues"
            " WHERE state = 'new' AND respond_by < ?"
            " ORDER BY number",
            (to_db(now),),
        )
        return [tuple(row) for row in rows]

    async def return_requests(self) -> list[ReturnRequest]:
        return [ReturnRequest.parse(row) for row in await self.return_request_rows()]

    async def return_request_rows(self) -> list[Raw]:
        """Issues whose handler asked to give them back (申请退单), waiting for a worker."""
        rows = await self.db.fetchall(
            "SELECT i.number, i.grid, i.category, i.urgent, MAX(e.at) FROM issues i"
            " JOIN issue_events e ON e.issue_id = i.id AND e.action = 'request_return'"
            " WHERE i.state = 'return_requested' GROUP BY i.id ORDER BY i.number"
        )
        return [tuple(row) for row in rows]

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

    async def event_counts(self, start: datetime, end: datetime) -> dict[str, int]:
        """Issues reported, accepted, resolved and reopened in ``[start, end)``, from the timeline.

        Accepted counts 受理 and a 交办 straight from 已登记 (which accepts it too).
        """
        row = await self.db.fetchone(
            "SELECT"
            " SUM(CASE WHEN from_state IS NULL THEN 1 ELSE 0 END) AS new,"
            " SUM(CASE WHEN action = 'accept' OR (action = 'assign' AND from_state = 'new')"
            " THEN 1 ELSE 0 END) AS accepted,"
            " SUM(CASE WHEN action = 'resolve' THEN 1 ELSE 0 END) AS resolved,"
            " SUM(CASE WHEN action = 'reopen' THEN 1 ELSE 0 END) AS reopened"
            " FROM issue_events WHERE at >= ? AND at < ?",
            (to_db(start), to_db(end)),
        )
        assert row is not None
        return {name: int(row[name] or 0) for name in row.keys()}

    async def daily_counts(
        self, days: Sequence[tuple[datetime, datetime]]
    ) -> list[tuple[int, int]]:
        """(new reports, resolutions) in each ``[start, end)`` of ``days``, for the digest's
        trend chart. Counted in SQL: the 30 days of a busy community are tens of thousands of
        events, and holding them as Python objects cost the bot ~20 MiB at its peak."""
        if not days:
            return []
        bounds = ", ".join("(?, ?, ?)" for _ in days)
        rows = await self.db.fetchall(
            f"WITH days (n, start, end) AS (VALUES {bounds})"
            " SELECT n, SUM(from_state IS NULL), SUM(action = 'resolve')"
            " FROM days JOIN issue_events ON at >= start AND at < end"
            " WHERE from_state IS NULL OR action = 'resolve' GROUP BY n",
            [v for n, (start, end) in enumerate(days) for v in (n, to_db(start), to_db(end))],
        )
        counts = {row[0]: (int(row[1]), int(row[2])) for row in rows}
        return [counts.get(n, (0, 0)) for n in range(len(days))]

    async def open_count(self) -> int:
        row = await self.db.fetchone(
            f"SELECT COUNT(*) FROM issues WHERE state IN ({_OPEN})", OPEN_STATES
        )
        return int(row[0]) if row else 0

    async def overdue(
        self, now: datetime, limit: int
    ) -> list[tuple[int, str, datetime, str | None]]:
        """The oldest overdue open issues: (number, category, reported_at, handler)."""
        stamp = to_db(now)
        rows = await self.db.fetchall(
            f"SELECT number, category, reported_at, handler FROM issues WHERE state IN ({_OPEN})"
            " AND ((state = 'new' AND respond_by < ?) OR (resolve_by IS NOT NULL"
            " AND resolve_by < ?)) ORDER BY reported_at, number LIMIT ?",
            (*OPEN_STATES, stamp, stamp, limit),
        )
        return [(r[0], r[1], from_db(r[2]), r[3]) for r in rows]

    async def open_by_grid(self, now: datetime) -> dict[str, tuple[int, int]]:
        """Per grid: (open issues, of which overdue), for grids that have any."""
        stamp = to_db(now)
        rows = await self.db.fetchall(
            "SELECT grid, COUNT(*), SUM((state = 'new' AND respond_by < ?)"
            " OR (resolve_by IS NOT NULL AND resolve_by < ?))"
            f" FROM issues WHERE state IN ({_OPEN}) GROUP BY grid",
            (stamp, stamp, *OPEN_STATES),
        )
        return {row[0]: (int(row[1]), int(row[2] or 0)) for row in rows}

    async def overdue_count(self, now: datetime) -> int:
        stamp = to_db(now)
        row = await self.db.fetchone(
            f"SELECT COUNT(*) FROM issues WHERE state IN ({_OPEN})"
            " AND ((state = 'new' AND respond_by < ?) OR (resolve_by IS NOT NULL"
            " AND resolve_by < ?))",
            (*OPEN_STATES, stamp, stamp),
        )
        return int(row[0]) if row else 0

    async def top_categories(
        self, start: datetime, end: datetime, limit: int
    ) -> list[tuple[str, int]]:
        rows = await self.db.fetchall(
            "SELECT category, COUNT(*) FROM issues WHERE reported_at >= ? AND reported_at < ?"
            " GROUP BY category ORDER BY COUNT(*) DESC, category LIMIT ?",
            (to_db(start), to_db(end), limit),
        )
        return [(row[0], int(row[1])) for row in rows]

    async def on_time(
        self, start: datetime, end: datetime, scope: str | None = None
    ) -> dict[str | None, tuple[int, int]]:
        """按期办结率's counts: (resolutions with a deadline, of which on time) among resolve
        events in ``[start, end)``, for the whole community (key ``None``) or per ``scope``
        (the issue's grid, handler or category; issues without one, e.g. no handler, are left
        out of that scope only). A resolution is on time at or before the deadline recorded on
        its event (see bot.issues.rates)."""
        if scope is not None and scope not in ON_TIME_SCOPES:
            raise ValueError(f"unknown on-time scope {scope!r}")
        key = f"i.{scope}" if scope else "NULL"
        join = f" JOIN issues i ON i.id = e.issue_id AND {key} IS NOT NULL" if scope else ""
        rows = await self.db.fetchall(
            f"SELECT {key}, COUNT(*), SUM(e.at <= e.resolve_by) FROM issue_events e{join}"
            " WHERE e.at >= ? AND e.at < ? AND e.action = 'resolve'"
            f" AND e.resolve_by IS NOT NULL GROUP BY {key}",
            (to_db(start), to_db(end)),
        )
        return {row[0]: (int(row[1]), int(row[2] or 0)) for row in rows}
