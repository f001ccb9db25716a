"""The database: durability settings, nested transactions, migrations."""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
from pathlib import Path

import asyncpg
import pytest

import storage.db
from storage.db import Database, SchemaTooNew, _statements, in_transaction


@pytest.mark.durable
async def test_db_pragmas_are_durable(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "g.sqlite3")
    try:
        assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
        async with db.transaction() as tx:
            assert (await tx.fetchone("PRAGMA synchronous"))[0] == 2  # FULL
            assert (await tx.fetchone("PRAGMA foreign_keys"))[0] == 1
    finally:
        await db.close()


async def test_db_nested_rollback_keeps_outer_work(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "g.sqlite3")
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (v INTEGER)")
            await tx.execute("INSERT INTO t VALUES (1)")
            with pytest.raises(RuntimeError):
                async with db.transaction() as inner:
                    await inner.execute("INSERT INTO t VALUES (2)")
                    raise RuntimeError("inner fails")
            assert in_transaction()
        rows = await db.fetchall("SELECT v FROM t")
        assert [r[0] for r in rows] == [1]
        assert not in_transaction()
    finally:
        await db.close()


async def test_db_outer_rollback_discards_everything_and_skips_after_commit(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "g.sqlite3")
    called: list[str] = []
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (v INTEGER)")
        with pytest.raises(ValueError):
            async with db.transaction() as tx:
                tx.after_commit(lambda: called.append("x"))
                await tx.execute("INSERT INTO t VALUES (1)")
                raise ValueError
        assert await db.fetchall("SELECT v FROM t") == []
        assert called == []
        async with db.transaction() as tx:
            tx.after_commit(lambda: called.append("y"))
        assert called == ["y"]
    finally:
        await db.close()


async def test_db_concurrent_writers_are_serialised(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "g.sqlite3")
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE c (n INTEGER)")
            await tx.execute("INSERT INTO c VALUES (0)")

        async def bump() -> None:
            async with db.transaction() as tx:
                row = await tx.fetchone("SELECT n FROM c")
                await asyncio.sleep(0)  # another task tries to write in between
                await tx.execute("UPDATE c SET n = ?", (row[0] + 1,))

        await asyncio.gather(*(bump() for _ in range(50)))
        assert (await db.fetchone("SELECT n FROM c"))[0] == 50
    finally:
        await db.close()


@pytest.mark.fresh_schema  # applies the migrations from nothing
async def test_db_migrations_are_recorded_and_reapplying_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite3"
    db = await Database.open(path)
    first = await db.fetchall("SELECT version, name FROM schema_migrations ORDER BY version")
    await db.close()
    db = await Database.open(path)
    again = await db.fetchall("SELECT version, name FROM schema_migrations ORDER BY version")
    await db.close()
    assert [tuple(r) for r in first] == [tuple(r) for r in again]
    assert first[0]["name"] == "0001_foundation.sql"


@pytest.mark.fresh_schema  # applies the migrations from nothing
async def test_db_refuses_a_schema_newer_than_the_code(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite3"
    db = await Database.open(path)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at)"
            " VALUES (999, '0999_future.sql', '2030-01-01T00:00:00Z')"
        )
    await db.close()
    with pytest.raises(SchemaTooNew):
        await Database.open(path)


