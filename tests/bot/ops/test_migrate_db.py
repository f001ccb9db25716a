"""``gridbot migrate-db`` (issue #16 item 5): a SQLite database copied into PostgreSQL, every
table verified by its row count and checksum; a non-empty target refused unless --force.

Runs in the suite's SQLite run whenever a PostgreSQL server is given (GRIDBOT_TEST_DATABASE):
the source must be a real SQLite file, which the PostgreSQL run replaces by databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.__main__ import main
from storage.backends import copy
from storage.backends.postgres import PgDatabase
from storage.db import Database
from storage.issues import rollups
from storage.issues.repo import IssueRepo
from storage.transport.inbox import InboxRepo
from storage.transport.outbox import OutboxRepo
from tests.storage.test_issues_repo import draft
from tests.support import postgres as pg

pytestmark = pytest.mark.skipif(
    not pg.SERVER or pg.ACTIVE, reason="needs a PostgreSQL server and a real SQLite source"
)
T0 = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
SUPERGROUP = -1001234567890  # beyond 32 bits, as Telegram's ids are


async def _fill(path: Path) -> None:
    db = await Database.open(path)
    try:
        issues = IssueRepo(db)
        first = (await issues.create(draft())).id
        second = (await issues.create(draft(at=T0 + timedelta(hours=1)))).id
        for issue in (first, second):  # reported: the rollups count them (migration 0023)
            await issues.add_event(
                issue,
                actor_id=None,
                actor_role="resident",
                at=T0,
                from_state=None,
                to_state="new",
                action="report",
            )
        # merged into a later issue: the self-reference is filled in after both rows exist
        await issues.update(first, {"state": "merged", "merged_into": second}, T0)
        await InboxRepo(db).store([{"update_id": 900_000_001, "message": {"text": "报事"}}], T0)
        await OutboxRepo(db).enqueue(
            SUPERGROUP, "sendDocument", {"caption": "台账"}, T0, attachment=b"\x00xlsx\xff"
        )
    finally:
        await db.close()


@pytest.mark.parametrize("batch", [1000, 1])
def test_migrate_db_copies_verifies_and_refuses_a_filled_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """With ``batch`` 1 every table is copied a row a page: each page starts after the last
    one's key (the rollups' composite keys, the rowid of a table without a primary key)."""
    monkeypatch.setattr(copy, "BATCH", batch)
    source = tmp_path / "gridbot.sqlite3"
    asyncio.run(_fill(source))
    name = pg.database_name(tmp_path / "target")
    asyncio.run(pg._admin([f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"]))
    target = pg.url_for(name)
    command = ["migrate-db", "--from", f"sqlite:///{source}", "--to", target]
    try:
        assert main(command) == 0
        out = capsys.readouterr().out
        assert "  ✓ issues：2 行，校验和 " in out and "  ✓ outbox：1 行" in out
        assert "行数和校验和逐表一致" in out

        assert main(command) == 1  # not empty now
        assert "目标数据库不是空的" in capsys.readouterr().err
        assert main([*command, "--force", "--locale", "en"]) == 0
        assert "row counts and checksums agree" in capsys.readouterr().out

        async def check() -> None:
            db = await PgDatabase.open(target)
            try:
                issues = IssueRepo(db)
                merged = await issues.by_number(1)
                assert merged is not None and merged.state == "merged"
                # ids go on after the copied ones
                assert (await issues.create(draft())).id == 3
                # the source's rollups, copied once: the triggers did not count the events again
                assert await rollups.row_count(db) > 0
                assert await rollups.differences(db) == []
                row = await db.fetchone("SELECT chat_id, attachment FROM outbox")
                assert row is not None and (row[0], bytes(row[1])) == (SUPERGROUP, b"\x00xlsx\xff")
            finally:
                await db.close()

        asyncio.run(check())
    finally:
        asyncio.run(pg._admin([f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"]))


def test_migrate_db_wants_a_sqlite_source_and_a_postgresql_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate-db", "--from", "postgresql://x/y", "--to", "sqlite:///z"]) == 2
    assert "用法：gridbot migrate-db" in capsys.readouterr().err
    missing = ["migrate-db", "--from", f"sqlite:///{tmp_path}/none.sqlite3", "--to", pg.SERVER]
    assert main(missing) == 2
    assert "找不到数据库文件" in capsys.readouterr().err
