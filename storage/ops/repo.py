"""What an operator inspects and repairs: queue sizes, dead letters, unreachable chats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.clock import from_db, from_db_or_none
from storage.db import Database
from storage.schedule.runs import ScheduleRepo
from storage.transport.inbox import DeadUpdate, InboxRepo, bot_filter
from storage.transport.outbox import OutboxRepo


@dataclass(frozen=True)
class Backlog:
    chat_id: int
    pending: int
    oldest: datetime


@dataclass(frozen=True)
class QueueState:
    inbox: dict[str, int]  # by state: pending / done / dead
    outbox: dict[str, int]  # by state: pending / sent / dead / unreachable
    oldest_pending: datetime | None  # the outbox row waiting longest
    unreachable_chats: int


__all__ = ["Backlog", "DeadUpdate", "OpsRepo", "QueueState"]


class OpsRepo:
    """What one bot's operator sees (``bot``: its key, migration 0025), or every bot on the
    database when None. Bots sharing a PostgreSQL database each have their own queues, and
    update ids are numbered per bot, so ``dead retry N`` must name the bot's own row."""

    def __init__(self, db: Database, bot: str | None = None) -> None:
        self.db = db
        self.bot = bot
        self.inbox = InboxRepo(db, bot)
        self.outbox = OutboxRepo(db, bot)
        self._only, self._mine = bot_filter(bot)

    async def queues(self) -> QueueState:
        oldest = await self.db.fetchone(
            f"SELECT MIN(created_at) FROM outbox WHERE state = 'pending'{self._only}", self._mine
        )
        unreachable = await self.db.fetchone(
            f"SELECT COUNT(*) FROM unreachable_chats WHERE true{self._only}", self._mine
        )
        return QueueState(
            inbox=await self.inbox.counts(),
            outbox=await self.outbox.counts(),
            oldest_pending=from_db_or_none(oldest[0] if oldest else None),
            unreachable_chats=int(unreachable[0]) if unreachable else 0,
        )

    async def backlog_by_chat(self, limit: int = 10) -> list[Backlog]:
        rows = await self.db.fetchall(
            "SELECT chat_id, COUNT(*), MIN(created_at) FROM outbox WHERE state = 'pending'"
            f"{self._only} GROUP BY chat_id ORDER BY COUNT(*) DESC, chat_id LIMIT ?",
            (*self._mine, limit),
        )
        return [Backlog(int(r[0]), int(r[1]), from_db(r[2])) for r in rows]

    async def last_sweep(self) -> datetime | None:
        """How far the schedule sweep has got: this bot's, or the latest of any bot's."""
        return await ScheduleRepo(self.db, self.bot).swept_to()
