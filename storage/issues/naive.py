"""The digest's figures counted straight from the issues, events and slips (issue #15 item 2).

Two uses: the edges of a period that are not whole rollup days (``IssueStats`` reads those
from here, each an indexed range query), and the reference the rollups are checked against
(the property test, ``gridbot rollups check``, the benchmark). ``community=None`` counts every
community; a key counts that community's issues only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from storage.clock import to_db
from storage.db import Database
from storage.issues.rollups import OPEN_LITERALS

# The issue columns the on-time rate is grouped by (bot.issues.rates, 按期办结率).
ON_TIME_SCOPES: Final = frozenset({"grid", "handler", "category"})
# The slip attribution a rate may be scoped by (column names, never user input).
RATE_SCOPES: Final = frozenset({"grid", "handler", "category"})
OVERDUE: Final = (
    "((state = 'new' AND respond_by < :now) OR (resolve_by IS NOT NULL AND resolve_by < :now))"
)
RATE_COUNTERS: Final = (
    " SUM(CASE WHEN s.state = 'answered' THEN 1 ELSE 0 END) AS valid,"
    " SUM(CASE WHEN s.state = 'expired' THEN 1 ELSE 0 END) AS missing,"
    " SUM(CASE WHEN s.state = 'answered' AND s.contacted = 1 THEN 1 ELSE 0 END) AS contacted,"
    " SUM(CASE WHEN s.state = 'answered' AND s.solved = 'solved' THEN 1 ELSE 0 END) AS solved,"
    " SUM(CASE WHEN s.state = 'answered' AND s.solved = 'partly' THEN 1 ELSE 0 END) AS partly,"
    " SUM(CASE WHEN s.state = 'answered' AND s.satisfaction = 'satisfied' THEN 1 ELSE 0 END)"
    " AS satisfied,"
    " SUM(CASE WHEN s.state = 'answered' AND s.satisfaction = 'basic' THEN 1 ELSE 0 END)"
    " AS basic,"
    " SUM(CASE WHEN s.state = 'answered' AND s.satisfaction = 'unsatisfied' THEN 1 ELSE 0 END)"
    " AS unsatisfied"
)


def scope_column(scope: str, allowed: frozenset[str]) -> str:
    if scope not in allowed:
        raise ValueError(f"unknown scope {scope!r}")
    return scope


def _of(community: str | None, alias: str = "i") -> str:
    return "" if community is None else f" AND {alias}.community = :community"


class NaiveStats:
    """Every figure from the raw tables; periods are ``[start, end)`` as UTC text or datetime."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def event_counts(
        self, start: datetime | str, end: datetime | str, *, community: str | None = None
    ) -> dict[str, int]:
        join = "" if community is None else " JOIN issues i ON i.id = e.issue_id"
        row = await self.db.fetchone(
            "SELECT"
            " SUM(CASE WHEN e.from_state IS NULL THEN 1 ELSE 0 END) AS new,"
            " SUM(CASE WHEN e.action = 'accept' OR (e.action = 'assign'"
            " AND e.from_state = 'new') THEN 1 ELSE 0 END) AS accepted,"
            " SUM(CASE WHEN e.action = 'resolve' THEN 1 ELSE 0 END) AS resolved,"
            " SUM(CASE WHEN e.action = 'reopen' THEN 1 ELSE 0 END) AS reopened"
            f" FROM issue_events e{join} WHERE e.at >= :start AND e.at < :end{_of(community)}",
            _params(start, end, community),
        )
        assert row is not None
        return {name: int(row[name] or 0) for name in row.keys()}

    async def daily_counts(
        self, days: Sequence[tuple[datetime, datetime]], *, community: str | None = None
    ) -> list[tuple[int, int]]:
        """(new reports, resolutions) in each ``[start, end)`` of ``days``."""
        if not days:
            return []
        # Column names and the CAST keep this one statement valid on PostgreSQL too ("end" is
        # reserved there, and an untyped VALUES parameter would be text).
        bounds = ", ".join("(CAST(? AS INTEGER), ?, ?)" for _ in days)
        params: list[Any] = [
            v for n, (start, end) in enumerate(days) for v in (n, to_db(start), to_db(end))
        ]
        join, where = "", ""
        if community is not None:
            join, where = " JOIN issues i ON i.id = e.issue_id", " AND i.community = ?"
            params.append(community)
        rows = await self.db.fetchall(
            f"WITH days (n, day_start, day_end) AS (VALUES {bounds})"
            " SELECT n, SUM(e.from_state IS NULL), SUM(e.action = 'resolve')"
            f" FROM days JOIN issue_events e ON e.at >= day_start AND e.at < day_end{join}"
            f" WHERE (e.from_state IS NULL OR e.action = 'resolve'){where} GROUP BY n",
            params,
        )
        counts = {row[0]: (int(row[1]), int(row[2])) for row in rows}
        return [counts.get(n, (0, 0)) for n in range(len(days))]

    async def open_by_grid(
        self, now: datetime, *, community: str | None = None
    ) -> dict[str, tuple[int, int]]:
        rows = await self.db.fetchall(
            f"SELECT grid, COUNT(*), SUM({OVERDUE}) FROM issues i"
            f" WHERE state IN ({OPEN_LITERALS}){_of(community)} GROUP BY grid",
            {"now": to_db(now), "community": community},
        )
        return {row[0]: (int(row[1]), int(row[2] or 0)) for row in rows}

    async def open_count(self, *, community: str | None = None) -> int:
        row = await self.db.fetchone(
            f"SELECT COUNT(*) FROM issues i WHERE state IN ({OPEN_LITERALS}){_of(community)}",
            {"community": community},
        )
        return int(row[0]) if row else 0

    async def overdue_count(self, now: datetime, *, community: str | None = None) -> int:
        row = await self.db.fetchone(
            f"SELECT COUNT(*) FROM issues i WHERE state IN ({OPEN_LITERALS})"
            f" AND {OVERDUE}{_of(community)}",
            {"now": to_db(now), "community": community},
        )
        return int(row[0]) if row else 0

    async def category_counts(
        self, start: datetime | str, end: datetime | str, *, community: str | None = None
    ) -> dict[str, int]:
        """Issues reported in the period, per (current) category."""
        rows = await self.db.fetchall(
            "SELECT category, COUNT(*) FROM issues i WHERE reported_at >= :start"
            f" AND reported_at < :end{_of(community)} GROUP BY category",
            _params(start, end, community),
        )
        return {row[0]: int(row[1]) for row in rows}

    async def on_time(
        self,
        start: datetime | str,
        end: datetime | str,
        scope: str | None = None,
        *,
        community: str | None = None,
    ) -> dict[str | None, tuple[int, int]]:
        key = f"i.{scope_column(scope, ON_TIME_SCOPES)}" if scope else "NULL"
        join = ""
        if scope or community is not None:
            join = " JOIN issues i ON i.id = e.issue_id"
            join += f" AND {key} IS NOT NULL" if scope else ""
        rows = await self.db.fetchall(
            f"SELECT {key}, COUNT(*), SUM(e.at <= e.resolve_by) FROM issue_events e{join}"
            " WHERE e.at >= :start AND e.at < :end AND e.action = 'resolve'"
            f" AND e.resolve_by IS NOT NULL{_of(community)} GROUP BY 1",
            _params(start, end, community),
        )
        return {row[0]: (int(row[1]), int(row[2] or 0)) for row in rows}

    async def rate_counts_by(
        self,
        scope: str | None,
        start: datetime | str,
        end: datetime | str,
        *,
        community: str | None = None,
    ) -> dict[str | None, dict[str, int]]:
        """Slip counters over slips issued in the period, per key of ``scope`` (the slip's own
        grid, handler or category; None: one entry for them all)."""
        key = f"s.{scope_column(scope, RATE_SCOPES)}" if scope else "NULL"
        join = "" if community is None else " JOIN issues i ON i.id = s.issue_id"
        rows = await self.db.fetchall(
            f"SELECT {key} AS scope_key, {RATE_COUNTERS} FROM feedback_slips s{join}"
            " WHERE s.created_at >= :start AND s.created_at < :end"
            f" AND s.state IN ('answered', 'expired'){_of(community)}"
            f"{f' AND {key} IS NOT NULL' if scope else ''} GROUP BY 1",
            _params(start, end, community),
        )
        return {
            row["scope_key"]: {n: int(row[n] or 0) for n in row.keys() if n != "scope_key"}
            for row in rows
        }


def _params(start: datetime | str, end: datetime | str, community: str | None) -> dict[str, Any]:
    return {
        "start": start if isinstance(start, str) else to_db(start),
        "end": end if isinstance(end, str) else to_db(end),
        "community": community,
    }