async def test_db_rejects_gaps_in_migration_numbers(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_a.sql").write_text("CREATE TABLE a (x INTEGER);")
    (folder / "0003_c.sql").write_text("CREATE TABLE c (x INTEGER);")
    with pytest.raises(RuntimeError, match="without gaps"):
        await Database.open(tmp_path / "g.sqlite3", migrations=folder)


async def test_db_an_upgrade_is_all_or_nothing(tmp_path: Path) -> None:
    """Pending migrations are applied in one transaction (one fsync at a first start): when a
    later one fails, the earlier ones are not left applied either, so the next start applies
    them again, from the fixed files."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_a.sql").write_text("CREATE TABLE a (x INTEGER);")
    (folder / "0002_b.sql").write_text(
        "CREATE TABLE b (x INTEGER);\nINSERT INTO nowhere VALUES (1);"
    )
    path = tmp_path / "g.sqlite3"
    with pytest.raises((sqlite3.OperationalError, asyncpg.PostgresError), match="nowhere"):
        await Database.open(path, migrations=folder)
    (folder / "0001_a.sql").write_text("CREATE TABLE a2 (x INTEGER);")
    (folder / "0002_b.sql").write_text("CREATE TABLE b (x INTEGER);")
    db = await Database.open(path, migrations=folder)
    try:
        applied = await db.fetchall("SELECT version FROM schema_migrations ORDER BY version")
        assert await db.fetchall("SELECT x FROM a2") == []  # 0001 ran again: it was undone
        with pytest.raises((sqlite3.OperationalError, asyncpg.PostgresError)):
            await db.fetchall("SELECT x FROM a")
    finally:
        await db.close()
    assert [row[0] for row in applied] == [1, 2]


async def test_db_use_after_close_is_an_error(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "g.sqlite3")
    await db.close()
    with pytest.raises(RuntimeError, match="closed"):
        await db.fetchall("SELECT 1")


async def test_db_snapshot_reads_one_moment_while_writes_commit(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "g.sqlite3")
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (v INTEGER)")

        async def insert() -> None:  # another task: a resident's report committing meanwhile
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t VALUES (1)")

        count = "SELECT COUNT(*) FROM t"

        async def read_elsewhere() -> int:  # intake and the sender read outside transactions
            return int((await db.fetchone(count))[0])

        async with db.snapshot():
            before = (await db.fetchone(count))[0]
            await asyncio.create_task(insert())
            during = (await db.fetchone(count))[0]
            elsewhere = await asyncio.get_running_loop().create_task(
                read_elsewhere(), context=contextvars.Context()
            )
        after = (await db.fetchone(count))[0]
        assert (before, during, after) == (0, 0, 1)
        assert elsewhere == 1  # only the snapshotting task's reads are frozen
    finally:
        await db.close()


async def test_db_snapshot_connections_are_kept_and_each_snapshot_is_its_own_moment(
    tmp_path: Path,
) -> None:
    """A snapshot's connection serves the next snapshot (opening one was most of a sweep's
    cost), its read transaction ended in between; two snapshots at once use two."""
    db = await Database.open(tmp_path / "g.sqlite3")
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (v INTEGER)")
        count = "SELECT COUNT(*) FROM t"

        async def insert() -> None:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t VALUES (1)")

        async def moment(fail: bool = False) -> tuple[object, int]:
            async with db.snapshot():
                conn, seen = storage.db._snapshot.get(), (await db.fetchone(count))[0]
                if fail:
                    raise LookupError("a read that went wrong")
                return conn, seen

        first, before = await moment()
        await insert()
        with pytest.raises(LookupError):
            await moment(fail=True)
        hops = 0
        execute = first._execute  # type: ignore[attr-defined]

        async def counted(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal hops
            hops += 1
            return await execute(fn, *args, **kwargs)

        first._execute = counted  # type: ignore[attr-defined]
        second, after = await moment()
        assert (before, after) == (0, 1)  # the kept connection does not keep an old moment
        assert second is first
        assert hops == 2  # BEGIN with the read, then ROLLBACK

        started, release = asyncio.Event(), asyncio.Event()

        async def held() -> tuple[object, int]:
            async with db.snapshot():
                conn, seen = storage.db._snapshot.get(), (await db.fetchone(count))[0]
                started.set()
                await release.wait()
                assert (await db.fetchone(count))[0] == seen  # still its own moment
                return conn, seen

        holding = asyncio.create_task(held())
        await started.wait()
        await insert()
        third, now = await moment()
        release.set()
        fourth, then = await holding
        assert (then, now) == (1, 2) and third is not fourth
        threads = [conn._thread for conn in (third, fourth)]  # type: ignore[attr-defined]
    finally:
        await db.close()
    # Kept ones closed with the db: each one's thread ends once it has taken aiosqlite's stop
    # signal, which comes after close() returns (a bare is_alive() check raced with it).
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)


async def test_db_after_commit_of_a_rolled_back_savepoint_never_runs(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "g.sqlite3")
    ran: list[str] = []
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (v INTEGER)")
            tx.after_commit(lambda: ran.append("outer"))
            with pytest.raises(RuntimeError):
                async with db.transaction() as inner:  # an update that fails in its batch
                    await inner.execute("INSERT INTO t VALUES (1)")
                    inner.after_commit(lambda: ran.append("failed update"))
                    raise RuntimeError("handler fails")
            async with db.transaction() as inner:
                await inner.execute("INSERT INTO t VALUES (2)")
                inner.after_commit(lambda: ran.append("next update"))
        assert ran == ["outer", "next update"]
    finally:
        await db.close()


def test_a_migration_keeps_a_triggers_body_whole() -> None:
    """A trigger's statements end in ';' too (migration 0023's rollups): it is one statement."""
    sql = (
        "-- a comment; with a semicolon\n"
        "CREATE TABLE a (x);\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n"
        "    INSERT INTO a VALUES (1);\n"
        "    UPDATE a SET x = 2;\n"
        "END;\n"
        "SELECT 3;\n"
    )
    statements = _statements(sql)
    assert len(statements) == 3
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


async def _fill(db: Database, commits: int) -> None:
    """``commits`` write transactions of a 16 KiB row each (four pages and more of WAL)."""
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE IF NOT EXISTS blobs (v BLOB)")
    await db.checkpoint()  # the WAL from nothing: the migrations' pages are copied back
    for _ in range(commits):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO blobs VALUES (randomblob(16384))")
        await db.wait_checkpoint()


def _wal_pages(db: Database) -> int:
    return db.path.with_name(db.path.name + "-wal").stat().st_size // 4096


@pytest.mark.sqlite_only
async def test_db_commits_never_checkpoint_the_wal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit that copies the WAL back into the file (SQLite's automatic checkpoint, at
    1,000 pages) made every update waiting for the writer wait for it (issue #15 item 6):
    the writer's commits leave that to the checkpointer, so without it the WAL only grows."""
    monkeypatch.setattr(storage.db, "CHECKPOINT_EVERY", 10**9)
    db = await Database.open(tmp_path / "g.sqlite3")
    try:
        await _fill(db, 300)
        assert db.checkpoints == 0
        assert _wal_pages(db) > 1200  # past 1,000 pages, and no commit copied it back
    finally:
        await db.close()


@pytest.mark.sqlite_only
async def test_db_the_checkpointer_keeps_the_wal_small_beside_the_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every CHECKPOINT_EVERY commits a PASSIVE checkpoint on a connection of its own copies
    the WAL back, so SQLite starts it again from its beginning: it stays the size of a few
    commits' pages, and what was written is all there after a reopen."""
    monkeypatch.setattr(storage.db, "CHECKPOINT_EVERY", 10)
    db = await Database.open(tmp_path / "g.sqlite3")
    try:
        await _fill(db, 300)
        assert db.checkpoints == 30
        assert _wal_pages(db) < 200  # without the checkpoints: over 1,200 pages
    finally:
        await db.close()
    again = await Database.open(tmp_path / "g.sqlite3")
    try:
        assert (await again.fetchone("SELECT COUNT(*) FROM blobs"))[0] == 300
    finally:
        await again.close()
