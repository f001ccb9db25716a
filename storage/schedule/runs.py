"""Schedule bookkeeping (issue #5): which due occurrences were dealt with, how far the last
sweep looked, and which calendar rules are paused. Check-ins live in ``storage.schedule.checkins``.

``record`` is the heart of "a restart never loses or repeats": an occurrence is claimed by
inserting its key, in the same transaction as the outbox rows it queues, so either both exist
or neither does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from storage.clock import from_db, to_db
from storage.db import Database, Row, placeholders
from storage.transport.inbox import bot_filter

KEYS_PER_QUERY: Final = 500
# The ``bot`` of work done once for all the bots of a database (the district's roll-up,
# issue #16): a bot's key is the number in its token, never this word.
DISTRICT_RUNS: Final = "district"


@dataclass(frozen=True)
class RunRecord:
    key: str
    kind: str
    due_at: datetime
    outcome: str
    recorded_at: datetime

    @classmethod
    def _from_row(cls, row: Row) -> RunRecord:
        return cls(
            key=row["key"],
            kind=row["kind"],
            due_at=from_db(row["due_at"]),
            outcome=row["outcome"],
            recorded_at=from_db(row["recorded_at"]),
        )


class ScheduleRepo:
    """``bot``: whose sweeps' records and clock (migration 0026); None: every bot's records
    and the database's last sweep (tests, gridbot status)."""

    def __init__(self, db: Database, bot: str | None = None) -> None:
        self.db = db
        self.bot = bot
        self._only, self._mine = bot_filter(bot)

    async def record(
        self, key: str, kind: str, due_at: datetime, outcome: str, now: datetime
    ) -> bool:
        """Claim an occurrence; False if it was recorded before (then do nothing)."""
        async with self.db.writing() as tx:
            return (
                await tx.execute(
                    "INSERT INTO schedule_runs (bot, key, kind, due_at, outcome, recorded_at)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (bot, key) DO NOTHING",
                    (self.bot or "", key, kind, to_db(due_at), outcome, to_db(now)),
                )
                == 1
            )

    async def recorded_among(self, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` recorded before (read in chunks: SQLite caps a statement's
        parameters)."""
        found: set[str] = set()
        for at in range(0, len(keys), KEYS_PER_QUERY):
            chunk = keys[at : at + KEYS_PER_QUERY]
            rows = await self.db.fetchall(
                f"SELECT key FROM schedule_runs WHERE key IN ({placeholders(len(chunk))})"
                + self._only,
                (*chunk, *self._mine),
            )
            found.update(row[0] for row in rows)
        return found

    async def recorded(self, key: str) -> bool:
        row = await self.db.fetchone(
            f"SELECT 1 FROM schedule_runs WHERE key = ?{self._only}", (key, *self._mine)
        )
        return row is not None

    async def runs(self, kind: str | None = None) -> list[RunRecord]:
        """Recorded occurrences, by due time (tests and the digest read them)."""
        sql = f"SELECT * FROM schedule_runs WHERE true{self._only}"
        params: tuple[str, ...] = self._mine
        if kind is not None:
            sql += " AND kind = ?"
            params = (*params, kind)
        rows = await self.db.fetchall(sql + " ORDER BY due_at, key", params)
        return [RunRecord._from_row(row) for row in rows]

    async def swept_to(self) -> datetime | None:
        if self.bot is None:
            row = await self.db.fetchone("SELECT swept_to FROM schedule_clock WHERE id = 1")
        else:
            row = await self.db.fetchone(
                "SELECT swept_to FROM schedule_bot_clock WHERE bot = ?", (self.bot,)
            )
        return None if row is None else from_db(row[0])

    async def set_swept_to(self, moment: datetime) -> None:
        async with self.db.writing() as tx:
            await tx.execute(
                "INSERT INTO schedule_bot_clock (bot, swept_to) VALUES (?, ?)"
                " ON CONFLICT (bot) DO UPDATE SET swept_to = excluded.swept_to",
                (self.bot or "", to_db(moment)),
            )
            await tx.execute(
                "INSERT INTO schedule_clock (id, swept_to) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET swept_to = excluded.swept_to",
                (to_db(moment),),
            )

    async def paused_rules(self) -> set[tuple[str, str]]:
        """(community, rule) of every paused rule (0022_rule_state_community)."""
        rows = await self.db.fetchall(
            "SELECT community, rule FROM schedule_rule_state WHERE paused = 1"
        )
        return {(row[0], row[1]) for row in rows}

    async def set_paused(
        self, rule: str, paused: bool, by: int, now: datetime, community: str = "default"
    ) -> None:
        async with self.db.writing() as tx:
            await tx.execute(
                "INSERT INTO schedule_rule_state (community, rule, paused, changed_by, changed_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (community, rule) DO UPDATE SET"
                " paused = excluded.paused, changed_by = excluded.changed_by,"
                " changed_at = excluded.changed_at",
                (community, rule, int(paused), by, to_db(now)),
            )
