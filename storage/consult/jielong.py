"""接龙 sign-up lists (issue #6): the list and its entries, one row per tap in tap order.

An entry's building-unit comes from the registry in the same query (the person's first
verified household), so re-rendering a 30-entry list after each tap is one statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.clock import from_db, from_db_or_none, to_db
from storage.db import Database, Row

_ENTRY_SQL = (
    "SELECT e.id, e.user_id, e.name, e.joined_at, ("
    " SELECT b.name || '-' || u.name FROM person_households ph"
    " JOIN households h ON h.id = ph.household_id JOIN units u ON u.id = h.unit_id"
    " JOIN buildings b ON b.id = u.building_id"
    " WHERE ph.user_id = e.user_id AND ph.state = 'verified'"
    " ORDER BY ph.verified_at, h.id LIMIT 1) AS place"
    " FROM jielong_entries e WHERE e.jielong_id = ? ORDER BY e.id"
)


@dataclass(frozen=True)
class JielongRecord:
    id: int
    chat_id: int
    topic: str
    cap: int | None
    deadline: datetime | None
    starter_id: int
    created_at: datetime
    closed_at: datetime | None
    closed_by: int | None

    @classmethod
    def _from_row(cls, row: Row) -> JielongRecord:
        return cls(
            id=row["id"],
            chat_id=row["chat_id"],
            topic=row["topic"],
            cap=row["cap"],
            deadline=from_db_or_none(row["deadline"]),
            starter_id=row["starter_id"],
            created_at=from_db(row["created_at"]),
            closed_at=from_db_or_none(row["closed_at"]),
            closed_by=row["closed_by"],
        )


@dataclass(frozen=True)
class EntryRecord:
    id: int
    user_id: int
    name: str
    joined_at: datetime
    place: str | None  # building-unit of a verified household, e.g. "3-2"


class JielongRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        chat_id: int,
        topic: str,
        cap: int | None,
        deadline: datetime | None,
        starter_id: int,
        now: datetime,
    ) -> int:
        async with self.db.writing() as tx:
            return await tx.insert(
                "INSERT INTO jielongs (chat_id, topic, cap, deadline, starter_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    chat_id,
                    topic,
                    cap,
                    None if deadline is None else to_db(deadline),
                    starter_id,
                    to_db(now),
                ),
            )

    async def get(self, jielong_id: int) -> JielongRecord | None:
        row = await self.db.fetchone("SELECT * FROM jielongs WHERE id = ?", (jielong_id,))
        return None if row is None else JielongRecord._from_row(row)

    async def entries(self, jielong_id: int) -> list[EntryRecord]:
        rows = await self.db.fetchall(_ENTRY_SQL, (jielong_id,))
        return [
            EntryRecord(r["id"], r["user_id"], r["name"], from_db(r["joined_at"]), r["place"])
            for r in rows
        ]

    async def count(self, jielong_id: int) -> int:
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM jielong_entries WHERE jielong_id = ?", (jielong_id,)
        )
        return int(row[0]) if row else 0

    async def add_entry(self, jielong_id: int, user_id: int, name: str, now: datetime) -> bool:
        """Append a tap; False if this person is on the list already."""
        async with self.db.writing() as tx:
            return (
                await tx.execute(
                    "INSERT INTO jielong_entries (jielong_id, user_id, name, joined_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (jielong_id, user_id) DO NOTHING",
                    (jielong_id, user_id, name, to_db(now)),
                )
                == 1
            )

    async def remove_entry(self, jielong_id: int, user_id: int) -> bool:
        async with self.db.writing() as tx:
            return (
                await tx.execute(
                    "DELETE FROM jielong_entries WHERE jielong_id = ? AND user_id = ?",
                    (jielong_id, user_id),
                )
                == 1
            )

    async def close(self, jielong_id: int, by: int | None, now: datetime) -> bool:
        """Close an open list; False if it was closed already."""
        async with self.db.writing() as tx:
            return (
                await tx.execute(
                    "UPDATE jielongs SET closed_at = ?, closed_by = ?"
                    " WHERE id = ? AND closed_at IS NULL",
                    (to_db(now), by, jielong_id),
                )
                == 1
            )

    async def due_deadlines(self, now: datetime) -> list[JielongRecord]:
        """Open lists whose deadline has passed."""
        rows = await self.db.fetchall(
            "SELECT * FROM jielongs WHERE closed_at IS NULL AND deadline IS NOT NULL"
            " AND deadline <= ? ORDER BY deadline, id",
            (to_db(now),),
        )
        return [JielongRecord._from_row(r) for r in rows]

    async def open_without(self, user_id: int) -> list[JielongRecord]:
        """Open 接龙 this user has not joined, oldest first (their /todo, issue #18 item 5)."""
        rows = await self.db.fetchall(
            "SELECT * FROM jielongs j WHERE j.closed_at IS NULL AND NOT EXISTS"
            " (SELECT 1 FROM jielong_entries e WHERE e.jielong_id = j.id AND e.user_id = ?)"
            " ORDER BY j.id",
            (user_id,),
        )
        return [JielongRecord._from_row(r) for r in rows]
