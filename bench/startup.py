"""Start-up: launch → first update handled (its reply reaches the sandbox), median of 5.

``python -m bench.startup [--runs 5]``. One message waits in a fresh sandbox before each launch;
gridbot (fresh database, migrations included) and the bare PTB echo bot alternate.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.common import RESIDENT, gridbot_config, median, new_sandbox, spawn, stop, table


async def launch(name: str) -> float:
    server, groups = new_sandbox(1)
    async with server:
        await server.user_sends(groups[0], RESIDENT, "在吗 [1]")
        with tempfile.TemporaryDirectory() as tmp:
            started = time.time()
            if name == "echo":
                proc = await spawn("bench.echo_proc", server.base_url)
            else:
                config, db = Path(tmp) / "config.toml", Path(tmp) / "gridbot.sqlite3"
                config.write_text(gridbot_config(server, db, groups, real_limits=True), "utf-8")
                proc = await spawn("bench.gridbot_proc", str(config))
            try:
                await server.wait_for(lambda s: len(s.sent) >= 1, 60)
            finally:
                await stop(proc)
    return server.sent[0].at - started


async def main(args: argparse.Namespace) -> None:
    times: dict[str, list[float]] = {"echo": [], "gridbot": []}
    for _ in range(args.runs):
        for name in times:
            times[name].append(await launch(name))
    rows = [
        [name, f"{median(t) * 1000:.0f}", f"{min(t) * 1000:.0f}", f"{max(t) * 1000:.0f}"]
        for name, t in times.items()
    ]
    print(f"\nstart-up: launch → first reply at the sandbox, {args.runs} runs each")
    print(table(["bot", "median ms", "min ms", "max ms"], rows))
    print(f"ratio gridbot/echo (median): {median(times['gridbot']) / median(times['echo']):.2f}x")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
