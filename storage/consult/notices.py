"""Notices that need 收到 (issue #6): the notice, who acknowledged it, who was reminded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.clock import from_db, to_db
from storage.db import Database


@dataclass(frozen=True)
class NoticeRecord:
    id: int
    chat_id: int
    grid: str
    author: int
    body: str
    created_at: datetime


@dataclass(frozen=True)
class RoomRow:
    id: int
    building: str
    unit: str
    room: str


class NoticeRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, chat_id: int, grid: str, author: int, body: str, now: datetime) -> int:
        async with self.db.writing() as tx:
            return await tx.insert(
                "INSERT INTO notices (chat_id, grid, author, body, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (chat_id, grid, author, body, to_db(now)),
            )

    async def get(self, notice_id: int) -> NoticeRecord | None:
        r = await self.db.fetchone("SELECT * FROM notices WHERE id = ?", (notice_id,))
        if r is None:
            return None
        return NoticeRecord(
            r["id"], r["chat_id"], r["grid"], r["author"], r["body"], from_db(r["created_at"])
        )

    async def ack(
        self, notice_id: int, user_id: int, households: Sequence[int], now: datetime
    ) -> bool:
        """Record 收到 for ``households`` (none: the user alone); False if nothing was new."""
        added = 0
        async with self.db.writing() as tx:
            for household in households or (0,):
                added += await tx.execute(
                    "INSERT INTO notice_acks (notice_id, user_id, household_id, at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (notice_id, user_id, household, to_db(now)),
                )
        return added > 0

    async def acks(self, notice_id: int) -> list[tuple[int, int]]:
        """(user_id, household_id) of every acknowledgement (household 0: by user only)."""
        rows = await self.db.fetchall(
            "SELECT user_id, household_id FROM notice_acks WHERE notice_id = ?", (notice_id,)
        )
        return [(int(r[0]), int(r[1])) for r in rows]

    async def rooms(self, grid: str) -> list[RoomRow]:
        """The grid's households ('' = the whole community)."""
        rows = await self.db.fetchall(
            "SELECT h.id, b.name AS building, u.name AS unit, h.room FROM households h"
            " JOIN units u ON u.id = h.unit_id JOIN buildings b ON b.id = u.building_id"
            " WHERE ? = '' OR h.grid = ? ORDER BY h.id",
            (grid, grid),
        )
        return [RoomRow(r["id"], r["building"], r["unit"], r["room"]) for r in rows]

    async def verified_links(self) -> list[tuple[int, int]]:
        """(user_id, household_id) of every verified resident, whatever the relation."""
        rows = await self.db.fetchall(
            "SELECT user_id, household_id FROM person_households WHERE state = 'verified'"
        )
        return [(int(r[0]), int(r[1])) for r in rows]

    async def claim_reminder(self, notice_id: int, user_id: int, now: datetime) -> bool:
        async with self.db.writing() as tx:
            added = await tx.execute(
                "INSERT INTO notice_reminders (notice_id, user_id, sent_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (notice_id, user_id, to_db(now)),
            )
        return added == 1

    async def unacked_by(self, user_id: int, grids: Sequence[str]) -> list[NoticeRecord]:
        """Notices of ``grids`` (and community-wide ones) still waiting on this user, newest
        first: not acknowledged by them, and not every one of their verified households in
        the notice's grid acknowledged by someone else of the household (acks count by
        household, like the author's list)."""
        marks = ", ".join("?" for _ in grids)
        in_grids = f"n.grid = '' OR n.grid IN ({marks})" if grids else "n.grid = ''"
        homes = (
            "SELECT 1 FROM person_households p JOIN households h ON h.id = p.household_id"
            " WHERE p.user_id = ? AND p.state = 'verified' AND (n.grid = '' OR h.grid = n.grid)"
        )
        rows = await self.db.fetchall(
            f"SELECT n.* FROM notices n WHERE ({in_grids}) AND NOT EXISTS"
            " (SELECT 1 FROM notice_acks a WHERE a.notice_id = n.id AND a.user_id = ?)"
            f" AND (NOT EXISTS ({homes}) OR EXISTS ({homes} AND NOT EXISTS"
            " (SELECT 1 FROM notice_acks a"
            "  WHERE a.notice_id = n.id AND a.household_id = p.household_id)))"
            " ORDER BY n.id DESC",
            (*grids, user_id, user_id, user_id),
        )
        return [
            NoticeRecord(
                r["id"], r["chat_id"], r["grid"], r["author"], r["body"], from_db(r["created_at"])
            )
            for r in rows
        ]
