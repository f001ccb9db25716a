"""``gridbot rollups check | rebuild`` (issue #15 item 2): what an operator runs after editing the
database by hand or restoring an old copy."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from bot.__main__ import main
from storage.db import Database
from tests.storage.test_rollups import History


async def some_history(path: Path) -> None:
    db = await Database.open(path)
    try:
        await History(random.Random(7), db, "Asia/Shanghai").run(80)
    finally:
        await db.close()


async def tamper(path: Path) -> None:
    db = await Database.open(path)
    try:
        async with db.transaction() as tx:
            await tx.execute(  # one bucket of open issues, as a hand edit would leave it
                "UPDATE open_rollup SET open = open + 2 WHERE (community, grid, handler, category,"
                " due_day) IN (SELECT community, grid, handler, category, due_day"
                " FROM open_rollup ORDER BY due_day LIMIT 1)"
            )
    finally:
        await db.close()


def write_config(tmp_path: Path, database: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[telegram]\ntoken = "1:x"\n[storage]\npath = "{database}"\n'
        + '[community]\nname = "阅海湾社区"\nsecretaries = [1]\n'
        + '[[community.grids]]\nkey = "g1"\nname = "第一网格"\nchat_id = -1001\nworkers = [2]\n',
        encoding="utf-8",
    )
    return path


def test_rollups_check_finds_a_tampered_count_and_rebuild_repairs_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "gridbot.sqlite3"
    asyncio.run(some_history(database))
    config = str(write_config(tmp_path, database))
    assert main(["rollups", "check", "--config", config]) == 0
    equal = capsys.readouterr().out
    asyncio.run(tamper(database))
    assert main(["rollups", "check", "--config", config]) == 1
    different = capsys.readouterr().err
    assert main(["rollups", "rebuild", "--config", config]) == 0
    rebuilt = capsys.readouterr().out
    assert main(["rollups", "check", "--config", config]) == 0
    assert "汇总表与逐条计算一致" in equal
    assert "汇总表与逐条计算有 2 处不一致" not in different  # one counter, told once
    assert "汇总表与逐条计算有 1 处不一致" in different
    assert "open_rollup" in different and "汇总" in different and "逐条计算" in different
    assert "已从工单、流转记录和评价单重建汇总表" in rebuilt and "Asia/Shanghai" in rebuilt
