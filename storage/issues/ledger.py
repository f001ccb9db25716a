"""The ledger (台账) query: one row per issue reported in a period, with what a government
ledger needs — the first reporter, the latest answered feedback slip (回访), the latest
resolution with the deadline it was judged by (按期办结) and how often the deadline was changed
(改时限); and the on-time counts of the period per scope (``IssueStats.on_time``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.clock import from_db_or_none, to_db
from storage.db import Database, Row
from storage.issues.repo import Reported, reported_from_row
from storage.issues.stats import IssueStats


@dataclass(frozen=True, kw_only=True)
class LedgerRecord(Reported):
    """An issue as filed (``Reported``) with what the ledger adds to it."""

    number: int
    state: str
    handler: str | None
    reporter_id: int | None
    reporter_name: str | None
    resolve_by: datetime | None
    closed_at: datetime | None
    resolved_at: datetime | None
    contacted: bool | None
    solved: str | None
    satisfaction: str | None
    # 按期办结率 (issue #18 item 4): the latest resolution and the deadline it was judged by
    last_resolved_at: datetime | None = None
    resolved_deadline: datetime | None = None
    deadline_changes: int = 0  # 改时限 events
    photos: int = 0  # the report's photos (an album's, issue #18 item 1)

    @classmethod
    def _from_row(cls, row: Row) -> LedgerRecord:
        contacted = row["contacted"]
        return cls(
            **reported_from_row(row),
            number=row["number"],
            state=row["state"],
            handler=row["handler"],
            reporter_id=row["reporter_id"],
            reporter_name=row["reporter_name"],
            resolve_by=from_db_or_none(row["resolve_by"]),
            closed_at=from_db_or_none(row["closed_at"]),
            resolved_at=from_db_or_none(row["resolved_at"]),
            contacted=None if contacted is None else bool(contacted),
            solved=row["solved"],
            satisfaction=row["satisfaction"],
            last_resolved_at=from_db_or_none(row["last_resolved_at"]),
            resolved_deadline=from_db_or_none(row["resolved_deadline"]),
            deadline_changes=int(row["deadline_changes"]),
            photos=row["photos"],
        )


_SQL = """
SELECT i.*,
  (SELECT r.user_id FROM issue_reporters r WHERE r.issue_id = i.id
   ORDER BY r.added_at, r.rowid LIMIT 1) AS reporter_id,
  (SELECT r.display_name FROM issue_reporters r WHERE r.issue_id = i.id
   ORDER BY r.added_at, r.rowid LIMIT 1) AS reporter_name,
  (SELECT COUNT(*) FROM issue_photos p WHERE p.issue_id = i.id AND p.kind = 'report')
   AS photos,
  s.contacted, s.solved, s.satisfaction,
  lr.at AS last_resolved_at, lr.resolve_by AS resolved_deadline,
  (SELECT COUNT(*) FROM issue_events d WHERE d.issue_id = i.id AND d.action = 'set_deadline')
   AS deadline_changes
FROM issues i
LEFT JOIN feedback_slips s ON s.id = (
  SELECT id FROM feedback_slips WHERE issue_id = i.id AND state = 'answered'
  ORDER BY round DESC, answered_at DESC LIMIT 1)
LEFT JOIN issue_events lr ON lr.id = (
  SELECT MAX(id) FROM issue_events WHERE issue_id = i.id AND action = 'resolve')
WHERE i.reported_at >= ? AND i.reported_at < ? {communities}
ORDER BY i.number
"""


class LedgerRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def rows(
        self, start: datetime, end: datetime, communities: Sequence[str] | None = None
    ) -> list[LedgerRecord]:
        """Issues reported in ``[start, end)``, by number; of ``communities`` only if given."""
        where = ""
        if communities is not None:
            where = f"AND i.community IN ({', '.join('?' for _ in communities)})"
        sql = _SQL.format(communities=where)
        found = await self.db.fetchall(sql, (to_db(start), to_db(end), *(communities or ())))
        return [LedgerRecord._from_row(row) for row in found]

    async def on_time(
        self, start: datetime, end: datetime, scope: str | None, community: str | None = None
    ) -> dict[str | None, tuple[int, int]]:
        """The on-time counts of resolutions in ``[start, end)`` (``IssueStats.on_time``)."""
        return await IssueStats(self.db).on_time(start, end, scope, community=community)
