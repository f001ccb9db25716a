"""Sent marks written the moment Telegram answers, in a small file of their own.

Why a second file (issue #13 item 1): the outbox's "sent" mark used to wait in memory and
then behind intake's group commit, which holds the database's one write lock for a whole
batch of updates; a SIGKILL lost the marks of messages delivered up to a second earlier, and
those were sent again (52 in 20 kills). SQLite has one writer per file, so a second
connection to the same file would wait for that lock too. Here each delivery is one
autocommitted INSERT on a connection nobody else writes to, so nothing queues in front of it.

The outbox table stays the source of truth: the sender folds these marks into it in batches
(``OutboxRepo.mark_sent_many``), then forgets them here; on start it folds whatever a crash
left behind before sending anything. Folding twice is harmless (same row, same message id).

Deliveries that finish while a mark is being written are written together next, in one
transaction (a group commit): one hop to aiosqlite's thread costs some 200 µs of CPU, a
hundred times the INSERT, and with eight sends in flight a hop per delivery was a fifth of the
bot's CPU under load (issue #15 item 6). Each caller still returns only once its own mark is
written, so a crash repeats at most the sends in flight, as before.

``synchronous=NORMAL``: in WAL mode a commit survives the process being killed, only a power
cut can lose the last marks, and a lost mark means a repeated message, never a lost one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import aiosqlite

from storage.db import Database, placeholders

Mark = tuple[int, int | None, int]  # (outbox id, Telegram message_id, revision)


class SentLog:
    """Marks of delivered outbox rows not yet folded into the outbox table."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._waiting: list[Mark] = []  # marks for the next write
        self._written: asyncio.Future[None] | None = None  # resolved when they are written
        self._writer: asyncio.Task[None] | None = None

    @staticmethod
    def path_for(db: Database) -> Path:
        return db.path.with_name(db.path.name + "-sent")

    @classmethod
    async def open(cls, db: Database) -> SentLog:
        if getattr(db, "backend", "sqlite") == "postgresql":
            # PostgreSQL has no single writer to wait behind: the marks are a table there.
            from storage.backends.sent_log import PgSentLog

            return await PgSentLog.open(db)
        conn = await aiosqlite.connect(cls.path_for(db), isolation_level=None)
        try:
            for statement in (
                "PRAGMA journal_mode=WAL",
                "PRAGMA synchronous=NORMAL",
                "CREATE TABLE IF NOT EXISTS sent_marks (outbox_id INTEGER PRIMARY KEY,"
                " message_id INTEGER, revision INTEGER NOT NULL)",
            ):
                await conn.execute(statement)
        except BaseException:
            await conn.close()
            raise
        return cls(conn)

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
        await self._conn.close()

    async def record(self, row_id: int, message_id: int | None, revision: int) -> None:
        """Write one mark now and return once it is written; marks recorded while another
        write is under way go together in the next one."""
        if self._written is None:
            self._written = asyncio.get_running_loop().create_future()
        written = self._written
        self._waiting.append((row_id, message_id, revision))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_waiting(), name="sent-log")
        await asyncio.shield(written)  # a cancelled caller leaves the others' write alone

    async def _write_waiting(self) -> None:
        while self._waiting:
            marks, written = self._waiting, self._written
            self._waiting, self._written = [], None
            assert written is not None
            try:
                await self._insert(marks)
            except Exception as exc:
                written.set_exception(exc)
            else:
                written.set_result(None)

    async def _insert(self, marks: list[Mark]) -> None:
        """Write ``marks`` as one transaction in one hop to the connection's thread: one WAL
        append for the batch, where autocommitted rows made one each (a write system call
        per delivery)."""
        conn = self._conn._conn  # the sqlite3 connection, used in aiosqlite's thread only

        def write() -> None:
            conn.execute("BEGIN")
            try:
                conn.executemany(
                    "INSERT OR REPLACE INTO sent_marks (outbox_id, message_id, revision)"
                    " VALUES (?, ?, ?)",
                    marks,
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

        await self._conn._execute(write)  # type: ignore[no-untyped-call]

    async def marks(self) -> list[Mark]:
        rows = await self._conn.execute_fetchall(
            "SELECT outbox_id, message_id, revision FROM sent_marks ORDER BY outbox_id"
        )
        return [(int(row[0]), row[1], int(row[2])) for row in rows]

    async def forget(self, row_ids: Sequence[int]) -> None:
        """Drop marks the outbox table holds now."""
        if row_ids:
            await self._conn.execute_fetchall(
                f"DELETE FROM sent_marks WHERE outbox_id IN ({placeholders(len(row_ids))})",
                tuple(row_ids),
            )
