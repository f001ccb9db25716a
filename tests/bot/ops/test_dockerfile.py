"""The Dockerfile, checked where no docker daemon runs (issue #17 item 5; .ci/run builds it
when one does): slim base, a non-root user, the CJK font, a HEALTHCHECK that really fails on
an unhealthy /healthz, and no secrets copied in."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

from tests.support import factories as f
from tests.support.harness import running_bot, sandbox_world, step
from tests.support.ports import unused_port

ROOT = Path(__file__).parents[3]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    joined: list[str] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in joined]


def one(name: str) -> str:
    found = [args for instruction, args in instructions() if instruction == name]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def healthcheck_command() -> list[str]:
    args = one("HEALTHCHECK")
    command: list[str] = json.loads(args[args.index("CMD") + 3 :].strip())
    return command


def test_slim_base_non_root_user_and_the_cjk_font() -> None:
    assert one("FROM") == "python:3.11-slim"
    seen = [instruction for instruction, _ in instructions()]
    user = one("USER")
    assert user not in ("root", "0") and not user.startswith(("root:", "0:"))
    # Nothing runs as root after the switch, and the bot itself starts after it.
    assert "RUN" not in seen[seen.index("USER") :]
    assert seen.index("USER") < seen.index("ENTRYPOINT")
    assert any("fonts-wqy-microhei" in args for name, args in instructions() if name == "RUN")
    assert json.loads(one("ENTRYPOINT")) == ["gridbot"]
    assert "--log-format" in json.loads(one("CMD"))


def test_nothing_secret_is_copied_in_and_every_copied_path_exists() -> None:
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for secret in ("config.toml", "token.env", ".env", "gridbot.sqlite3", "gridbot.sqlite3-wal"):
        assert any(fnmatch(secret, pattern) for pattern in ignored), secret
    assert ".git" in ignored and ".venv" in ignored
    assert all(name != "ADD" for name, _ in instructions()), "COPY only: ADD fetches and unpacks"
    for name, args in instructions():
        if name == "COPY":
            *sources, _ = args.split()
            for source in sources:
                assert (ROOT / source).exists(), source
                assert not any(fnmatch(source, p) for p in ignored), source
    assert all("TOKEN" not in args for name, args in instructions() if name in ("ENV", "ARG"))


async def test_the_healthcheck_passes_on_a_healthy_bot_and_fails_without_one(
    tmp_path: Path,
) -> None:
    command = healthcheck_command()
    assert command[:2] == ["python", "-c"] and "/healthz" in one("ENV")
    ast.parse(command[2])
    port = unused_port()
    env = {**os.environ, "GRIDBOT_HEALTH_URL": f"http://127.0.0.1:{port}/healthz"}

    async def check() -> int:
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-c", command[2]], env=env, capture_output=True
        )
        return done.returncode

    assert await check() != 0  # nothing listening
    async with sandbox_world(tmp_path, metrics={"port": port}) as world:
        async with running_bot(world) as gridbot:
            await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "#报事 3号楼2单元路灯坏了")
            await step(world, gridbot)
            assert await check() == 0


def test_the_deploy_guide_is_linked_and_its_unit_and_citations_hold() -> None:
    assert "(docs/deploy.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    unit = guide.split("```ini\n", 1)[1].split("```", 1)[0].splitlines()
    for setting in (
        "DynamicUser=yes",
        "ProtectSystem=strict",
        "StateDirectory=gridbot",
        "Restart=on-failure",
        "EnvironmentFile=/etc/gridbot/token.env",
    ):
        assert setting in unit, setting
    # The tests the guide cites exist under those names.
    for path, name in (
        ("tests/storage/test_db.py", "test_db_refuses_a_schema_newer_than_the_code"),
        (
            "tests/bot/ops/test_logs_privacy.py",
            "test_the_issue_loop_logs_no_names_phones_or_report",
        ),
    ):
        assert f"def {name}" in (ROOT / path).read_text(encoding="utf-8"), name
