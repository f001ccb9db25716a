"""The cheap transaction paths of issue #7 keep the semantics of the plain ones.

Savepoints are opened lazily and may share one SAVEPOINT, control statements and deferred
writes ride with the next statement. Each test checks what is stored (on a real SQLite file)
and, where the point is cost, which statements SQLite actually ran (its trace callback).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from storage.db import Database

# A NOT NULL violation, as SQLite and (the suite's PostgreSQL run) PostgreSQL raise it.
IntegrityError = (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "g.sqlite3")
    async with database.transaction() as tx:
        await tx.execute("CREATE TABLE t (v INTEGER NOT NULL)")
    try:
        yield database
    finally:
        await database.close()


async def values(db: Database) -> list[int]:
    return [row[0] for row in await db.fetchall("SELECT v FROM t ORDER BY rowid")]


async def traced(db: Database) -> list[str]:
    """The statements the writer connection runs from now on (SQLite's own trace)."""
    seen: list[str] = []
    await db._writer.set_trace_callback(seen.append)
    return seen


async def test_a_scope_that_only_reads_costs_no_savepoint(db: Database) -> None:
    seen = await traced(db)
    async with db.transaction() as tx:
        async with db.transaction():  # an update nobody acts on: reads only
            await tx.fetchall("SELECT v FROM t")
    assert [s for s in seen if "SAVEPOINT" in s or "RELEASE" in s] == []


async def test_savepoints_opened_together_share_one_and_still_roll_back_alone(
    db: Database,
) -> None:
    seen = await traced(db)
    async with db.transaction() as tx:
        async with db.transaction():  # the update's savepoint
            with pytest.raises(RuntimeError):
                async with db.transaction():  # a handler's, opened at the same moment
                    await tx.execute("INSERT INTO t VALUES (1)")
                    raise RuntimeError("the handler fails")
            await tx.execute("INSERT INTO t VALUES (2)")  # the update goes on
    assert await values(db) == [2]
    assert sum(s.startswith("SAVEPOINT") for s in seen) == 1


async def test_a_failing_update_rolls_back_only_itself_in_a_batch(db: Database) -> None:
    async with db.transaction() as tx:
        for n in (1, 2, 3):
            try:
                async with db.transaction():
                    await tx.execute("INSERT INTO t VALUES (?)", (n,))
                    async with db.transaction():
                        await tx.execute("INSERT INTO t VALUES (?)", (n * 10,))
                    if n == 2:
                        raise RuntimeError("update 2 fails after its inner scope succeeded")
            except RuntimeError:
                pass
    assert await values(db) == [1, 10, 3, 30]


async def test_deferred_writes_are_visible_to_later_reads_and_grouped(db: Database) -> None:
    seen = await traced(db)
    async with db.transaction() as tx:
        for n in (1, 2, 3):
            tx.defer("INSERT INTO t VALUES (?)", (n,))
        assert [row[0] for row in await tx.fetchall("SELECT v FROM t")] == [1, 2, 3]
    assert await values(db) == [1, 2, 3]
    assert sum(s.startswith("INSERT") for s in seen) == 3  # one executemany, three rows


async def test_a_deferred_write_that_fails_rolls_back_its_update(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(IntegrityError):
            async with db.transaction():
                await tx.execute("INSERT INTO t VALUES (2)")
                tx.defer("INSERT INTO t VALUES (?)", (None,))  # NOT NULL
        await tx.execute("INSERT INTO t VALUES (3)")
    assert await values(db) == [1, 3]


async def test_a_deferred_write_that_fails_at_commit_commits_nothing(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (1)")
            tx.defer("INSERT INTO t VALUES (?)", (None,))
    assert await values(db) == []


async def test_rowcounts_stay_right_when_tasks_share_a_transaction(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.executemany("INSERT INTO t VALUES (?)", [(n % 3,) for n in range(30)])

        async def delete(v: int) -> int:
            return await tx.execute("DELETE FROM t WHERE v = ?", (v,))

        assert await asyncio.gather(delete(0), delete(1), delete(2), delete(7)) == [10, 10, 10, 0]


def count_hops(db: Database, started: list[str] | None = None) -> list[str]:
    """Every call into the writer's aiosqlite thread from now on, by the SQL it ran (SQLite's
    trace, read in the thread during the call). ``started`` also gets each statement as the
    thread begins it, before it is done."""
    hops: list[str] = []
    execute = db._writer._execute
    seen = db._writer._conn

    async def counted(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        ran: list[str] = []

        def trace(sql: str) -> None:
            ran.append(sql)
            if started is not None:
                started.append(sql)

        seen.set_trace_callback(trace)
        try:
            return await execute(fn, *args, **kwargs)
        finally:
            with contextlib.suppress(sqlite3.ProgrammingError):  # the fixture closed it
                seen.set_trace_callback(None)
            hops.append("; ".join(ran))

    db._writer._execute = counted  # type: ignore[method-assign]
    return hops


async def test_a_transaction_is_one_hop_to_the_worker_its_commit(db: Database) -> None:
    """A savepoint, two deferred writes and the statements after them run on the caller's
    thread; the one call into aiosqlite's thread is the COMMIT, which waits on the disk
    (issue #15 item 6: a hop costs a hundred statements)."""
    hops = count_hops(db)
    async with db.transaction() as tx:
        async with db.transaction():  # the update's savepoint, opened by the first write
            tx.defer("INSERT INTO t VALUES (?)", (1,))
            tx.defer("INSERT INTO t (v) SELECT ? + 0", (2,))
            assert await tx.execute("INSERT INTO t VALUES (3)") == 1
            assert [r[0] for r in await tx.fetchall("SELECT v FROM t ORDER BY rowid")] == [1, 2, 3]
        tx.defer("INSERT INTO t VALUES (?)", (4,))
        assert hops == []
    assert hops == ["COMMIT"]
    del hops[:]
    assert await values(db) == [1, 2, 3, 4]


async def test_begin_waits_off_the_loop_while_another_process_writes(
    db: Database, tmp_path: Path
) -> None:
    """BEGIN IMMEDIATE runs on the loop's thread only when the write lock is free: while
    another connection (a CLI tool's process) holds it, the wait is in aiosqlite's thread,
    so the event loop keeps running, and the transaction starts once the lock is free."""
    other = sqlite3.connect(tmp_path / "g.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (7)")
    started: list[str] = []
    hops = count_hops(db, started)
    writing = asyncio.Event()

    async def write() -> None:
        async with db.transaction() as tx:
            writing.set()
            await tx.execute("INSERT INTO t VALUES (8)")

    task = asyncio.create_task(write())
    # The writer's thread is in BEGIN IMMEDIATE, waiting for the lock `other` holds (until
    # its COMMIT below, so no wall-clock wait is needed to see that nothing happens): the
    # loop keeps running meanwhile, turn after turn.
    ticks = 0
    while started != ["BEGIN IMMEDIATE"] or ticks < 20:
        await asyncio.sleep(0)
        ticks += 1
        assert ticks < 1_000_000, started
    assert not writing.is_set()
    other.execute("COMMIT")
    other.close()
    await task
    assert hops == ["BEGIN IMMEDIATE", "COMMIT"]
    assert await values(db) == [7, 8]


async def test_a_small_read_now_needs_no_hop_and_sees_only_what_is_committed(
    db: Database,
) -> None:
    """fetchall_now reads on the loop's thread (the sender's next rows of a chat: issue #15
    item 6) and sees what fetchall sees: outside a transaction only committed rows, inside
    one the transaction's own."""
    hops = 0
    execute = db._reader._execute

    async def counted(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal hops
        hops += 1
        return await execute(fn, *args, **kwargs)

    db._reader._execute = counted  # type: ignore[method-assign]
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO t VALUES (1)")
    seen: dict[str, list[int]] = {}
    writing, read = asyncio.Event(), asyncio.Event()

    async def write() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (2)")
            seen["inside"] = [r[0] for r in await db.fetchall_now("SELECT v FROM t")]
            writing.set()
            await read.wait()

    writer = asyncio.create_task(write())
    await writing.wait()
    seen["outside"] = [r[0] for r in await db.fetchall_now("SELECT v FROM t")]
    read.set()
    await writer
    assert seen == {"inside": [1, 2], "outside": [1]}
    assert [r[0] for r in await db.fetchall_now("SELECT v FROM t")] == [1, 2]
    assert hops == 0


async def test_a_transaction_holds_the_write_lock_from_its_start(
    db: Database, tmp_path: Path
) -> None:
    """BEGIN IMMEDIATE runs when the transaction opens (on the loop's thread when the lock
    is free): before its first statement a second process can no longer write, and the
    transaction costs one call into aiosqlite's thread, its COMMIT."""
    hops = count_hops(db)
    async with db.transaction() as tx:
        other = sqlite3.connect(tmp_path / "g.sqlite3", timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
        await tx.execute("INSERT INTO t VALUES (1)")
    assert hops == ["COMMIT"]
    assert await values(db) == [1]
