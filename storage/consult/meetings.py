"""Meetings (议事会 / 协商会, issue #6): the meeting, its agenda and groups, invitees and
attendance, suggestions, resolutions and objections. Rules live in ``bot.consult.meetings``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.clock import from_db, from_db_or_none, to_db
from storage.db import Database, Row, placeholders


@dataclass(frozen=True)
class MeetingRecord:
    id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    scope_kind: str
    scope_value: str
    convenor_id: int
    created_at: datetime
    closed_at: datetime | None
    publicity_until: datetime | None
    final_at: datetime | None

    @classmethod
    def _from_row(cls, row: Row) -> MeetingRecord:
        return cls(
            id=row["id"],
            title=row["title"],
            starts_at=from_db(row["starts_at"]),
            ends_at=from_db(row["ends_at"]),
            place=row["place"],
            scope_kind=row["scope_kind"],
            scope_value=row["scope_value"],
            convenor_id=row["convenor_id"],
            created_at=from_db(row["created_at"]),
            closed_at=from_db_or_none(row["closed_at"]),
            publicity_until=from_db_or_none(row["publicity_until"]),
            final_at=from_db_or_none(row["final_at"]),
        )


@dataclass(frozen=True)
class NewMeeting:
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    scope_kind: str
    scope_value: str
    agenda: tuple[str, ...]
    invited: tuple[int, ...]


@dataclass(frozen=True)
class PersonRecord:
    user_id: int
    name: str
    invited: bool
    signed_up_at: datetime | None
    signed_in_at: datetime | None


@dataclass(frozen=True)
class TextRecord:
    """A suggestion, resolution or objection."""

    id: int
    user_id: int | None
    name: str
    text: str
    created_at: datetime
    agenda_item: int | None = None
    via: str = ""


class MeetingRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, new: NewMeeting, convenor: int, now: datetime) -> int:
        async with self.db.writing() as tx:
            number = await tx.insert(
                "INSERT INTO meetings (title, starts_at, ends_at, place, scope_kind, scope_value,"
                " convenor_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.title,
                    to_db(new.starts_at),
                    to_db(new.ends_at),
                    new.place,
                    new.scope_kind,
                    new.scope_value,
                    convenor,
                    to_db(now),
                ),
            )
            await tx.executemany(
                "INSERT INTO meeting_agenda (meeting_id, position, text) VALUES (?, ?, ?)",
                [(number, i, text) for i, text in enumerate(new.agenda, 1)],
            )
            await tx.executemany(
                "INSERT INTO meeting_people (meeting_id, user_id, invited) VALUES (?, ?, 1)"
                " ON CONFLICT DO NOTHING",
                [(number, user) for user in new.invited],
            )
        return number

    async def get(self, meeting_id: int) -> MeetingRecord | None:
        row = await self.db.fetchone("SELECT * FROM meetings WHERE id = ?", (meeting_id,))
        return None if row is None else MeetingRecord._from_row(row)

    async def agenda(self, meeting_id: int) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT text FROM meeting_agenda WHERE meeting_id = ? ORDER BY position",
            (meeting_id,),
        )
        return [r["text"] for r in rows]

    async def add_chats(self, meeting_id: int, chats: Iterable[int]) -> None:
        async with self.db.writing() as tx:
            await tx.executemany(
                "INSERT INTO meeting_chats (meeting_id, chat_id) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                [(meeting_id, chat) for chat in chats],
            )

    async def chats(self, meeting_id: int) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT chat_id FROM meeting_chats WHERE meeting_id = ? ORDER BY chat_id",
            (meeting_id,),
        )
        return [int(r["chat_id"]) for r in rows]

    async def mark(
        self, meeting_id: int, user_id: int, name: str, column: str, now: datetime
    ) -> bool:
        """Set ``signed_up_at`` or ``signed_in_at`` once; False if it was set already."""
        assert column in ("signed_up_at", "signed_in_at")
        async with self.db.writing() as tx:
            await tx.execute(
                "INSERT INTO meeting_people (meeting_id, user_id, name) VALUES (?, ?, ?)"
                " ON CONFLICT DO UPDATE SET name = excluded.name",
                (meeting_id, user_id, name),
            )
            return (
                await tx.execute(
                    f"UPDATE meeting_people SET {column} = ?"
                    f" WHERE meeting_id = ? AND user_id = ? AND {column} IS NULL",
                    (to_db(now), meeting_id, user_id),
                )
                == 1
            )

    async def people(self, meeting_id: int) -> list[PersonRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM meeting_people WHERE meeting_id = ?"
            " ORDER BY COALESCE(signed_up_at, signed_in_at, ''), user_id",
            (meeting_id,),
        )
        return [
            PersonRecord(
                r["user_id"],
                r["name"],
                bool(r["invited"]),
                from_db_or_none(r["signed_up_at"]),
                from_db_or_none(r["signed_in_at"]),
            )
            for r in rows
        ]

    async def add_suggestion(
        self,
        meeting_id: int,
        user_id: int,
        name: str,
        item: int | None,
        text: str,
        via: str,
        now: datetime,
    ) -> int:
        async with self.db.writing() as tx:
            return await tx.insert(
                "INSERT INTO meeting_suggestions (meeting_id, user_id, name, agenda_item, text,"
                " via, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (meeting_id, user_id, name, item, text, via, to_db(now)),
            )

    async def suggestions(self, meeting_id: int) -> list[TextRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM meeting_suggestions WHERE meeting_id = ? ORDER BY id", (meeting_id,)
        )
        return [
            TextRecord(
                r["id"],
                r["user_id"],
                r["name"],
                r["text"],
                from_db(r["created_at"]),
                r["agenda_item"],
                r["via"],
            )
            for r in rows
        ]

    async def add_resolution(self, meeting_id: int, text: str, now: datetime) -> int:
        async with self.db.writing() as tx:
            return await tx.insert(
                "INSERT INTO meeting_resolutions (meeting_id, text, created_at) VALUES (?, ?, ?)",
                (meeting_id, text, to_db(now)),
            )

    async def resolutions(self, meeting_id: int) -> list[TextRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM meeting_resolutions WHERE meeting_id = ? ORDER BY id", (meeting_id,)
        )
        return [TextRecord(r["id"], None, "", r["text"], from_db(r["created_at"])) for r in rows]

    async def add_objection(
        self, meeting_id: int, user_id: int, name: str, text: str, now: datetime
    ) -> int:
        async with self.db.writing() as tx:
            return await tx.insert(
                "INSERT INTO meeting_objections (meeting_id, user_id, name, text, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (meeting_id, user_id, name, text, to_db(now)),
            )

    async def objections(self, meeting_id: int) -> list[TextRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM meeting_objections WHERE meeting_id = ? ORDER BY id", (meeting_id,)
        )
        return [
            TextRecord(r["id"], r["user_id"], r["name"], r["text"], from_db(r["created_at"]))
            for r in rows
        ]

    async def close(self, meeting_id: int, now: datetime, publicity_until: datetime) -> bool:
        """Minutes published: open the publicity window; False if closed before."""
        async with self.db.writing() as tx:
            return (
                await tx.execute(
                    "UPDATE meetings SET closed_at = ?, publicity_until = ?"
                    " WHERE id = ? AND closed_at IS NULL",
                    (to_db(now), to_db(publicity_until), meeting_id),
                )
                == 1
            )

    async def finalise(self, meeting_id: int, now: datetime) -> bool:
        async with self.db.writing() as tx:
            return (
                await tx.execute(
                    "UPDATE meetings SET final_at = ? WHERE id = ? AND final_at IS NULL"
                    " AND closed_at IS NOT NULL",
                    (to_db(now), meeting_id),
                )
                == 1
            )

    async def open_meetings(self) -> list[MeetingRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM meetings WHERE closed_at IS NULL ORDER BY starts_at, id"
        )
        return [MeetingRecord._from_row(r) for r in rows]

    async def publicity_over(self, now: datetime) -> list[MeetingRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM meetings WHERE closed_at IS NOT NULL AND final_at IS NULL"
            " AND publicity_until <= ? ORDER BY publicity_until, id",
            (to_db(now),),
        )
        return [MeetingRecord._from_row(r) for r in rows]

    async def homes_of(self, user_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        """Each user's verified household as (building, unit), the first one they verified
        (issue #13 item 16: the group's 意见清单 says where a suggestion comes from)."""
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        rows = await self.db.fetchall(
            "SELECT ph.user_id, b.name AS building, u.name AS unit FROM person_households ph"
            " JOIN households h ON h.id = ph.household_id JOIN units u ON u.id = h.unit_id"
            " JOIN buildings b ON b.id = u.building_id"
            f" WHERE ph.state = 'verified' AND ph.user_id IN ({placeholders(len(wanted))})"
            " ORDER BY ph.verified_at DESC, h.id DESC",
            wanted,
        )  # newest first, so the first verified is the one the dict keeps
        return {int(r["user_id"]): (r["building"], r["unit"]) for r in rows}

    # -- where a meeting is announced ----------------------------------------------------------

    async def grids_of_place(self, building: str, unit: str | None) -> set[str]:
        """The grids of the registry's households in a building (or one of its units)."""
        sql = (
            "SELECT DISTINCT h.grid FROM households h JOIN units u ON u.id = h.unit_id"
            " JOIN buildings b ON b.id = u.building_id WHERE b.name = ?"
        )
        params: Sequence[str] = (building,)
        if unit is not None:
            sql += " AND u.name = ?"
            params = (building, unit)
        return {r["grid"] for r in await self.db.fetchall(sql, params)}

    async def signed_up_ahead(self, user_id: int, now: datetime) -> list[MeetingRecord]:
        """Meetings this user signed up for and has not signed in to, that have not ended,
        soonest first (issue #18 item 5)."""
        rows = await self.db.fetchall(
            "SELECT m.* FROM meetings m JOIN meeting_people p ON p.meeting_id = m.id"
            " WHERE p.user_id = ? AND p.signed_up_at IS NOT NULL AND p.signed_in_at IS NULL"
            " AND m.closed_at IS NULL"
            " AND m.ends_at > ? ORDER BY m.starts_at, m.id",
            (user_id, to_db(now)),
        )
        return [MeetingRecord._from_row(r) for r in rows]
