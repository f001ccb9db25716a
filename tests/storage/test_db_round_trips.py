"""The cheap transaction paths of issue #7 keep the semantics of the plain ones.

Savepoints are opened lazily and may share one SAVEPOINT, control statements and deferred
writes ride with the next statement. Each test checks what is stored (on a real SQLite file)
and, where the point is cost, which statements SQLite actually ran (its trace callback).
"""

from __future__ import annotations

import asyncio
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


async def test_queued_statements_and_the_next_one_are_one_hop_to_the_worker(
    db: Database,
) -> None:
    """A savepoint, two deferred writes and the statement after them: one call into
    aiosqlite's thread, not one per statement (issue #15 item 6)."""
    hops = 0
    execute = db._writer._execute

    async def counted(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal hops
        hops += 1
        return await execute(fn, *args, **kwargs)

    db._writer._execute = counted  # type: ignore[method-assign]
    async with db.transaction() as tx:
        before = hops
        async with db.transaction():  # the update's savepoint, opened by the first write
            tx.defer("INSERT INTO t VALUES (?)", (1,))
            tx.defer("INSERT INTO t (v) SELECT ? + 0", (2,))
            assert await tx.execute("INSERT INTO t VALUES (3)") == 1
            assert hops - before == 1
    assert await values(db) == [1, 2, 3]


async def test_begin_goes_with_the_first_statement_and_still_takes_the_write_lock(
    db: Database, tmp_path: Path
) -> None:
    """A transaction of one statement is two calls into aiosqlite's thread (the statement
    with its BEGIN IMMEDIATE, then COMMIT), not three; the statement still runs inside
    BEGIN IMMEDIATE, so a second process cannot write in between."""
    hops = 0
    execute = db._writer._execute

    async def counted(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal hops
        hops += 1
        return await execute(fn, *args, **kwargs)

    seen = await traced(db)
    db._writer._execute = counted  # type: ignore[method-assign]
    async with db.transaction() as tx:
        assert hops == 0
        assert (await tx.fetchone("SELECT COUNT(*) FROM t"))[0] == 0
        other = sqlite3.connect(tmp_path / "g.sqlite3", timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
        await tx.execute("INSERT INTO t VALUES (1)")
    assert hops == 3
    assert seen[:2] == ["BEGIN IMMEDIATE", "SELECT COUNT(*) FROM t"]
    async with db.transaction():  # nothing inside: BEGIN and COMMIT in one call
        pass
    assert hops == 4
    assert await values(db) == [1]
