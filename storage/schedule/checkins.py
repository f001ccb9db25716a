"""窗帘之约 (issue #5): enrolments, the mornings they were asked, and the alerts.

Sensitive personal information (PIPL art. 28): rows are read only by the check-in service,
which shows them only to the enrolled person, the linked volunteer and the grid's workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.clock import from_db, from_db_or_none, to_db
from storage.db import Database, Row


@dataclass(frozen=True)
class EnrolmentRecord:
    id: int
    user_id: int
    volunteer_id: int | None
    grid: str
    location: str | None
    enrolled_by: int
    consented_at: datetime | None
    ended_at: datetime | None
    name: str | None = None  # as the resident goes by on Telegram, taken at consent

    @classmethod
    def _from_row(cls, row: Row) -> EnrolmentRecord:
        return cls(
            id=row["id"],
            user_id=row["user_id"],
            volunteer_id=row["volunteer_id"],
            grid=row["grid"],
            location=row["location"],
            enrolled_by=row["enrolled_by"],
            consented_at=from_db_or_none(row["consented_at"]),
            ended_at=from_db_or_none(row["ended_at"]),
            name=row["name"],
        )


@dataclass(frozen=True)
class AlertRecord:
    id: int
    enrolment_id: int
    day: str
    raised_at: datetime
    outcome: str | None
    outcome_by: int | None
    escalation: int = 0  # the last escalation step sent (0: the first alert only)

    @classmethod
    def _from_row(cls, row: Row) -> AlertRecord:
        return cls(
            id=row["id"],
            enrolment_id=row["enrolment_id"],
            day=row["day"],
            raised_at=from_db(row["raised_at"]),
            outcome=row["outcome"],
            outcome_by=row["outcome_by"],
            escalation=row["escalation"],
        )


class CheckinRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def enrol(
        self,
        user_id: int,
        volunteer_id: int | None,
        grid: str,
        location: str | None,
        by: int,
        now: datetime,
    ) -> int:
        """Enrol (or re-enrol) a resident; consent is asked again, so it starts inactive."""
        async with self.db.writing() as tx:
            await tx.execute(
                "INSERT INTO checkin_enrolments (user_id, volunteer_id, grid, location,"
                " enrolled_by, enrolled_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id)"
                " DO UPDATE SET volunteer_id = excluded.volunteer_id, grid = excluded.grid,"
                " location = excluded.location, enrolled_by = excluded.enrolled_by,"
                " enrolled_at = excluded.enrolled_at, consented_at = NULL, ended_at = NULL",
                (user_id, volunteer_id, grid, location, by, to_db(now)),
            )
            row = await tx.fetchone(
                "SELECT id FROM checkin_enrolments WHERE user_id = ?", (user_id,)
            )
        assert row is not None
        return int(row[0])

    async def consent(
        self, enrolment_id: int, user_id: int, name: str | None, now: datetime
    ) -> bool:
        async with self.db.writing() as tx:
            return (
                await tx.execute(
                    "UPDATE checkin_enrolments SET consented_at = ?, name = ? WHERE id = ?"
                    " AND user_id = ? AND consented_at IS NULL AND ended_at IS NULL",
                    (to_db(now), name, enrolment_id, user_id),
                )
                == 1
            )

    async def get(self, enrolment_id: int) -> EnrolmentRecord | None:
        row = await self.db.fetchone(
            "SELECT * FROM checkin_enrolments WHERE id = ?", (enrolment_id,)
        )
        return None if row is None else EnrolmentRecord._from_row(row)

    async def active(self) -> list[EnrolmentRecord]:
        """Enrolments with consent that have not ended."""
        rows = await self.db.fetchall(
            "SELECT * FROM checkin_enrolments WHERE consented_at IS NOT NULL"
            " AND ended_at IS NULL ORDER BY id"
        )
        return [EnrolmentRecord._from_row(row) for row in rows]

    async def asked(self, enrolment_id: int, day: str, now: datetime) -> None:
        async with self.db.writing() as tx:
            await tx.execute(
                "INSERT INTO checkin_days (enrolment_id, day, asked_at) VALUES (?, ?, ?)"
                " ON CONFLICT (enrolment_id, day) DO NOTHING",
                (enrolment_id, day, to_db(now)),
            )

    async def confirm(self, enrolment_id: int, day: str, by: int, now: datetime) -> bool:
        """Record 我很好; False if that morning was not asked or is already confirmed."""
        async with self.db.writing() as tx:
            return (
                await tx.execute(
                    "UPDATE checkin_days SET confirmed_at = ?, confirmed_by = ?"
                    " WHERE enrolment_id = ? AND day = ? AND confirmed_at IS NULL",
                    (to_db(now), by, enrolment_id, day),
                )
                == 1
            )

    async def unconfirmed(self, day: str) -> list[int]:
        """Enrolment ids asked on ``day`` and not confirmed."""
        rows = await self.db.fetchall(
            "SELECT enrolment_id FROM checkin_days WHERE day = ? AND confirmed_at IS NULL"
            " ORDER BY enrolment_id",
            (day,),
        )
        return [int(row[0]) for row in rows]

    async def raise_alert(self, enrolment_id: int, day: str, now: datetime) -> int | None:
        """Open the day's alert; None if it exists already."""
        async with self.db.writing() as tx:
            changed = await tx.execute(
                "INSERT INTO checkin_alerts (enrolment_id, day, raised_at) VALUES (?, ?, ?)"
                " ON CONFLICT (enrolment_id, day) DO NOTHING",
                (enrolment_id, day, to_db(now)),
            )
            if changed != 1:
                return None
            row = await tx.fetchone(
                "SELECT id FROM checkin_alerts WHERE enrolment_id = ? AND day = ?",
                (enrolment_id, day),
            )
        return None if row is None else int(row[0])

    async def alert(self, alert_id: int) -> AlertRecord | None:
        row = await self.db.fetchone("SELECT * FROM checkin_alerts WHERE id = ?", (alert_id,))
        return None if row is None else AlertRecord._from_row(row)

    async def open_alerts(self) -> list[AlertRecord]:
        """Alerts nobody has recorded an outcome for, oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM checkin_alerts WHERE outcome IS NULL ORDER BY id"
        )
        return [AlertRecord._from_row(row) for row in rows]

    async def escalated(self, alert_id: int, step: int) -> bool:
        """Record that escalation ``step`` was sent; False if it (or a later one) was."""
        async with self.db.writing() as tx:
            return (
                await tx.execute(
                    "UPDATE checkin_alerts SET escalation = ? WHERE id = ? AND escalation < ?"
                    " AND outcome IS NULL",
                    (step, alert_id, step),
                )
                == 1
            )

    async def close_alert(self, alert_id: int, outcome: str, by: int, now: datetime) -> bool:
        async with self.db.writing() as tx:
            return (
                await tx.execute(
                    "UPDATE checkin_alerts SET outcome = ?, outcome_by = ?, outcome_at = ?"
                    " WHERE id = ? AND outcome IS NULL",
                    (outcome, by, to_db(now), alert_id),
                )
                == 1
            )

    async def alert_counts(
        self, start: datetime, end: datetime, grids: Sequence[str] | None = None
    ) -> tuple[int, int]:
        """(alerts raised in ``[start, end)``, alerts still open now); of the enrolments of
        ``grids`` only when given (one community's, issue #15)."""
        where = ""
        params: tuple[str, ...] = ()
        if grids is not None and not grids:
            where = " WHERE 1 = 0"  # a community without grids (PostgreSQL refuses IN ())
        elif grids is not None:
            marks = ", ".join("?" for _ in grids)
            where = (
                " WHERE enrolment_id IN"
                f" (SELECT id FROM checkin_enrolments WHERE grid IN ({marks}))"
            )
            params = tuple(grids)
        row = await self.db.fetchone(
            "SELECT SUM(CASE WHEN raised_at >= ? AND raised_at < ? THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN outcome IS NULL THEN 1 ELSE 0 END) FROM checkin_alerts{where}",
            (to_db(start), to_db(end), *params),
        )
        assert row is not None
        return int(row[0] or 0), int(row[1] or 0)
