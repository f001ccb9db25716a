"""The command line answers cleanly (issue #13 item 24): a refused registry import says what
to do with a file on disk, and no log lines come before the answer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.registry import as_csv, sample_rows

CONFIG = (
    'locale = "zh_CN"\n[telegram]\ntoken = "1:x"\n[storage]\npath = "db.sqlite3"\n'
    '[community]\nname = "阅海湾社区"\nsecretaries = [201]\n'
    '[[community.grids]]\nkey = "g1"\nname = "第一网格"\nworkers = [101]\n'
    '[[community.grids]]\nkey = "g2"\nname = "第二网格"\nworkers = [102]\n'
)


def gridbot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot`` as a person would, on a fresh database (migrations run)."""
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "bot", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        check=False,
    )


def test_cli_refused_import_says_import_again_with_nothing_before_it(tmp_path: Path) -> None:
    rows = sample_rows()
    rows[3][3] = "九十"
    sheet = tmp_path / "住户.csv"
    sheet.write_bytes(as_csv(rows))
    done = gridbot(tmp_path, "import", "registry", str(sheet))
    assert done.returncode == 1 and done.stdout == ""
    first, *problems = done.stderr.splitlines()
    assert first == "文件有 1 处问题，未导入任何数据。请改正后重新导入："
    assert problems == [
        "  - 第 5 行：建筑面积“九十”不是有效的数字（应为大于 0、最多两位小数的平方米数）"
    ]


def test_cli_successful_import_prints_only_the_answer(tmp_path: Path) -> None:
    sheet = tmp_path / "住户.csv"
    sheet.write_bytes(as_csv(sample_rows()))
    done = gridbot(tmp_path, "import", "registry", str(sheet))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "导入完成：新增 72 户，更新 0 户，未变 0 户。\n"
    assert done.stderr == ""
