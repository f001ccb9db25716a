"""What only the PostgreSQL backend has to get right (storage.backends.postgres); these run in
the suite's PostgreSQL run and are skipped in the SQLite one."""

from __future__ import annotations

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
