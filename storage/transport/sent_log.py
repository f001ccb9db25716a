"""Sent marks written the moment Telegram answers, in a small file of their own.

Why a second file (issue #13 item 1): the outbox's "sent" mark used to wait in memory and
then behind intake's group commit, which holds the database's one write lock for a whole
batch of updates; a SIGKILL lost the marks of messages delivered up to a second earlier, and
those were sent again (52 in 20 kills). SQLite has one writer per file, so a second
connection to the same file would wait for that lock too. Here marks are written on a
connection nobody else writes to, so nothing queues in front of them.

The outbox table stays the source of truth: the sender folds these marks into it in batches
(``OutboxRepo.mark_sent_many``), then forgets them here; on start it folds whatever a crash
left behind before sending anything. Folding twice is harmless (same row, same message id).

Marks are written on the event loop's thread, not in a worker thread (issue #15 item 6): the
sender's next message to a chat waits for the previous one's mark, and a hop to a worker
thread cost some 100 µs of CPU and, while the loop was busy with updates, milliseconds of
waiting for the GIL on every send. With ``synchronous=NORMAL`` a commit is a write to the WAL,
never an fsync. The one step that syncs, copying the WAL back into the file (a checkpoint), is
done by a second connection in its own thread after every CHECKPOINT_EVERY folds, never by a
commit on the loop (``wal_autocheckpoint=0`` on the first). Not after each fold: folds come
every 50 ms while messages flow, and each checkpoint's fsync is a flush of the disk that the
main database's commits then wait behind (issue #15 item 6); a fold adds a page or two.

Deliveries that finish in the same turn of the loop share one transaction (a group commit):
each caller still returns only once its own mark is in the file, so a crash repeats at most
the sends in flight, as before.

``synchronous=NORMAL``: in WAL mode a commit survives the process being killed, only a power
cut can lose the last marks, and a lost mark means a repeated message, never a lost one.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import aiosqlite

from storage.db import Database, placeholders

Mark = tuple[int, int | None, int]  # (outbox id, Telegram message_id, revision)

# A commit is a write to the WAL, and a checkpoint syncs the file (see the module docstring).
# The test suite sets OFF (tests/conftest.py), as for the database: it never cuts the power.
SYNCHRONOUS = "NORMAL"

# Folds between two checkpoints: at a fold every 50 ms, about one a second, with a WAL of
# some forty pages at most between them.
CHECKPOINT_EVERY = 20


class SentLog:
    """Marks of delivered outbox rows not yet folded into the outbox table."""

    def __init__(self, conn: sqlite3.Connection, checkpointer: aiosqlite.Connection) -> None:
        self._conn = conn  # used on the event loop's thread only
        self._checkpointer = checkpointer  # the WAL's checkpoints, in its own thread
        self._waiting: list[Mark] = []  # marks for the next write
        # One future per caller waiting for the next write, resolved once it is written: each
        # caller's own, so that a cancelled caller cancels only its wait, not the others'
        # (asyncio.shield of one shared future did that at one more turn of the loop per mark).
        self._written: list[asyncio.Future[None]] = []
        self._folds = 0  # since the last checkpoint

    @staticmethod
    def path_for(db: Database) -> Path:
        return db.path.with_name(db.path.name + "-sent")

    @classmethod
    async def open(cls, db: Database) -> SentLog:
        if db.backend == "postgresql":
            # PostgreSQL has no single writer to wait behind: the marks are a table there.
            from storage.backends.sent_log import PgSentLog

            return await PgSentLog.open(db)
        path = cls.path_for(db)
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            for statement in (
                f"PRAGMA synchronous={SYNCHRONOUS}",  # first: the switch to WAL writes too
                "PRAGMA journal_mode=WAL",
                "PRAGMA wal_autocheckpoint=0",
                "CREATE TABLE IF NOT EXISTS sent_marks (outbox_id INTEGER PRIMARY KEY,"
                " message_id INTEGER, revision INTEGER NOT NULL)",
            ):
                conn.execute(statement)
            checkpointer = await aiosqlite.connect(path, isolation_level=None)
            await checkpointer.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
        except BaseException:
            conn.close()
            raise
        return cls(conn, checkpointer)

    async def close(self) -> None:
        if self._waiting:
            self._write_waiting()
        await self._checkpoint()
        await self._checkpointer.close()
        self._conn.close()

    async def record(self, row_id: int, message_id: int | None, revision: int) -> None:
        """Write one mark and return once it is written; marks recorded in the same turn of
        the event loop are written together."""
        loop = asyncio.get_running_loop()
        if not self._written:
            loop.call_soon(self._write_waiting)
        written = loop.create_future()
        self._written.append(written)
        self._waiting.append((row_id, message_id, revision))
        await written  # cancelled: this caller stops waiting, its mark is written all the same

    def _write_waiting(self) -> None:
        marks, written = self._waiting, self._written
        self._waiting, self._written = [], []
        if not marks:
            return
        try:
            self._insert(marks)
        except Exception as exc:
            _settle(written, exc)
        except BaseException as exc:  # KeyboardInterrupt, SystemExit: none may wait forever
            _settle(written, RuntimeError(f"sent marks not written: {exc!r}"))
            raise
        else:
            _settle(written, None)

    def _insert(self, marks: list[Mark]) -> None:
        """Write ``marks`` as one transaction: one WAL append for the batch."""
        self._conn.execute("BEGIN")
        try:
            self._conn.executemany(
                "INSERT OR REPLACE INTO sent_marks (outbox_id, message_id, revision)"
                " VALUES (?, ?, ?)",
                marks,
            )
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    async def marks(self) -> list[Mark]:
        rows = self._conn.execute(
            "SELECT outbox_id, message_id, revision FROM sent_marks ORDER BY outbox_id"
        ).fetchall()
        return [(int(row[0]), row[1], int(row[2])) for row in rows]

    async def forget(self, row_ids: Sequence[int]) -> None:
        """Drop marks the outbox table holds now; every CHECKPOINT_EVERY folds, let the WAL be
        copied back."""
        if row_ids:
            self._conn.execute(
                f"DELETE FROM sent_marks WHERE outbox_id IN ({placeholders(len(row_ids))})",
                tuple(row_ids),
            )
            self._folds += 1
            if self._folds >= CHECKPOINT_EVERY:
                await self._checkpoint()

    async def _checkpoint(self) -> None:
        """Copy the WAL back into the file (PASSIVE: it never waits for, nor blocks, a
        writer), so the WAL restarts from its beginning instead of growing."""
        self._folds = 0
        await self._checkpointer.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")


def _settle(waiters: list[asyncio.Future[None]], error: BaseException | None) -> None:
    """Tell every caller still waiting for a write how it went."""
    for waiter in waiters:
        if waiter.done():  # its caller was cancelled
            continue
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)
