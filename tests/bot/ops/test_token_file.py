"""A warning at start when the config file holding the token is readable by others (issue #17
item 6), and ``--log-format json`` as a real ``gridbot`` process prints it."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bot.__main__ as cli
from bot.__main__ import main

TOKEN = "123456:file-token-abcdef"


def write_config(tmp_path: Path, mode: int, *, token: str | None = TOKEN) -> Path:
    path = tmp_path / "config.toml"
    line = f'token = "{token}"\n' if token else ""
    path.write_text(
        f'[telegram]\n{line}[storage]\npath = "{tmp_path / "db.sqlite3"}"\n'
        + '[community]\nname = "阅海湾社区"\nsecretaries = [1]\n'
        + '[[community.grids]]\nkey = "g1"\nname = "第一网格"\nchat_id = -1001\nworkers = [2]\n',
        encoding="utf-8",
    )
    path.chmod(mode)
    return path


def warnings_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604], ids=["world", "group", "others"])
def test_check_config_warns_about_a_token_file_others_can_read(
    tmp_path: Path, mode: int, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRIDBOT_TOKEN", raising=False)
    path = write_config(tmp_path, mode)
    assert main(["check-config", "--config", str(path)]) == 0
    [warning] = warnings_in(caplog)
    assert str(path) in warning and f"chmod 600 {path}" in warning
    assert f"{mode:o}" in warning and "其他用户也能读取" in warning
    assert TOKEN not in warning


def test_no_warning_when_only_the_owner_reads_it_or_it_holds_no_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRIDBOT_TOKEN", raising=False)
    assert main(["check-config", "--config", str(write_config(tmp_path, 0o600))]) == 0
    monkeypatch.setenv("GRIDBOT_TOKEN", TOKEN)
    assert main(["check-config", "--config", str(write_config(tmp_path, 0o644, token=None))]) == 0
    assert warnings_in(caplog) == []


def test_run_warns_before_it_starts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []

    async def run(config: object) -> int:
        started.append(config)
        return 0

    monkeypatch.setattr(cli, "_run", run)
    monkeypatch.setenv("GRIDBOT_TOKEN", "654321:from-the-environment")
    path = write_config(tmp_path, 0o664)
    assert main(["run", "--config", str(path)]) == 0
    assert started, "gridbot run stopped at the warning"
    [warning] = warnings_in(caplog)
    assert f"chmod 600 {path}" in warning


def test_the_warning_as_one_json_line_from_a_real_gridbot_process(tmp_path: Path) -> None:
    path = write_config(tmp_path, 0o644)
    env = {k: v for k, v in os.environ.items() if k != "GRIDBOT_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "check-config", "--config", str(path), "--log-format=json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{path}: OK\n"
    [line] = done.stderr.splitlines()
    event = json.loads(line)
    assert set(event) == {"time", "level", "logger", "message"}
    assert (event["level"], event["logger"]) == ("WARNING", "bot")
    assert f"chmod 600 {path}" in event["message"]
    assert TOKEN not in done.stderr
