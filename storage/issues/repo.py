"""Issues repository: every SQL statement about issues, reporters, photos, events and slips.

Rows come back as frozen dataclasses holding plain strings and datetimes; the enums and the rules
live in ``bot.issues.service*`` (storage never imports upward). Every write joins the caller's
transaction when there is one, so a service's state change, its event row and the outbox rows
the handler queues commit together (architecture.md, invariant 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Final

from storage.backends.locks import lock_key
from storage.clock import from_db, from_db_or_none, to_db
from storage.db import Database, Row, in_transaction, placeholders
from storage.issues.albums import AlbumRepo
from storage.issues.open_cache import WATCHED, issues_changed, open_issues
from storage.issues.slips import SlipRepo

# States in which an issue still needs work; kept here because queue queries filter on them.
OPEN_STATES: Final = ("new", "accepted", "assigned", "in_progress", "return_requested")
# The advisory lock that gives out issue numbers on PostgreSQL (see ``IssueRepo.create``)
_NUMBER_LOCK: Final = lock_key("issue-numbers")

_ADD_REPORTER: Final = (
    "INSERT INTO issue_reporters (issue_id, user_id, display_name, chat_id, message_id,"
    " via_issue, report_type, anonymous, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (issue_id, user_id) DO NOTHING"
)
_ADD_PHOTO: Final = (
    "INSERT INTO issue_photos (issue_id, file_id, kind, added_at) VALUES (?, ?, ?, ?)"
)
# Literal, not bound: SQLite uses the partial index of migration 0009 only then.
_OPEN_LITERALS: Final = ", ".join(f"'{state}'" for state in OPEN_STATES)
_PLACEHOLDERS: Final = ", ".join("?" for _ in OPEN_STATES)

# Columns a service may change with ``update``; anything else is a programming error.
_UPDATABLE: Final = frozenset(
    {
        "type",
        "category",
        "grid",
        "building",
        "unit",
        "location",
        "urgent",
        "state",
        "handler",
        "merged_into",
        "reason",
        "respond_by",
        "resolve_by",
        "accepted_at",
        "assigned_at",
        "contacted_at",
        "resolved_at",
        "closed_at",
        "round",
        "result",
        "description",  # a voice report's summary, typed by the grid worker (/note)
    }
)


@dataclass(frozen=True)
class ReporterRecord:
    user_id: int
    display_name: str
    chat_id: int
    message_id: int | None
    via_issue: int | None
    # The report this person filed, which a merge keeps (migration 0011, issue #13 item 11).
    report_type: str = "report"
    anonymous: bool = False

    @classmethod
    def _from_row(cls, row: Row) -> ReporterRecord:
        return cls(
            user_id=row["user_id"],
            display_name=row["display_name"],
            chat_id=row["chat_id"],
            message_id=row["message_id"],
            via_issue=row["via_issue"],
            report_type=row["report_type"],
            anonymous=bool(row["anonymous"]),
        )


@dataclass(frozen=True)
class PhotoRecord:
    file_id: str
    kind: str

    @classmethod
    def _from_row(cls, row: Row) -> PhotoRecord:
        return cls(file_id=row["file_id"], kind=row["kind"])


@dataclass(frozen=True, kw_only=True)
class Reported:
    """What a report says as it was filed: the columns a new issue, its row and the services'
    view of it share (declared once; each adds its own)."""

    type: str
    category: str
    grid: str
    building: str | None
    unit: str | None
    location: str | None
    description: str
    urgent: bool
    private: bool
    anonymous: bool
    source_chat_id: int
    source_message_id: int | None
    reported_at: datetime
    respond_by: datetime
    voice_file_id: str | None = None  # a voice note was the report (0017_voice_reports)
    voice_seconds: int | None = None
    # where the resident's Telegram location or venue put it (0018_issue_places)
    latitude: float | None = None
    longitude: float | None = None
    place: str | None = None
    # the community whose grid it was reported in (0019_issue_community, issue #15)
    community: str = "default"


def reported_fields(source: Reported) -> dict[str, Any]:
    """The filed columns of ``source``, to build another shape of the same issue from."""
    return {f.name: getattr(source, f.name) for f in fields(Reported)}


def reported_from_row(row: Row) -> dict[str, Any]:
    plain = {f.name: row[f.name] for f in fields(Reported)}
    for flag in ("urgent", "private", "anonymous"):
        plain[flag] = bool(plain[flag])
    plain["reported_at"] = from_db(row["reported_at"])
    plain["respond_by"] = from_db(row["respond_by"])
    return plain


@dataclass(frozen=True, kw_only=True)
class IssueRecord(Reported):
    """One ``issues`` row with its reporters and photos."""

    id: int
    number: int
    state: str
    handler: str | None
    merged_into: int | None
    reason: str | None
    resolve_by: datetime | None
    accepted_at: datetime | None
    assigned_at: datetime | None
    contacted_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    round: int
    reporters: tuple[ReporterRecord, ...]
    photos: tuple[PhotoRecord, ...]
    result: str | None = None  # the handler's 办结 note (0012_issue_result)

    @classmethod
    def _from_row(
        cls, row: Row, reporters: Sequence[ReporterRecord], photos: Sequence[PhotoRecord]
    ) -> IssueRecord:
        return cls(
            **reported_from_row(row),
            id=row["id"],
            number=row["number"],
            state=row["state"],
            handler=row["handler"],
            merged_into=row["merged_into"],
            reason=row["reason"],
            resolve_by=from_db_or_none(row["resolve_by"]),
            accepted_at=from_db_or_none(row["accepted_at"]),
            assigned_at=from_db_or_none(row["assigned_at"]),
            contacted_at=from_db_or_none(row["contacted_at"]),
            resolved_at=from_db_or_none(row["resolved_at"]),
            closed_at=from_db_or_none(row["closed_at"]),
            round=row["round"],
            reporters=tuple(reporters),
            photos=tuple(photos),
            result=row["result"],
        )


@dataclass(frozen=True, kw_only=True)
class NewIssue(Reported):
    """What intake knows when an issue is created."""


@dataclass(frozen=True)
class EventRecord:
    id: int
    issue_id: int
    actor_id: int | None
    actor_role: str
    at: datetime
    from_state: str | None
    to_state: str
    action: str
    note: str | None

    @classmethod
    def _from_row(cls, row: Row) -> EventRecord:
        return cls(
            id=row["id"],
            issue_id=row["issue_id"],
            actor_id=row["actor_id"],
            actor_role=row["actor_role"],
            at=from_db(row["at"]),
            from_state=row["from_state"],
            to_state=row["to_state"],
            action=row["action"],
            note=row["note"],
        )


class IssueRepo:
    """Issues, their reporters, photos and events; ``slips`` holds the feedback slips."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.slips = SlipRepo(db)
        self.albums = AlbumRepo(db)

    # -- issues --------------------------------------------------------------------------------

    async def create(
        self,
        new: NewIssue,
        reporter: ReporterRecord | None = None,
        photos: Sequence[str] = (),
    ) -> IssueRecord:
        """Insert a new issue with the next number, its reporter and photos; return it.

        One round trip: the row comes back from ``RETURNING`` and the reporter and photo rows
        are deferred writes, because a report is the commonest write there is (issue #7).
        """
        stamp = to_db(new.reported_at)
        async with self.db.writing() as tx:
            if self.db.backend == "postgresql":
                # Several bots' processes may write to one PostgreSQL database (a district):
                # two reports at once read the same MAX(number) + 1 and the second insert
                # failed, its update retried from the inbox (bench.ingest --two-bots). Held to
                # the end of the transaction, and taken in a statement of its own, so the
                # insert's snapshot sees the number the previous holder committed. SQLite has
                # one writer.
                await tx.fetchall("SELECT pg_advisory_xact_lock(?)", (_NUMBER_LOCK,))
            rows = await tx.fetchall(
                "INSERT INTO issues (number, type, category, grid, building, unit, location,"
                " description, urgent, private, anonymous, source_chat_id, source_message_id,"
                " reported_at, respond_by, updated_at, voice_file_id, voice_seconds,"
                " latitude, longitude, place, community)"
                " VALUES ((SELECT COALESCE(MAX(number), 0) + 1 FROM issues),"
                " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    new.type,
                    new.category,
                    new.grid,
                    new.building,
                    new.unit,
                    new.location,
                    new.description,
                    int(new.urgent),
                    int(new.private),
                    int(new.anonymous),
                    new.source_chat_id,
                    new.source_message_id,
                    stamp,
                    to_db(new.respond_by),
                    stamp,
                    new.voice_file_id,
                    new.voice_seconds,
                    new.latitude,
                    new.longitude,
                    new.place,
                    new.community,
                ),
            )
            row = rows[0]
            cache = open_issues(self.db)
            candidate = (row["number"], new.category, new.building, new.description)
            cache.created(new.grid, candidate, from_db(stamp))  # as stored: to the second
            tx.on_rollback(cache.forget)
            if reporter is not None:
                tx.defer(_ADD_REPORTER, _reporter_params(row["id"], reporter, stamp))
            for file_id in photos:
                tx.defer(_ADD_PHOTO, (row["id"], file_id, "report", stamp))
        return IssueRecord._from_row(
            row,
            [reporter] if reporter is not None else [],
            [PhotoRecord(file_id, "report") for file_id in photos],
        )

    async def update(self, issue_id: int, changes: Mapping[str, Any], now: datetime) -> None:
        """Set the given columns (datetimes are stored as UTC text) and ``updated_at``."""
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable issue columns: {sorted(unknown)}")
        values = [to_db(v) if isinstance(v, datetime) else v for v in changes.values()]
        assignments = "".join(f"{name} = ?, " for name in changes)
        async with self.db.writing() as tx:
            if not WATCHED.isdisjoint(changes):
                issues_changed(self.db, tx)
            await tx.execute(
                f"UPDATE issues SET {assignments}updated_at = ? WHERE id = ?",
                (*values, to_db(now), issue_id),
            )

    async def by_number(self, number: int) -> IssueRecord | None:
        row = await self.db.fetchone("SELECT * FROM issues WHERE number = ?", (number,))
        return None if row is None else await self._complete(row)

    async def by_id(self, issue_id: int) -> IssueRecord | None:
        row = await self.db.fetchone("SELECT * FROM issues WHERE id = ?", (issue_id,))
        return None if row is None else await self._complete(row)

    async def number_of(self, issue_id: int) -> int:
        row = await self.db.fetchone("SELECT number FROM issues WHERE id = ?", (issue_id,))
        if row is None:
            raise LookupError(f"no issue with id {issue_id}")
        return int(row[0])

    async def duplicate_candidates(
        self, grid: str, since: datetime, limit: int = 100
    ) -> list[tuple[int, str, str | None, str]]:
        """(number, category, building, description) of the newest open issues of ``grid``
        since ``since``: one query, only the columns duplicate detection compares, because it
        runs on every report (the benchmark showed the full records as the ingest hotspot).

        At most ``limit``: every candidate costs a comparison on every report, and a grid
        with more than a hundred issues open from the last two weeks needs its workers, not
        a longer hint (0.85 ms per report at 500 candidates, issue #7).

        Read from the database once per grid and then followed in memory
        (storage/issues/open_cache.py)."""
        cache = open_issues(self.db)
        cutoff = to_db(since)
        since = from_db(cutoff)  # to the second, as the query compares
        held = cache.read(grid, since, limit)
        if held is not None:
            return held
        version = cache.version
        rows = await self.db.fetchall(
            "SELECT number, category, building, description, reported_at FROM issues"
            f" WHERE grid = ? AND state IN ({_OPEN_LITERALS}) AND reported_at >= ?"
            " ORDER BY number DESC LIMIT ?",  # the partial index issues_open_by_grid (0009)
            (grid, cutoff, limit),
        )
        if in_transaction():  # see open_cache: only the writer's view is kept
            cache.keep(grid, since, limit, rows, version)
        return [(row[0], row[1], row[2], row[3]) for row in rows]

    async def queue(
        self, grids: Sequence[str], *, unassigned: bool, overdue_at: datetime | None
    ) -> list[IssueRecord]:
        """Open issues of ``grids``; optionally only unassigned ones, or only overdue ones.

        Overdue: not accepted by ``respond_by``, or not resolved by ``resolve_by``. Urgent
        issues come first, then the oldest.
        """
        if not grids:
            return []
        sql = (
            f"SELECT * FROM issues WHERE state IN ({_PLACEHOLDERS})"
            f" AND grid IN ({placeholders(len(grids))})"
        )
        params: list[Any] = [*OPEN_STATES, *grids]
        if unassigned:
            sql += " AND state IN ('new', 'accepted')"
        if overdue_at is not None:
            sql += (
                " AND ((state = 'new' AND respond_by < ?)"
                " OR (resolve_by IS NOT NULL AND resolve_by < ?))"
            )
            params += [to_db(overdue_at)] * 2
        return await self._many(sql + " ORDER BY urgent DESC, number", params)

    async def assigned_to(self, handler: str) -> list[IssueRecord]:
        """Open issues assigned to ``handler``, oldest first."""
        return await self._many(
            f"SELECT * FROM issues WHERE handler = ? AND state IN ({_PLACEHOLDERS})"
            " ORDER BY number",
            (handler, *OPEN_STATES),
        )

    async def by_reporter(self, user_id: int, limit: int = 20) -> list[IssueRecord]:
        """Issues this user reported (including merged ones), newest first."""
        return await self._many(
            "SELECT i.* FROM issues i JOIN issue_reporters r ON r.issue_id = i.id"
            " WHERE r.user_id = ? ORDER BY i.number DESC LIMIT ?",
            (user_id, limit),
        )

    async def _many(self, sql: str, params: Sequence[Any]) -> list[IssueRecord]:
        return [await self._complete(row) for row in await self.db.fetchall(sql, params)]

    async def _complete(self, row: Row) -> IssueRecord:
        reporters = await self.db.fetchall(
            "SELECT * FROM issue_reporters WHERE issue_id = ? ORDER BY added_at, user_id",
            (row["id"],),
        )
        photos = await self.db.fetchall(
            "SELECT * FROM issue_photos WHERE issue_id = ? ORDER BY id", (row["id"],)
        )
        return IssueRecord._from_row(
            row,
            [ReporterRecord._from_row(r) for r in reporters],
            [PhotoRecord._from_row(p) for p in photos],
        )

    # -- reporters and photos ------------------------------------------------------------------

    async def add_reporter(self, issue_id: int, reporter: ReporterRecord, now: datetime) -> bool:
        """Add a reporter unless already there; return whether it was added."""
        async with self.db.writing() as tx:
            changed = await tx.execute(
                _ADD_REPORTER, _reporter_params(issue_id, reporter, to_db(now))
            )
        return changed == 1

    async def add_photos(
        self, issue_id: int, file_ids: Sequence[str], kind: str, now: datetime
    ) -> None:
        if not file_ids:
            return
        async with self.db.writing() as tx:
            await tx.executemany(
                _ADD_PHOTO, [(issue_id, file_id, kind, to_db(now)) for file_id in file_ids]
            )

    # -- events --------------------------------------------------------------------------------

    async def add_event(
        self,
        issue_id: int,
        *,
        actor_id: int | None,
        actor_role: str,
        at: datetime,
        from_state: str | None,
        to_state: str,
        action: str,
        note: str | None = None,
    ) -> None:
        """Record an event; a deferred write (nobody reads its id), sent with what follows.

        A resolve event keeps the issue's resolve-by as it stands (the on-time rate judges each
        办结 by the deadline in force then; a later 重办 replaces the issue's). The rollups follow
        the issue in the same statement: triggers on issue_events (migration 0023, see
        ``storage.issues.rollups``), so write the issue's new values before its event."""
        async with self.db.writing() as tx:
            tx.defer(
                "INSERT INTO issue_events (issue_id, actor_id, actor_role, at, from_state,"
                " to_state, action, note, resolve_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
                " CASE WHEN ? = 'resolve' THEN (SELECT resolve_by FROM issues WHERE id = ?) END)",
                (
                    issue_id,
                    actor_id,
                    actor_role,
                    to_db(at),
                    from_state,
                    to_state,
                    action,
                    note,
                    action,
                    issue_id,
                ),
            )

    async def events(self, issue_id: int) -> list[EventRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM issue_events WHERE issue_id = ? ORDER BY id", (issue_id,)
        )
        return [EventRecord._from_row(row) for row in rows]


def _reporter_params(issue_id: int, reporter: ReporterRecord, stamp: str) -> tuple[Any, ...]:
    return (
        issue_id,
        reporter.user_id,
        reporter.display_name,
        reporter.chat_id,
        reporter.message_id,
        reporter.via_issue,
        reporter.report_type,
        int(reporter.anonymous),
        stamp,
    )
