"""What only the PostgreSQL backend has to get right (storage.backends.postgres); these run in
the suite's PostgreSQL run and are skipped in the SQLite one."""

from __future__ import annotations

import asyncio
import contextvars
from pathlib import Path

import asyncpg
import pytest

from storage.backends.postgres import PgDatabase
from storage.db import Database
from tests.support import postgres as pg

pytestmark = pytest.mark.skipif(not pg.ACTIVE, reason="the PostgreSQL backend itself")


async def test_a_writer_connection_the_server_dropped_is_replaced(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    assert isinstance(db, PgDatabase)
    try:
        pid = await db._pg_writer.fetchval("SELECT pg_backend_pid()")
        async with db.connection() as other:
            await other.execute("SELECT pg_terminate_backend($1)", pid)  # a server restart
        # the transaction under way fails (how asyncpg words it depends on the moment)
        lost = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)
        with pytest.raises((*lost, OSError)):
            async with db.transaction() as tx:
                await tx.execute("DELETE FROM inbox")
        async with db.transaction() as tx:  # the next one works on a new connection
            await tx.execute(
                "INSERT INTO inbox (update_id, raw, received_at) VALUES (?, ?, ?)",
                (1, "{}", "2026-12-06T00:00:00Z"),
            )
        assert await db.fetchone("SELECT COUNT(*) FROM inbox") == (1,)
    finally:
        await db.close()


async def test_a_read_only_snapshot_sees_one_moment(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    try:
        insert = "INSERT INTO inbox (update_id, raw, received_at) VALUES (?, '{}', 'now')"
        async with db.transaction() as tx:
            await tx.execute(insert, (1,))
        async with db.snapshot():
            assert await db.fetchone("SELECT COUNT(*) FROM inbox") == (1,)
            async with db.transaction() as tx:
                await tx.execute(insert, (2,))
            assert await db.fetchone("SELECT COUNT(*) FROM inbox") == (1,)
        assert await db.fetchone("SELECT COUNT(*) FROM inbox") == (2,)
    finally:
        await db.close()


async def test_two_processes_reporting_at_once_get_consecutive_issue_numbers(
    tmp_path: Path,
) -> None:
    """Two bots' processes on one database (a district) each file a report at the same
    moment: the second waits for the first's transaction, then takes the next number (it
    read the same MAX(number) and failed on the unique number before: bench.ingest
    --two-bots)."""
    from storage.issues.repo import IssueRepo
    from tests.storage.test_issues_repo import draft

    first = await Database.open(tmp_path / "gridbot.sqlite3")
    second = await Database.open(tmp_path / "gridbot.sqlite3")  # the other bot's process
    assert isinstance(first, PgDatabase) and isinstance(second, PgDatabase)
    try:
        writer = await second._pg_writer.fetchval("SELECT pg_backend_pid()")
        async with first.transaction():
            mine = await IssueRepo(first).create(draft("g1"))
            # in a context of its own, as in another process: not inside this transaction
            theirs = asyncio.create_task(
                IssueRepo(second).create(draft("h1")), context=contextvars.Context()
            )
            # committed only once the other report is waiting on this transaction
            async with first.connection() as watch:
                waiting = "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1"
                while not await watch.fetchval(waiting, writer):  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
        other = await theirs
    finally:
        await first.close()
        await second.close()

    assert (mine.number, other.number) == (1, 2)


async def test_a_lent_connection_is_reset_and_plain_reads_need_no_reset(tmp_path: Path) -> None:
    """The pool resets only connections lent out for more than a read: an advisory lock
    left on one is released when it comes back; plain reads, which skip the reset round
    trip, leave nothing behind (nor does one that failed)."""
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    assert isinstance(db, PgDatabase)
    outside = await db.fresh_connection()
    try:
        async with db.connection() as conn:
            assert await conn.fetchval("SELECT pg_try_advisory_lock(4242)")
            assert not await outside.fetchval("SELECT pg_try_advisory_lock(4242)")
        assert await outside.fetchval("SELECT pg_try_advisory_lock(4242)")  # released
        await outside.execute("SELECT pg_advisory_unlock(4242)")
        with pytest.raises(asyncpg.PostgresError):
            await db.fetchall("SELECT no_such_column FROM inbox")
        for _ in range(8):  # every pooled connection, twice
            assert await db.fetchall("SELECT COUNT(*) FROM inbox") == [(0,)]
    finally:
        await outside.close()
        await db.close()
