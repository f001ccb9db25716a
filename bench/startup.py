"""Start-up: launch → first update handled (its reply reaches the sandbox), median of 5.

``python -m bench.startup [--runs 5] [--phases]``. One message waits in a fresh sandbox before
each launch; gridbot and the bare PTB echo bot alternate. Gridbot is timed twice:

- ``restart``: its database exists and is up to date (migrated by an earlier run), as on every
  start but the first: the case the target is about;
- ``first start``: a new database, so every migration runs.

The project's bytecode is compiled before timing (``compileall``, as ``pip install`` does for
an installed package; this machine sets PYTHONDONTWRITEBYTECODE, so otherwise each launch would
compile every module of the bot from source while the echo bot's single file costs nothing).
``--phases`` prints when gridbot had imported its modules, built its services and started.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import re
import tempfile
import time
from pathlib import Path

from bench.common import (
    RESIDENT,
    ROOT,
    gridbot_config,
    median,
    new_sandbox,
    spawn,
    stop,
    table,
)
from storage.db import Database

PHASE = re.compile(rb"phase (\w+): (\d+) ms")
CONTENDERS = ("echo", "gridbot restart", "gridbot first start")


async def launch(name: str, phases: dict[str, list[float]]) -> float:
    server, groups = new_sandbox(1)
    async with server:
        await server.user_sends(groups[0], RESIDENT, "在吗 [1]")
        with tempfile.TemporaryDirectory() as tmp:
            config, db = Path(tmp) / "config.toml", Path(tmp) / "gridbot.sqlite3"
            if name == "gridbot restart":
                await (await Database.open(db)).close()  # an up-to-date database
            started = time.time()
            if name == "echo":
                proc = await spawn("bench.echo_proc", server.base_url)
            else:
                config.write_text(gridbot_config(server, db, groups, real_limits=True), "utf-8")
                env = {"BENCH_LAUNCHED": repr(started)}
                proc = await spawn_logged("bench.gridbot_proc", str(config), env=env)
            try:
                await server.wait_for(lambda s: len(s.sent) >= 1, 60)
            finally:
                await stop(proc)
                if proc.stderr is not None:
                    for step, ms in PHASE.findall(await proc.stderr.read()):
                        phases.setdefault(f"{name}: {step.decode()}", []).append(float(ms))
    return server.sent[0].at - started


async def spawn_logged(module: str, *args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    """Like ``spawn``, with stderr captured (the phases; logs pass through after the run)."""
    return await spawn(module, *args, env=env, stderr=asyncio.subprocess.PIPE)


async def main(args: argparse.Namespace) -> None:
    for package in ("bot", "handlers", "storage", "bench"):
        compileall.compile_dir(ROOT / package, quiet=1)
    times: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    phases: dict[str, list[float]] = {}
    for _ in range(args.runs):
        for name in times:
            times[name].append(await launch(name, phases))
    echo = median(times["echo"])
    rows = [
        [
            name,
            f"{median(t) * 1000:.0f}",
            f"{min(t) * 1000:.0f}",
            f"{max(t) * 1000:.0f}",
            f"{median(t) / echo:.2f}x",
        ]
        for name, t in times.items()
    ]
    print(f"\nstart-up: launch → first reply at the sandbox, {args.runs} runs each")
    print(table(["bot", "median ms", "min ms", "max ms", "median / echo"], rows))
    for name in CONTENDERS[1:]:
        ratio = median(times[name]) / echo
        ratios = [g / e for g, e in zip(times[name], times["echo"], strict=True)]
        print(
            f"ratio {name}/echo: median {ratio:.2f}x (per run {min(ratios):.2f}–"
            f"{max(ratios):.2f}x); target <= 1.5x {'met' if ratio <= 1.5 else 'NOT met'}"
        )
    if args.phases:
        print("gridbot phases, ms after launch (median): ")
        for step, values in phases.items():
            print(f"  {step}: {median(values):.0f}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--phases", action="store_true", help="print gridbot's start-up phases")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
