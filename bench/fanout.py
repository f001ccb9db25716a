"""Fan-out: one reminder to each of 1,000 groups, sandbox flood control on at Telegram's limits.

``python -m bench.fanout [--groups 300]``. Gridbot (default outbox limits: 30/s overall,
20/min per group) queues one outbox row per group right after start; we measure the achieved
rate (first to last delivery) ÷ 30/s, the 429s the sandbox answered, and messages lost.
Baseline: the 30/s limit itself (a perfect sender scores 1.00).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path

from bench.common import gridbot_config, new_sandbox, spawn, stop, table

LIMIT = 30.0


async def main(args: argparse.Namespace) -> None:
    server, groups = new_sandbox(args.groups, flood=True)
    async with server:
        with tempfile.TemporaryDirectory() as tmp:
            config, chats = Path(tmp) / "config.toml", Path(tmp) / "chats.json"
            db = Path(tmp) / "gridbot.sqlite3"
            config.write_text(gridbot_config(server, db, [], real_limits=True), "utf-8")
            chats.write_text(json.dumps(groups))
            proc = await spawn("bench.gridbot_proc", str(config), "--fanout", str(chats))
            try:
                timeout = args.groups / LIMIT * 3 + 30
                await server.wait_for(lambda s: len(s.sent) >= args.groups, timeout)
                await asyncio.sleep(1)  # would-be duplicates or stragglers
            finally:
                await stop(proc)
    times = sorted(record.at for record in server.sent)
    delivered = {record.chat_id for record in server.sent}
    rate = (len(times) - 1) / (times[-1] - times[0])
    lost = len(set(groups) - delivered)
    print(f"\nfan-out: {args.groups} groups, flood control on (30/s, 20/min/group)")
    print(
        table(
            ["groups", "delivered", "seconds", "msg/s", "rate ÷ 30/s", "429s", "lost"],
            [
                [
                    str(args.groups),
                    str(len(server.sent)),
                    f"{times[-1] - times[0]:.1f}",
                    f"{rate:.1f}",
                    f"{rate / LIMIT:.2f}",
                    str(server.stats.rate_limited),
                    str(lost),
                ]
            ],
        )
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("--groups", type=int, default=1000)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
