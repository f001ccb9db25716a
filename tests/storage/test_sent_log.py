"""The sent log (storage/transport/sent_log.py): marks written while intake holds the writer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from storage.db import Database
from storage.transport.outbox import OutboxRepo
from storage.transport.sent_log import SentLog

NOW = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)


async def test_a_mark_is_written_while_a_write_transaction_holds_the_database(
    tmp_path: Path,
) -> None:
    """Intake's group commit holds the one write lock for a whole batch; a delivery's mark
    must not wait behind it, and must survive the process (a new connection reads it)."""
    db = await Database.open(tmp_path / "g.sqlite3")
    log = await SentLog.open(db)
    try:
        async with db.transaction():  # intake, mid-batch
            await asyncio.wait_for(log.record(1, 501, 0), timeout=5)
            await log.record(2, None, 3)
        again = await SentLog.open(db)  # what a restarted bot finds
        try:
            assert await again.marks() == [(1, 501, 0), (2, None, 3)]
        finally:
            await again.close()
    finally:
        await log.close()
        await db.close()


async def test_folding_marks_twice_leaves_the_outbox_as_folding_once(tmp_path: Path) -> None:
    """A crash between folding into the outbox and forgetting here folds again on start."""
    db = await Database.open(tmp_path / "g.sqlite3")
    log = await SentLog.open(db)
    try:
        repo = OutboxRepo(db)
        await repo.enqueue(-1, "sendMessage", {"text": "已登记 #1"}, NOW)
        [row] = await repo.pending(10)
        await log.record(row.id, 77, row.revision)
        for _ in range(2):
            assert await repo.mark_sent_many(await log.marks(), NOW) == []
        await log.forget([row.id])
        assert await log.marks() == []
        assert await repo.pending(10) == []
        assert await repo.counts() == {"sent": 1}
    finally:
        await log.close()
        await db.close()


async def test_marks_of_deliveries_finishing_together_are_written_together(
    tmp_path: Path,
) -> None:
    """Eight sends in flight finish close together: their marks share writes (group commit),
    and each caller returns only once its own mark is in the file."""
    db = await Database.open(tmp_path / "g.sqlite3")
    log = await SentLog.open(db)
    writes: list[int] = []
    insert = log._insert

    def counted(rows: list[tuple[int, int | None, int]]) -> None:
        writes.append(len(rows))
        insert(rows)

    log._insert = counted  # type: ignore[method-assign]
    try:
        await asyncio.gather(*(log.record(n, 1000 + n, 0) for n in range(1, 21)))
        again = await SentLog.open(db)
        try:
            assert await again.marks() == [(n, 1000 + n, 0) for n in range(1, 21)]
        finally:
            await again.close()
        assert sum(writes) == 20
        assert writes == [20]  # marks recorded in one turn of the loop: one transaction
        await log.record(21, None, 1)  # alone again afterwards
        assert writes[-1] == 1
    finally:
        await log.close()
        await db.close()


async def test_the_sent_logs_wal_is_copied_back_every_few_folds(tmp_path: Path) -> None:
    """Commits on the loop never checkpoint (that fsyncs); the fold's checkpoint, in a thread
    of its own every CHECKPOINT_EVERY folds, keeps the WAL from growing with every delivery."""
    db = await Database.open(tmp_path / "g.sqlite3")
    log = await SentLog.open(db)
    wal = SentLog.path_for(db).with_name(SentLog.path_for(db).name + "-wal")
    try:
        for n in range(1, 301):  # one transaction (at least one page of WAL) each
            await log.record(n, n, 0)
            await log.forget([n])
        assert await log.marks() == []
        assert wal.stat().st_size < 100 * 4096  # without the checkpoints: over 300 pages
    finally:
        await log.close()
        await db.close()


async def test_an_interrupt_while_writing_marks_fails_the_waiters_instead_of_hanging_them(
    tmp_path: Path,
) -> None:
    """A KeyboardInterrupt or SystemExit inside the write goes on up, and the deliveries
    waiting for that write learn it failed (their rows are sent again: at least once)."""
    db = await Database.open(tmp_path / "g.sqlite3")
    log = await SentLog.open(db)

    def interrupted(_marks: object) -> None:
        raise KeyboardInterrupt

    try:
        log._insert = interrupted  # type: ignore[method-assign]
        waiting = asyncio.ensure_future(log.record(1, 501, 0))
        await asyncio.sleep(0)  # the delivery has queued its mark; the write is scheduled
        assert log._waiting == [(1, 501, 0)]
        try:
            log._write_waiting()  # the scheduled write, run here so the interrupt is caught
        except KeyboardInterrupt:
            pass
        else:
            raise AssertionError("the interrupt must go on up")
        try:
            await asyncio.wait_for(waiting, timeout=5)
        except RuntimeError as exc:
            assert "not written" in str(exc)
        else:
            raise AssertionError("the waiting delivery must fail, not hang or succeed")
    finally:
        del log._insert
        await log.close()
        await db.close()
