"""Online backups (issue #17): consistent while reports are written, checked, restorable."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from storage.ops.backup import BackupError, backup, backups, prune, restore
from tests.support import factories as f
from tests.support.factories import issue_world

REPORTS = 1000


def numbers_in(path: Path) -> set[int]:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return {row[0] for row in conn.execute("SELECT number FROM issues")}
    finally:
        conn.close()


async def test_a_backup_taken_while_reports_are_written_restores_every_earlier_issue(
    tmp_path: Path,
) -> None:
    async with issue_world(tmp_path) as world:
        committed: list[int] = []
        quarter = asyncio.Event()

        async def write_reports() -> None:
            for n in range(REPORTS):
                outcome = await world.service.report(
                    chat_id=f.G1_CHAT,
                    user_id=f.RESIDENT,
                    display_name="王阿姨",
                    text=f"#报事 {n % 30 + 1}号楼路灯坏了 第{n}次",
                )
                committed.append(outcome.issue.number)
                if len(committed) == REPORTS // 4:
                    quarter.set()

        writer = asyncio.create_task(write_reports())
        await quarter.wait()
        before = set(committed)  # committed before the backup began
        made = await backup(world.db.path, tmp_path / "backups", f.FakeClock().now())
        after = set(committed)
        await writer
    assert len(after) < REPORTS, "the backup must overlap the writes to mean anything"
    restored = tmp_path / "restored" / "gridbot.sqlite3"
    restore(made, restored)
    found = numbers_in(restored)
    assert before <= found <= after | before
    assert len(numbers_in(world.db.path)) == REPORTS


async def test_restore_never_overwrites_a_database(tmp_path: Path) -> None:
    async with issue_world(tmp_path) as world:
        made = await backup(world.db.path, tmp_path / "backups", f.FakeClock().now())
        with pytest.raises(BackupError) as refused:
            restore(made, world.db.path)
    assert refused.value.key == "target_exists"


async def test_a_file_that_is_not_a_gridbot_database_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(BackupError) as refused:
        restore(other, tmp_path / "new.sqlite3")
    assert refused.value.key == "not_gridbot"
    assert not (tmp_path / "new.sqlite3").exists()


async def test_prune_keeps_the_newest(tmp_path: Path) -> None:
    async with issue_world(tmp_path) as world:
        start = datetime(2026, 12, 1, 3, 30)
        for day in range(4):
            await backup(world.db.path, tmp_path / "b", start + timedelta(days=day))
    deleted = prune(tmp_path / "b", keep=2)
    assert [p.name for p in deleted] == [
        "gridbot-20261201-033000.sqlite3",
        "gridbot-20261202-033000.sqlite3",
    ]
    assert [p.name for p in backups(tmp_path / "b")] == [
        "gridbot-20261203-033000.sqlite3",
        "gridbot-20261204-033000.sqlite3",
    ]
