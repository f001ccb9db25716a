"""Ingest: group messages (30% ``#报事`` reports, 70% chatter) through gridbot vs a PTB echo bot.

``python -m bench.ingest [--messages 20000] [--profile]``. The sandbox runs in this process
(flood control off), the bot in a child process; a fresh sandbox per contender. At most
``--window`` messages are in flight: each new one is injected when a reply comes back, so the bot
is saturated and latency (injection → reply recorded by the sandbox) is comparable between the
two. Gridbot runs with its durable inbox/outbox (WAL, synchronous=FULL) and outbox limits raised
far above Telegram's, so this measures the pipeline, not the sending limits.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pstats
import re
import tempfile
import time
from pathlib import Path

from bench.common import (
    OUT,
    RESIDENT,
    ROOT,
    gridbot_config,
    median,
    new_sandbox,
    percentile,
    spawn,
    stop,
    table,
)

REPORTS = ["#报事 3号楼电梯坏了，有人被困", "#报事 小区东门路灯不亮", "#报事 5栋楼道堆放杂物"]
CHATTER = ["今天天气不错", "快递到了吗？", "谢谢网格员！", "明天几点开会", "收到", "好的👍", "+1"]
NUMBER = re.compile(r"(\d+)\]?$")
WARMUP = 10**9


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def text_for(n: int) -> str:
    if n % 10 < 3:  # 30% reports
        return f"{REPORTS[n % len(REPORTS)]} [{n}]"
    return f"{CHATTER[n % len(CHATTER)]} [{n}]"


async def run_contender(name: str, args: argparse.Namespace, profile: Path | None = None) -> dict:
    server, groups = new_sandbox(args.groups)
    async with server:
        with tempfile.TemporaryDirectory() as tmp:
            database: str | None = None
            if name == "echo":
                proc = await spawn("bench.echo_proc", server.base_url)
            else:
                config = Path(tmp) / "config.toml"
                db: Path | str = Path(tmp) / "gridbot.sqlite3"
                if name == "gridbot-pg":  # a fresh database on the server --postgres names
                    database = f"bench_ingest_{os.getpid()}"
                    await _pg_admin(args.postgres, f"CREATE DATABASE {database}")
                    db = args.postgres.rsplit("/", 1)[0] + "/" + database
                config.write_text(gridbot_config(server, db, groups, real_limits=False), "utf-8")
                extra = ["--profile", str(profile)] if profile else []
                proc = await spawn("bench.gridbot_proc", str(config), *extra)
            try:
                # Warm up: wait for the reply to one message, so start-up is not measured.
                await server.user_sends(groups[0], RESIDENT, f"warm up [{WARMUP}]")
                await server.wait_for(lambda s: len(s.sent) >= 1, 60)
                calls = dict(server.stats.by_method)
                cpu = (cpu_seconds(proc.pid), time.process_time())
                result = await drive(server, groups, args)
                result["bot_cpu"] = cpu_seconds(proc.pid) - cpu[0]
                result["sandbox_cpu"] = time.process_time() - cpu[1]
                result["calls"] = {
                    m: n - calls.get(m, 0) for m, n in server.stats.by_method.items()
                }
                return result
            finally:
                await stop(proc)
                if database is not None:
                    await _pg_admin(args.postgres, f"DROP DATABASE {database} WITH (FORCE)")


async def _pg_admin(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def drive(server, groups: list[int], args: argparse.Namespace) -> dict:  # type: ignore[no-untyped-def]
    injected: dict[int, float] = {}
    latency: dict[int, float] = {}
    seen = len(server.sent)
    next_n, duplicates = 0, 0
    started = time.time()
    last_reply = started
    while len(latency) < args.messages:
        for record in server.sent[seen:]:
            match = NUMBER.search(record.text or "")
            n = int(match.group(1)) if match else -1
            if n in latency:
                duplicates += 1
            elif n in injected:
                latency[n] = record.at - injected[n]
                last_reply = record.at
        seen = len(server.sent)
        while next_n < args.messages and next_n - len(latency) < args.window:
            injected[next_n] = time.time()
            await server.user_sends(groups[next_n % len(groups)], RESIDENT, text_for(next_n))
            next_n += 1
        if time.time() - last_reply > 30:
            raise TimeoutError(f"no reply for 30 s; {len(latency)}/{args.messages} answered")
        await asyncio.sleep(0.001)
    values = list(latency.values())
    return {
        "rate": args.messages / (last_reply - started),
        "p50": percentile(values, 50) * 1000,
        "p99": percentile(values, 99) * 1000,
        "duplicates": duplicates,
        "errors": server.stats.errors,
    }


def print_profile(path: Path, top: int = 15) -> None:
    """Top functions of our code (bot/, handlers/, storage/) by cumulative time."""
    ours = tuple(str(ROOT / d) + "/" for d in ("bot", "handlers", "storage"))
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    rows = [
        (ct, tt, nc, f"{Path(file).relative_to(ROOT)}:{line} {func}")
        for (file, line, func), (_cc, nc, tt, ct, _callers) in stats.items()
        if file.startswith(ours)
    ]
    rows.sort(reverse=True)
    print(f"\ncProfile of gridbot ({path.relative_to(ROOT)}), our code, top {top} by cumulative:")
    print(
        table(
            ["cumtime s", "tottime s", "calls", "function"],
            [[f"{ct:.2f}", f"{tt:.2f}", str(nc), where] for ct, tt, nc, where in rows[:top]],
        )
    )


async def main(args: argparse.Namespace) -> None:
    # Rounds alternate who goes first, so a slow spell of the shared machine does not always
    # fall on the same contender; the ratio reported is the median of the rounds' ratios.
    runs: list[tuple[int, str, dict]] = []  # type: ignore[type-arg]
    for round_ in range(args.rounds):
        order: tuple[str, ...] = ("echo", "gridbot") if round_ % 2 == 0 else ("gridbot", "echo")
        if args.postgres:  # the same run on PostgreSQL, beside SQLite and the echo bot
            order += ("gridbot-pg",)
        runs += [(round_ + 1, name, await run_contender(name, args)) for name in order]
    per_k = 1000 / args.messages
    rows = [
        [
            str(round_),
            name,
            f"{r['rate']:.0f}",
            f"{r['p50']:.0f}",
            f"{r['p99']:.0f}",
            str(r["duplicates"]),
            f"{r['bot_cpu'] * per_k:.1f}",
            f"{r['sandbox_cpu'] * per_k:.1f}",
            f"{sum(r['calls'].values()) * per_k / 1000:.2f}",
        ]
        for round_, name, r in runs
    ]
    rate = {(round_, name): r["rate"] for round_, name, r in runs}
    ratios = [rate[(n, "gridbot")] / rate[(n, "echo")] for n in range(1, args.rounds + 1)]
    print(
        f"\ningest: {args.messages} group messages (30% reports), window {args.window}, "
        f"{args.groups} groups, flood control off, gridbot outbox limits raised"
    )
    headers = ["round", "bot", "updates/s", "p50 ms", "p99 ms", "duplicate replies"]
    headers += ["bot CPU s/1k", "sandbox CPU s/1k", "API calls/update"]
    print(table(headers, rows))
    for _, name, r in runs[:2]:
        print(f"{name} API calls: " + ", ".join(f"{m} {n}" for m, n in sorted(r["calls"].items())))
    print("ratio gridbot/echo throughput per round: " + ", ".join(f"{x:.2f}x" for x in ratios))
    print(f"ratio gridbot/echo throughput (median of {args.rounds}): {median(ratios):.2f}x")
    if args.postgres:
        pg = [rate[(n, "gridbot-pg")] / rate[(n, "gridbot")] for n in range(1, args.rounds + 1)]
        print(
            "ratio PostgreSQL/SQLite gridbot throughput per round: "
            + ", ".join(f"{x:.2f}x" for x in pg)
        )
    if args.profile:
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / "ingest.prof"
        profiled = await run_contender("gridbot", args, profile=path)
        print(
            f"\nprofiled gridbot run (slower, not in the ratio): {profiled['rate']:.0f} updates/s"
        )
        print_profile(path)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--window", type=int, default=200, help="messages in flight at most")
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=1, help="echo/gridbot pairs, alternating")
    parser.add_argument("--profile", action="store_true", help="also run gridbot under cProfile")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also run gridbot on PostgreSQL (postgresql://user@host:port/postgres: a fresh"
        " database is made there for the run and dropped after)",
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
