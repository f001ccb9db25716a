"""Feedback slips (评单): one per reporter per resolution round, and the rate aggregates.

Part of the issues repository (reach it as ``IssueRepo.slips``); split out to keep modules small.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.clock import from_db, from_db_or_none, to_db
from storage.db import Database, Row
from storage.issues.naive import RATE_SCOPES as RATE_SCOPES
from storage.issues.rollups import SLIP_COUNTERS
from storage.issues.stats import IssueStats


@dataclass(frozen=True)
class SlipRecord:
    id: int
    issue_id: int
    round: int
    user_id: int
    state: str
    created_at: datetime
    reminded_at: datetime | None
    expired_at: datetime | None
    answered_at: datetime | None
    contacted: bool | None
    solved: str | None
    satisfaction: str | None
    comment: str | None

    @classmethod
    def _from_row(cls, row: Row) -> SlipRecord:
        contacted = row["contacted"]
        return cls(
            id=row["id"],
            issue_id=row["issue_id"],
            round=row["round"],
            user_id=row["user_id"],
            state=row["state"],
            created_at=from_db(row["created_at"]),
            reminded_at=from_db_or_none(row["reminded_at"]),
            expired_at=from_db_or_none(row["expired_at"]),
            answered_at=from_db_or_none(row["answered_at"]),
            contacted=None if contacted is None else bool(contacted),
            solved=row["solved"],
            satisfaction=row["satisfaction"],
            comment=row["comment"],
        )


class SlipRepo:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.stats = IssueStats(db)  # the rates' counters, from the rollups

    async def create(
        self,
        issue_id: int,
        round_no: int,
        user_id: int,
        *,
        grid: str,
        handler: str | None,
        category: str,
        now: datetime,
    ) -> int:
        """Issue a slip for one reporter and round; the attribution is copied onto it."""
        async with self.db.writing() as tx:
            return await tx.insert(
                "INSERT INTO feedback_slips (issue_id, round, user_id, grid, handler, category,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (issue_id, round_no, user_id, grid, handler, category, to_db(now)),
            )

    async def get(self, slip_id: int) -> SlipRecord | None:
        row = await self.db.fetchone("SELECT * FROM feedback_slips WHERE id = ?", (slip_id,))
        return None if row is None else SlipRecord._from_row(row)

    async def of_issue(self, issue_id: int) -> list[SlipRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM feedback_slips WHERE issue_id = ? ORDER BY id", (issue_id,)
        )
        return [SlipRecord._from_row(row) for row in rows]

    async def answer(
        self,
        slip_id: int,
        *,
        contacted: bool,
        solved: str,
        satisfaction: str,
        comment: str | None,
        now: datetime,
    ) -> bool:
        """Record the answers of an open slip; False if it was no longer open."""
        async with self.db.writing() as tx:
            return (
                await tx.execute(
                    "UPDATE feedback_slips SET state = 'answered', answered_at = ?, contacted = ?,"
                    " solved = ?, satisfaction = ?, comment = ? WHERE id = ? AND state = 'open'",
                    (to_db(now), int(contacted), solved, satisfaction, comment, slip_id),
                )
                == 1
            )

    async def open_of(self, user_id: int) -> list[SlipRecord]:
        """The open slips of one resident, oldest first (their /todo, issue #18 item 5)."""
        rows = await self.db.fetchall(
            "SELECT * FROM feedback_slips WHERE user_id = ? AND state = 'open' ORDER BY id",
            (user_id,),
        )
        return [SlipRecord._from_row(row) for row in rows]

    async def open_count(self, issue_id: int) -> int:
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM feedback_slips WHERE issue_id = ? AND state = 'open'",
            (issue_id,),
        )
        return int(row[0]) if row else 0

    async def cancel_open(self, issue_id: int) -> int:
        """A reopen supersedes the round's unanswered slips: they count nowhere."""
        async with self.db.writing() as tx:
            return await tx.execute(
                "UPDATE feedback_slips SET state = 'cancelled'"
                " WHERE issue_id = ? AND state = 'open'",
                (issue_id,),
            )

    async def to_remind(
        self, issued_before: datetime, expiring_before: datetime, limit: int
    ) -> list[SlipRecord]:
        """The oldest ``limit`` open slips issued before then, not reminded yet and not due to
        expire (issued before ``expiring_before``: a backlog's next sweep expires them)."""
        rows = await self.db.fetchall(
            "SELECT * FROM feedback_slips WHERE state = 'open' AND reminded_at IS NULL"
            " AND created_at <= ? AND created_at > ? ORDER BY id LIMIT ?",
            (to_db(issued_before), to_db(expiring_before), limit),
        )
        return [SlipRecord._from_row(row) for row in rows]

    async def to_expire(self, issued_before: datetime, limit: int) -> list[SlipRecord]:
        """The oldest ``limit`` open slips issued before then."""
        rows = await self.db.fetchall(
            "SELECT * FROM feedback_slips WHERE state = 'open' AND created_at <= ?"
            " ORDER BY id LIMIT ?",
            (to_db(issued_before), limit),
        )
        return [SlipRecord._from_row(row) for row in rows]

    async def mark_reminded(self, slip_id: int, now: datetime) -> bool:
        async with self.db.writing() as tx:
            return (
                await tx.execute(
                    "UPDATE feedback_slips SET reminded_at = ?"
                    " WHERE id = ? AND state = 'open' AND reminded_at IS NULL",
                    (to_db(now), slip_id),
                )
                == 1
            )

    async def mark_expired(self, slip_id: int, now: datetime) -> bool:
        async with self.db.writing() as tx:
            return (
                await tx.execute(
                    "UPDATE feedback_slips SET state = 'expired', expired_at = ?"
                    " WHERE id = ? AND state = 'open'",
                    (to_db(now), slip_id),
                )
                == 1
            )

    async def rate_counts(
        self,
        scope: str | None,
        key: str | None,
        start: datetime,
        end: datetime,
        *,
        community: str | None = None,
    ) -> dict[str, int]:
        """Counters for the rates over slips issued in ``[start, end)``, from the rollups.

        ``valid`` are answered slips, ``missing`` expired ones (未评价); open and cancelled
        slips are not counted yet/at all. ``scope`` is None (every slip of ``community``, or
        of all communities) or one of ``RATE_SCOPES`` with its ``key``.
        """
        counts = await self.stats.rate_counts_by(scope, start, end, community=community)
        return counts.get(key if scope else None) or dict.fromkeys(SLIP_COUNTERS, 0)

    async def rate_counts_by(
        self, scope: str, start: datetime, end: datetime, *, community: str | None = None
    ) -> dict[str, dict[str, int]]:
        """The same counters for every key of ``scope`` (e.g. each handler) in one query."""
        counts = await self.stats.rate_counts_by(scope, start, end, community=community)
        return {str(key): values for key, values in counts.items()}
