"""Rollups (issue #15 item 2): the digest's and the rates' counters, kept per (community, local
day, grid, handler, category) in the same statement as the issue events that change them.

Why this shape (migration 0023 holds the tables and the triggers):

- **One writer.** Two triggers on ``issue_events`` keep the rollups: whatever inserts an event
  row (``IssueRepo.add_event``, the one writer in the bot) moves the counters with it, in the
  same transaction. Every change to an issue in the bot is recorded with an event after the
  issue's row has its new values (a transition, a slip answered or expired, a merge, 改类别,
  改时限, 转办), so no feature can change what is counted without the rollups following.
  ``/forget`` and retention rewrite names, ids and text only, which no counter reads.
- **Self-correcting per issue.** ``rollup_issues`` remembers under which key and open bucket an
  issue is counted. At its next event the difference with the issue's row is moved (its past
  event counters to the new key, its open bucket to the new deadline day).
- **Inside SQLite.** A trigger costs no round trip to the database thread and no Python (issue
  #7: the round trip, not the statement, is what costs); the local day of a timestamp is looked
  up in ``rollup_days``.

:func:`rebuild` recomputes everything from the raw tables (the naive computation, as SQL), and
:func:`differences` compares that with the maintained counters (``gridbot rollups check``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from storage.clock import to_db
from storage.db import Database, Transaction

log = logging.getLogger(__name__)

OPEN_LITERALS: Final = "'new', 'accepted', 'assigned', 'in_progress', 'return_requested'"
# An open issue's deadline; word for word the expression of the index issues_open_due (0023),
# which SQLite uses only for the very same expression.
DUE: Final = (
    "(CASE WHEN state = 'new' AND (resolve_by IS NULL OR respond_by < resolve_by)"
    " THEN respond_by ELSE resolve_by END)"
)
EVENT_COUNTERS: Final = ("reported", "accepted", "resolved", "reopened", "timed", "punctual")
SLIP_COUNTERS: Final = (
    "valid",
    "missing",
    "contacted",
    "solved",
    "partly",
    "satisfied",
    "basic",
    "unsatisfied",
)
COUNTERS: Final = EVENT_COUNTERS + SLIP_COUNTERS
KEY: Final = "community, day, grid, handler, category"
OPEN_KEY: Final = "community, grid, handler, category, due_day"
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the days rollup_days holds


def day_of(column: str) -> str:
    """SQL for the local day of a stored UTC timestamp (its UTC date outside the table)."""
    return (
        f"COALESCE((SELECT d.day FROM rollup_days d WHERE d.start <= {column}"
        f" ORDER BY d.start DESC LIMIT 1), substr({column}, 1, 10))"
    )


def _event_sums(e: str, sign: str = "") -> str:
    """The event counters of the events ``e`` as SUMs, in EVENT_COUNTERS order."""
    return ", ".join(
        f"{sign}SUM({expr})"
        for expr in (
            f"{e}.from_state IS NULL",
            f"{e}.action = 'accept' OR ({e}.action = 'assign' AND {e}.from_state = 'new')",
            f"{e}.action = 'resolve'",
            f"{e}.action = 'reopen'",
            f"{e}.action = 'resolve' AND {e}.resolve_by IS NOT NULL",
            f"{e}.action = 'resolve' AND {e}.resolve_by IS NOT NULL AND {e}.at <= {e}.resolve_by",
        )
    )


_SLIP_SUMS: Final = ", ".join(
    f"SUM({expr})"
    for expr in (
        "s.state = 'answered'",
        "s.state = 'expired'",
        "s.state = 'answered' AND s.contacted = 1",
        "s.state = 'answered' AND s.solved = 'solved'",
        "s.state = 'answered' AND s.solved = 'partly'",
        "s.state = 'answered' AND s.satisfaction = 'satisfied'",
        "s.state = 'answered' AND s.satisfaction = 'basic'",
        "s.state = 'answered' AND s.satisfaction = 'unsatisfied'",
    )
)
_COUNTED_EVENTS: Final = (
    "(e.from_state IS NULL OR e.action IN ('accept', 'assign', 'resolve', 'reopen'))"
)


def _add(counters: tuple[str, ...]) -> str:
    # The target is aliased ``t`` by the INSERT: PostgreSQL finds a bare column ambiguous here.
    sets = ", ".join(f"{c} = t.{c} + excluded.{c}" for c in counters)
    return f" ON CONFLICT ({KEY}) DO UPDATE SET {sets}"


# -- days ---------------------------------------------------------------------------------------


FIRST_DAY, LAST_DAY = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)
DAYS: Final = (LAST_DAY - FIRST_DAY).days + 1  # the rows of rollup_days


def days_of(
    zone: ZoneInfo, first: date = FIRST_DAY, last: date = LAST_DAY
) -> Iterator[tuple[str, str]]:
    """(UTC start, local day) of every local day from ``first`` to ``last`` (by default
    FIRST_YEAR to LAST_YEAR): what ``to_db(datetime.combine(day, time(), zone))`` gives, a
    third of its cost. The local midnight less the zone's offset there (read as an aware
    midnight's offset is, fold 0) is naive arithmetic; the aware conversion cost 130 ms for
    the 36,890 days of a ``rebuild`` in a zone with summer time (issue #12 item 6)."""
    day = datetime(first.year, first.month, first.day)
    end = datetime(last.year, last.month, last.day)
    one = timedelta(days=1)
    offset_at = zone.utcoffset
    while day <= end:
        offset = offset_at(day)
        assert offset is not None  # a ZoneInfo always has one
        yield (day - offset).isoformat() + "Z", day.date().isoformat()
        day += one


def fixed_offset(zone: ZoneInfo) -> int | None:
    """The zone's UTC offset in minutes when it is the same all through the table's years."""
    offsets = {
        zone.utcoffset(datetime(year, month, 1))
        for year in range(FIRST_YEAR, LAST_YEAR + 1)
        for month in (1, 4, 7, 10)
    }
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    return None if offset is None else int(offset.total_seconds() // 60)


@dataclass(frozen=True)
class Span:
    """How a period ``[start, end)`` is read: whole local days ``[first, last)`` from the
    rollups (None when it holds none), and the UTC ranges at its edges from the raw tables."""

    days: tuple[str, str] | None
    edges: tuple[tuple[str, str], ...]


async def span(db: Database, start: datetime, end: datetime) -> Span:
    """Split ``[start, end)`` at the first and last local midnight inside it (one query)."""
    lo, hi = to_db(start), to_db(end)
    row = await db.fetchone(
        "SELECT (SELECT start || ' ' || day FROM rollup_days WHERE start >= ?"
        " ORDER BY start LIMIT 1), (SELECT start || ' ' || day FROM rollup_days"
        " WHERE start <= ? ORDER BY start DESC LIMIT 1)",
        (lo, hi),
    )
    if row is None or row[0] is None or row[1] is None:
        return Span(None, ((lo, hi),) if lo < hi else ())
    first_start, first = row[0].split(" ")
    last_start, last = row[1].split(" ")
    if first >= last:
        return Span(None, ((lo, hi),) if lo < hi else ())
    edges = tuple((a, b) for a, b in ((lo, first_start), (last_start, hi)) if a < b)
    return Span((first, last), edges)


async def day_starts(db: Database, lo: str, hi: str) -> dict[str, str]:
    """{UTC start: local day} of the rollup days starting in ``[lo, hi]``."""
    rows = await db.fetchall(
        "SELECT start, day FROM rollup_days WHERE start >= ? AND start <= ?", (lo, hi)
    )
    return {str(row[0]): str(row[1]) for row in rows}


def local_day(db_stamp: str, zone: ZoneInfo) -> str:
    """The local day of a stored timestamp (Python's view, for tests and the check)."""
    moment = datetime.strptime(db_stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(zone).date().isoformat()


# -- rebuild and check --------------------------------------------------------------------------


async def row_count(db: Database) -> int:
    """Rows holding a count in the two rollup tables (what the digest reads from)."""
    row = await db.fetchone(
        "SELECT (SELECT COUNT(*) FROM issue_rollup) + (SELECT COUNT(*) FROM open_rollup)"
    )
    return int(row[0]) if row else 0


async def zone_of(db: Database) -> str:
    row = await db.fetchone("SELECT zone FROM rollup_settings WHERE id = 1")
    return "UTC" if row is None else str(row[0])


def _rebuild_statements(zone: ZoneInfo, target: str = "") -> list[str]:
    """The naive computation as SQL: every counter from the issues, events and slips, into
    ``{target}issue_rollup`` and ``{target}open_rollup`` (empty tables of that shape)."""
    offset = fixed_offset(zone)

    def day(column: str) -> str:  # date() is ten times faster than the lookup, where it is right
        return f"date({column}, '{offset:+d} minutes')" if offset is not None else day_of(column)

    bucket = f"CASE WHEN state IN ({OPEN_LITERALS}) THEN COALESCE({day(DUE)}, '') END"
    return [
        f"INSERT INTO {target}issue_rollup ({KEY}, {', '.join(EVENT_COUNTERS)})"
        f" SELECT i.community, {day('e.at')}, i.grid, COALESCE(i.handler, ''), i.category,"
        f" {_event_sums('e')} FROM issue_events e JOIN issues i ON i.id = e.issue_id"
        f" WHERE {_COUNTED_EVENTS} GROUP BY 1, 2, 3, 4, 5",
        f"INSERT INTO {target}issue_rollup AS t ({KEY}, {', '.join(SLIP_COUNTERS)})"
        f" SELECT i.community, {day('s.created_at')}, s.grid, COALESCE(s.handler, ''),"
        f" s.category, {_SLIP_SUMS} FROM feedback_slips s JOIN issues i ON i.id = s.issue_id"
        " WHERE s.state IN ('answered', 'expired') GROUP BY 1, 2, 3, 4, 5" + _add(SLIP_COUNTERS),
        f"INSERT INTO {target}open_rollup ({OPEN_KEY}, open)"
        f" SELECT community, grid, COALESCE(handler, ''), category, {bucket}, COUNT(*)"
        f" FROM issues WHERE state IN ({OPEN_LITERALS}) GROUP BY 1, 2, 3, 4, 5",
    ]


async def rebuild(db: Database, zone: ZoneInfo | None = None) -> None:
    """Recompute every rollup from the raw tables in one transaction, with days in ``zone``
    (by default the zone they were kept in)."""
    zone = zone or ZoneInfo(await zone_of(db))
    async with db.transaction() as tx:
        if not await _days_are_of(tx, zone):
            await tx.execute("DELETE FROM rollup_days")
            await tx.executemany(
                "INSERT INTO rollup_days (start, day) VALUES (?, ?)", days_of(zone)
            )
            await tx.execute(
                "INSERT OR REPLACE INTO rollup_settings (id, zone) VALUES (1, ?)", (zone.key,)
            )
        for table in ("issue_rollup", "open_rollup", "rollup_issues"):
            await tx.execute(f"DELETE FROM {table}")
        for statement in _rebuild_statements(zone):
            await tx.execute(statement)
        await tx.execute(
            # CASE, not the boolean itself: PostgreSQL stores no boolean in an integer column.
            "UPDATE feedback_slips"
            " SET counted = CASE WHEN state IN ('answered', 'expired') THEN 1 ELSE 0 END"
            " WHERE counted != CASE WHEN state IN ('answered', 'expired') THEN 1 ELSE 0 END"
        )
        offset = fixed_offset(zone)
        bucket_day = f"date({DUE}, '{offset:+d} minutes')" if offset is not None else day_of(DUE)
        await tx.execute(
            "INSERT INTO rollup_issues (issue_id, community, grid, handler, category, due_day)"
            " SELECT id, community, grid, COALESCE(handler, ''), category,"
            f" CASE WHEN state IN ({OPEN_LITERALS}) THEN COALESCE({bucket_day}, '') END"
            " FROM issues"
        )


async def _days_are_of(tx: Transaction, zone: ZoneInfo) -> bool:
    """Whether ``rollup_days`` already holds ``zone``'s days: its zone, as many days, the same
    first and last. Only migration 0023 and :func:`rebuild` write the table, whole, in one
    transaction each, so this is the whole table; rewriting its 36,890 rows was most of a
    rebuild of a small database (~0.1 s)."""
    edges = (*days_of(zone, FIRST_DAY, FIRST_DAY), *days_of(zone, LAST_DAY, LAST_DAY))
    row = await tx.fetchone(
        "SELECT (SELECT zone FROM rollup_settings WHERE id = 1), (SELECT COUNT(*) FROM"
        " rollup_days), (SELECT start || ' ' || day FROM rollup_days ORDER BY start LIMIT 1),"
        " (SELECT start || ' ' || day FROM rollup_days ORDER BY start DESC LIMIT 1)"
    )
    return row is not None and tuple(row) == (zone.key, DAYS, *(" ".join(e) for e in edges))


async def ensure_zone(db: Database, zone: ZoneInfo) -> bool:
    """Rebuild the rollups when they were kept in another zone than ``zone`` (the config's);
    whether it did. Figures are exact either way, but only days of the config's zone are
    read from the rollups: others come from the raw tables."""
    if await zone_of(db) == zone.key:
        return False
    log.warning("rollups kept in %s, the config says %s: rebuilding", await zone_of(db), zone.key)
    await rebuild(db, zone)
    return True


@dataclass(frozen=True)
class Difference:
    """One counter that differs between the rollups and the raw tables."""

    table: str
    key: tuple[str, ...]
    counter: str
    kept: int  # in the rollups
    naive: int  # computed from the issues, events and slips


async def differences(db: Database) -> list[Difference]:
    """Every counter where the maintained rollups differ from the naive computation (rows of
    zeros count as absent). Both are read in one read snapshot on a connection of its own,
    the naive side computed into temporary tables there: a check beside a running bot sees
    one moment of the database and never holds the bot's writer (minutes at 1M issues)."""
    zone = ZoneInfo(await zone_of(db))
    found: list[Difference] = []
    async with db.snapshot():
        for table, key, counters in (
            ("issue_rollup", KEY, COUNTERS),
            ("open_rollup", OPEN_KEY, ("open",)),
        ):
            columns = ", ".join(
                [f"{k} TEXT NOT NULL" for k in key.split(", ")]
                + [f"{c} INTEGER NOT NULL DEFAULT 0" for c in counters]
            )
            await db.fetchall(f"CREATE TEMP TABLE naive_{table} ({columns}, PRIMARY KEY ({key}))")
        for statement in _rebuild_statements(zone, "temp.naive_"):
            await db.fetchall(statement)
        for table, key, counters in (
            ("issue_rollup", KEY, COUNTERS),
            ("open_rollup", OPEN_KEY, ("open",)),
        ):
            found += await _compare(db, table, key, counters)
    return found


async def _compare(
    db: Database, table: str, key: str, counters: tuple[str, ...]
) -> list[Difference]:
    columns = key.split(", ")
    nonzero = " OR ".join(f"{c} != 0" for c in counters)
    select = ", ".join(columns + list(counters))
    kept = {
        tuple(row[: len(columns)]): tuple(row[len(columns) :])
        for row in await db.fetchall(f"SELECT {select} FROM {table} WHERE {nonzero}")
    }
    naive = {
        tuple(row[: len(columns)]): tuple(row[len(columns) :])
        for row in await db.fetchall(f"SELECT {select} FROM temp.naive_{table} WHERE {nonzero}")
    }
    zero = (0,) * len(counters)
    found = []
    for k in sorted(set(kept) | set(naive)):
        a, b = kept.get(k, zero), naive.get(k, zero)
        found += [
            Difference(table, k, name, x, y)
            for name, x, y in zip(counters, a, b, strict=True)
            if x != y
        ]
    return found
