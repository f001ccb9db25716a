"""Votes repository (issue #6): decisions, their frozen electorate, the ballot audit trail,
reminders, and native poll answers. The rules live in ``bot.votes.rules``/``votes``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.clock import from_db, from_db_or_none, to_db
from storage.db import Database, Row, placeholders


@dataclass(frozen=True)
class VoteRecord:
    id: int
    kind: str
    matter: str | None
    scope: str
    title: str
    chat_id: int
    grid: str
    created_by: int
    created_at: datetime
    deadline: datetime | None
    state: str
    eligible: int | None
    present: int | None
    yes: int | None
    options: tuple[str, ...]
    anonymous: bool
    question: str | None
    poll_id: str | None

    @classmethod
    def _from_row(cls, row: Row) -> VoteRecord:
        deadline = row["deadline"]
        return cls(
            id=row["id"],
            kind=row["kind"],
            matter=row["matter"],
            scope=row["scope"],
            title=row["title"],
            chat_id=row["chat_id"],
            grid=row["grid"],
            created_by=row["created_by"],
            created_at=from_db(row["created_at"]),
            deadline=from_db_or_none(deadline),
            state=row["state"],
            eligible=row["eligible"],
            present=row["present"],
            yes=row["yes"],
            options=tuple(json.loads(row["options"])),
            anonymous=bool(row["anonymous"]),
            question=row["question"],
            poll_id=row["poll_id"],
        )


@dataclass(frozen=True)
class NewVote:
    kind: str
    title: str
    chat_id: int
    grid: str
    created_by: int
    deadline: datetime | None
    matter: str | None = None
    scope: str = ""
    options: tuple[str, ...] = ()
    anonymous: bool = True
    question: str | None = None


@dataclass(frozen=True)
class ElectorRow:
    elector: int
    area_centi: int
    rooms: str
    user_ids: tuple[int, ...]


@dataclass(frozen=True)
class BallotRow:
    elector: int
    user_id: int
    choice: str
    cast_at: datetime


@dataclass(frozen=True)
class ScopeHousehold:
    id: int
    building: str
    unit: str
    room: str
    area_centi: int
    owner_key: str = ""  # 业主编号 from the household sheet, '' if not given


class VoteRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, new: NewVote, electors: Sequence[ElectorRow], now: datetime) -> int:
        async with self.db.writing() as tx:
            vote_id = await tx.insert(
                "INSERT INTO votes (kind, matter, scope, title, chat_id, grid, created_by,"
                " created_at, deadline, options, anonymous, question)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.kind,
                    new.matter,
                    new.scope,
                    new.title,
                    new.chat_id,
                    new.grid,
                    new.created_by,
                    to_db(now),
                    None if new.deadline is None else to_db(new.deadline),
                    json.dumps(new.options, ensure_ascii=False),
                    int(new.anonymous),
                    new.question,
                ),
            )
            for e in electors:
                await tx.execute(
                    "INSERT INTO vote_electors (vote_id, elector, area_centi, rooms)"
                    " VALUES (?, ?, ?, ?)",
                    (vote_id, e.elector, e.area_centi, e.rooms),
                )
                await tx.executemany(
                    "INSERT INTO vote_elector_users (vote_id, elector, user_id) VALUES (?, ?, ?)",
                    [(vote_id, e.elector, user) for user in e.user_ids],
                )
        return vote_id

    async def get(self, vote_id: int) -> VoteRecord | None:
        row = await self.db.fetchone("SELECT * FROM votes WHERE id = ?", (vote_id,))
        return None if row is None else VoteRecord._from_row(row)

    async def started_in(
        self, chats: Sequence[int], start: datetime, end: datetime
    ) -> list[VoteRecord]:
        """Votes started in these chats in ``[start, end]`` (a meeting's: its minutes)."""
        if not chats:
            return []
        rows = await self.db.fetchall(
            f"SELECT * FROM votes WHERE chat_id IN ({placeholders(len(chats))})"
            " AND created_at >= ? AND created_at <= ? ORDER BY id",
            (*chats, to_db(start), to_db(end)),
        )
        return [VoteRecord._from_row(row) for row in rows]

    async def by_poll(self, poll_id: str) -> VoteRecord | None:
        row = await self.db.fetchone("SELECT * FROM votes WHERE poll_id = ?", (poll_id,))
        return None if row is None else VoteRecord._from_row(row)

    async def unbound_poll(self, question: str) -> VoteRecord | None:
        """The open advisory vote whose poll asks exactly ``question`` and has no poll id yet."""
        row = await self.db.fetchone(
            "SELECT * FROM votes WHERE kind = 'advisory' AND poll_id IS NULL AND question = ?"
            " ORDER BY id DESC LIMIT 1",
            (question,),
        )
        return None if row is None else VoteRecord._from_row(row)

    async def set_question(self, vote_id: int, question: str) -> None:
        async with self.db.writing() as tx:
            await tx.execute("UPDATE votes SET question = ? WHERE id = ?", (question, vote_id))

    async def bind_poll(self, vote_id: int, poll_id: str) -> None:
        async with self.db.writing() as tx:
            await tx.execute("UPDATE votes SET poll_id = ? WHERE id = ?", (poll_id, vote_id))

    async def due(self, now: datetime) -> list[VoteRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM votes WHERE state = 'open' AND deadline IS NOT NULL AND deadline <= ?"
            " ORDER BY deadline, id",
            (to_db(now),),
        )
        return [VoteRecord._from_row(r) for r in rows]

    async def open_owner_votes(self) -> list[VoteRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM votes WHERE state = 'open' AND kind = 'owners' ORDER BY id"
        )
        return [VoteRecord._from_row(r) for r in rows]

    async def close(self, vote_id: int, now: datetime) -> bool:
        """Close an open vote; False if it was closed already (then do nothing)."""
        async with self.db.writing() as tx:
            changed = await tx.execute(
                "UPDATE votes SET state = 'closed', closed_at = ? WHERE id = ? AND state = 'open'",
                (to_db(now), vote_id),
            )
        return changed == 1

    async def set_counts(self, vote_id: int, column: str, value: int) -> None:
        if column not in ("eligible", "present", "yes"):
            raise ValueError(column)
        async with self.db.writing() as tx:
            await tx.execute(f"UPDATE votes SET {column} = ? WHERE id = ?", (value, vote_id))

    # -- electorate and ballots ----------------------------------------------------------------

    async def electors(self, vote_id: int) -> list[ElectorRow]:
        rows = await self.db.fetchall(
            "SELECT e.elector, e.area_centi, e.rooms, group_concat(u.user_id) AS users"
            " FROM vote_electors e LEFT JOIN vote_elector_users u"
            " ON u.vote_id = e.vote_id AND u.elector = e.elector"
            " WHERE e.vote_id = ? GROUP BY e.elector, e.area_centi, e.rooms ORDER BY e.elector",
            (vote_id,),
        )
        return [
            ElectorRow(
                r["elector"],
                r["area_centi"],
                r["rooms"],
                tuple(int(u) for u in (r["users"] or "").split(",") if u),
            )
            for r in rows
        ]

    async def elector_of(self, vote_id: int, user_id: int) -> int | None:
        row = await self.db.fetchone(
            "SELECT elector FROM vote_elector_users WHERE vote_id = ? AND user_id = ?",
            (vote_id, user_id),
        )
        return None if row is None else int(row["elector"])

    async def cast(
        self, vote_id: int, elector: int, user_id: int, choice: str, now: datetime
    ) -> None:
        async with self.db.writing() as tx:
            await tx.execute(
                "INSERT INTO vote_ballots (vote_id, elector, user_id, choice, cast_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (vote_id, elector, user_id, choice, to_db(now)),
            )

    async def ballots(self, vote_id: int) -> list[BallotRow]:
        """Every ballot, oldest first (the audit trail; the newest per elector counts)."""
        rows = await self.db.fetchall(
            "SELECT * FROM vote_ballots WHERE vote_id = ? ORDER BY id", (vote_id,)
        )
        return [
            BallotRow(r["elector"], r["user_id"], r["choice"], from_db(r["cast_at"])) for r in rows
        ]

    async def claim_reminder(self, vote_id: int, user_id: int, now: datetime) -> bool:
        """Record the one reminder to ``user_id``; False if it was sent before."""
        async with self.db.writing() as tx:
            added = await tx.execute(
                "INSERT INTO vote_reminders (vote_id, user_id, sent_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (vote_id, user_id, to_db(now)),
            )
        return added == 1

    # -- registry look-ups for the electorate --------------------------------------------------

    async def scope_households(
        self,
        building: str | None,
        unit: str | None,
        grid: str | None = None,
        *,
        community: str | None = None,
    ) -> list[ScopeHousehold]:
        """The households of a building, a unit of it, a grid, or (all None) the community;
        of one ``community``'s buildings when given (issue #15)."""
        sql = (
            "SELECT h.id, b.name AS building, u.name AS unit, h.room, h.area_centi, h.owner_key"
            " FROM households h JOIN units u ON u.id = h.unit_id"
            " JOIN buildings b ON b.id = u.building_id"
            # CAST: PostgreSQL cannot tell a bare parameter's type from "? IS NULL".
            " WHERE (CAST(? AS TEXT) IS NULL OR b.name = ?)"
            " AND (CAST(? AS TEXT) IS NULL OR u.name = ?)"
            " AND (CAST(? AS TEXT) IS NULL OR h.grid = ?)"
            " AND (CAST(? AS TEXT) IS NULL OR b.community = ?) ORDER BY h.id"
        )
        params = (building, building, unit, unit, grid, grid, community, community)
        rows = await self.db.fetchall(sql, params)
        return [
            ScopeHousehold(
                r["id"], r["building"], r["unit"], r["room"], r["area_centi"], r["owner_key"]
            )
            for r in rows
        ]

    async def verified_owners(self) -> list[tuple[int, int]]:
        """(user_id, household_id) of every verified owner link."""
        rows = await self.db.fetchall(
            "SELECT user_id, household_id FROM person_households"
            " WHERE relation = 'owner' AND state = 'verified'"
        )
        return [(int(r["user_id"]), int(r["household_id"])) for r in rows]

    # -- native polls --------------------------------------------------------------------------

    async def record_poll_answer(
        self, poll_id: str, user_id: int, option_ids: Sequence[int], now: datetime
    ) -> None:
        async with self.db.writing() as tx:
            if option_ids:
                await tx.execute(
                    "INSERT INTO poll_answers (poll_id, user_id, option_ids, at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (poll_id, user_id) DO UPDATE SET"
                    " option_ids = excluded.option_ids, at = excluded.at",
                    (poll_id, user_id, json.dumps(list(option_ids)), to_db(now)),
                )
            else:  # a retracted vote
                await tx.execute(
                    "DELETE FROM poll_answers WHERE poll_id = ? AND user_id = ?",
                    (poll_id, user_id),
                )

    async def poll_answers(self, poll_id: str) -> list[tuple[int, tuple[int, ...]]]:
        rows = await self.db.fetchall(
            "SELECT user_id, option_ids FROM poll_answers WHERE poll_id = ? ORDER BY user_id",
            (poll_id,),
        )
        return [(int(r["user_id"]), tuple(json.loads(r["option_ids"]))) for r in rows]

    async def record_poll_state(
        self, poll_id: str, counts: Sequence[int], closed: bool, now: datetime
    ) -> None:
        async with self.db.writing() as tx:
            await tx.execute(
                "INSERT INTO poll_states (poll_id, counts, closed, at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (poll_id) DO UPDATE SET counts = excluded.counts,"
                " closed = excluded.closed, at = excluded.at",
                (poll_id, json.dumps(list(counts)), int(closed), to_db(now)),
            )

    async def poll_state(self, poll_id: str) -> tuple[int, ...] | None:
        row = await self.db.fetchone(
            "SELECT counts FROM poll_states WHERE poll_id = ?", (poll_id,)
        )
        return None if row is None else tuple(json.loads(row["counts"]))
