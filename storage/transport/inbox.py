"""Inbox: raw updates, stored before Telegram is told they arrived."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage import jsontext
from storage.clock import from_db, from_db_or_none, to_db
from storage.db import Database, Row, placeholders

# Rows per multi-row INSERT: 4 parameters each, far below SQLite's parameter cap.
_ROWS_PER_INSERT = 100


@dataclass(frozen=True)
class InboxRow:
    update_id: int
    raw: str
    attempts: int

    @classmethod
    def _from_row(cls, row: Row) -> InboxRow:
        return cls(update_id=row["update_id"], raw=row["raw"], attempts=row["attempts"])


@dataclass(frozen=True)
class DeadUpdate:
    update_id: int
    received_at: datetime
    finished_at: datetime | None
    attempts: int
    error: str


def bot_key(token: str) -> str:
    """The key a bot's rows carry (migration 0025): the bot's id, the part of its token
    before ':' (the same on every machine serving that bot, and not the secret half)."""
    return token.split(":", 1)[0]


def bot_filter(bot: str | None) -> tuple[str, tuple[str, ...]]:
    """What a repository of ``bot`` appends to its WHERE clauses, and its parameters: only
    that bot's rows, or every bot's when None (tests and tools that look at all of them)."""
    return ("", ()) if bot is None else (" AND bot = ?", (bot,))


class InboxRepo:
    """The inbox of one bot (``bot``: its key, migration 0025), or of every bot on the
    database when ``bot`` is None (tests and tools that look at all of it; rows it stores
    belong to no bot yet, '')."""

    def __init__(self, db: Database, bot: str | None = None) -> None:
        self.db = db
        self.bot = bot
        self._only, self._mine = bot_filter(bot)

    async def store(self, updates: Sequence[dict[str, Any]], now: datetime) -> int:
        """Commit raw updates (ignoring ids already stored); return how many were new."""
        if not updates:
            return 0
        stamp = to_db(now)
        async with self.db.writing() as tx:
            return await tx.executemany(
                "INSERT INTO inbox (bot, update_id, raw, received_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (bot, update_id) DO NOTHING",
                [(self.bot or "", int(u["update_id"]), jsontext.dumps(u), stamp) for u in updates],
            )

    async def store_new(self, updates: Sequence[dict[str, Any]], now: datetime) -> set[int]:
        """Store raw updates in the caller's transaction; return the ids that were new.

        Telegram sends an update again when its confirmation was lost, so an id already stored
        (and handled, or waiting) is skipped. RETURNING names the rows really inserted, in the
        same round trip as the insert.
        """
        stamp = to_db(now)
        new: set[int] = set()
        async with self.db.writing() as tx:
            for at in range(0, len(updates), _ROWS_PER_INSERT):
                chunk = updates[at : at + _ROWS_PER_INSERT]
                rows = await tx.fetchall(
                    "INSERT INTO inbox (bot, update_id, raw, received_at) VALUES "
                    + ", ".join("(?, ?, ?, ?)" for _ in chunk)
                    + " ON CONFLICT (bot, update_id) DO NOTHING RETURNING update_id",
                    [
                        value
                        for u in chunk
                        for value in (
                            self.bot or "",
                            int(u["update_id"]),
                            jsontext.dumps(u),
                            stamp,
                        )
                    ],
                )
                new.update(int(row[0]) for row in rows)
        return new

    async def pending(self, limit: int = 500, after: int = -1) -> list[InboxRow]:
        rows = await self.db.fetchall(
            "SELECT update_id, raw, attempts FROM inbox"
            f" WHERE state = 'pending'{self._only} AND update_id > ? ORDER BY update_id LIMIT ?",
            (*self._mine, after, limit),
        )
        return [InboxRow._from_row(row) for row in rows]

    async def last_update_id(self) -> int | None:
        row = await self.db.fetchone(
            f"SELECT MAX(update_id) FROM inbox WHERE true{self._only}", self._mine
        )
        return None if row is None or row[0] is None else int(row[0])

    async def mark_done(self, update_ids: Sequence[int], now: datetime) -> int:
        """Mark these pending updates done in the caller's transaction; return how many."""
        if not update_ids:
            return 0
        async with self.db.writing() as tx:
            return await tx.execute(
                "UPDATE inbox SET state = 'done', finished_at = ?"
                f" WHERE state = 'pending'{self._only}"
                f" AND update_id IN ({placeholders(len(update_ids))})",
                (to_db(now), *self._mine, *update_ids),
            )

    async def record_failure(
        self, update_id: int, error: str, max_attempts: int, now: datetime
    ) -> bool:
        """Count a failed dispatch; dead-letter at ``max_attempts``. Return True if now dead."""
        async with self.db.writing() as tx:
            await tx.execute(
                "UPDATE inbox SET attempts = attempts + 1, error = ?,"
                " state = CASE WHEN attempts + 1 >= ? THEN 'dead' ELSE state END,"
                " finished_at = CASE WHEN attempts + 1 >= ? THEN ? ELSE finished_at END"
                f" WHERE update_id = ? AND state = 'pending'{self._only}",
                (error, max_attempts, max_attempts, to_db(now), update_id, *self._mine),
            )
            row = await tx.fetchone(
                f"SELECT state FROM inbox WHERE update_id = ?{self._only}",
                (update_id, *self._mine),
            )
        return row is not None and row["state"] == "dead"

    async def mark_dead(self, update_id: int, error: str, now: datetime) -> None:
        async with self.db.writing() as tx:
            await tx.execute(
                "UPDATE inbox SET state = 'dead', error = ?, finished_at = ?"
                f" WHERE update_id = ?{self._only}",
                (error, to_db(now), update_id, *self._mine),
            )

    async def counts(self) -> dict[str, int]:
        rows = await self.db.fetchall(
            f"SELECT state, COUNT(*) FROM inbox WHERE true{self._only} GROUP BY state", self._mine
        )
        return {row[0]: int(row[1]) for row in rows}

    async def dead(self) -> list[DeadUpdate]:
        rows = await self.db.fetchall(
            "SELECT update_id, received_at, finished_at, attempts, error FROM inbox"
            f" WHERE state = 'dead'{self._only} ORDER BY update_id",
            self._mine,
        )
        return [
            DeadUpdate(int(r[0]), from_db(r[1]), from_db_or_none(r[2]), int(r[3]), str(r[4] or ""))
            for r in rows
        ]

    async def retry(self, update_id: int) -> bool:
        """Put a dead update back in the queue with fresh attempts; False if it is not dead.

        It then runs like a live one: in one transaction with its effects and its done mark."""
        async with self.db.writing() as tx:
            return (
                await tx.execute(
                    "UPDATE inbox SET state = 'pending', attempts = 0, finished_at = NULL"
                    f" WHERE update_id = ? AND state = 'dead'{self._only}",
                    (update_id, *self._mine),
                )
                == 1
            )

    async def drop(self, update_id: int, now: datetime) -> bool:
        """Give up on a dead update for good (kept as done, with its error, for the record)."""
        async with self.db.writing() as tx:
            return (
                await tx.execute(
                    "UPDATE inbox SET state = 'done', finished_at = ?,"
                    " error = COALESCE(error, '') || ' [dropped]'"
                    f" WHERE update_id = ? AND state = 'dead'{self._only}",
                    (to_db(now), update_id, *self._mine),
                )
                == 1
            )


async def adopt_unowned(db: Database, bot: str) -> None:
    """Give ``bot`` the rows written before bots had keys (migration 0025: '') and those
    queued by a repository of no bot. A database from before 0025 had one bot, this one."""
    async with db.writing() as tx:
        await tx.execute(
            "UPDATE inbox SET bot = ? WHERE bot = ''"
            " AND update_id NOT IN (SELECT update_id FROM inbox WHERE bot = ?)",
            (bot, bot),
        )
        await tx.execute("UPDATE outbox SET bot = ? WHERE bot = ''", (bot,))
        await tx.execute(
            "UPDATE schedule_runs SET bot = ? WHERE bot = ''"
            " AND key NOT IN (SELECT key FROM schedule_runs WHERE bot = ?)",
            (bot, bot),
        )
        await tx.execute(
            "UPDATE schedule_bot_clock SET bot = ? WHERE bot = ''"
            " AND NOT EXISTS (SELECT 1 FROM schedule_bot_clock WHERE bot = ?)",
            (bot, bot),
        )
        await tx.execute(
            "UPDATE unreachable_chats SET bot = ? WHERE bot = ''"
            " AND chat_id NOT IN (SELECT chat_id FROM unreachable_chats WHERE bot = ?)",
            (bot, bot),
        )
