"""Latency at light load (issue #15 item 6): gridbot on a 1,000,000-issue database with its
sweeps running, against a bare PTB echo bot, in the same run.

``python -m bench.latency [--serial 300] [--paced 3000] [--rate 100] [--rounds 2] [--tick 10]``

Two loads, each for both bots: ``serial`` sends one group message at a time and waits for its
reply; ``paced`` sends ``--rate`` messages a second on a fixed schedule, whatever the replies
do. Latency is from the sandbox taking the message to the sandbox recording the reply; the
ratio is gridbot's over echo's, per percentile (target: p99 ≤ 2× echo).

Gridbot runs as in production (durable inbox and outbox, WAL, ``synchronous=FULL``) on a copy
of the cached 1M-issue database of ``bench.gen_issues`` (generated on first use; ``--cache-dir``
keeps it between worktrees; its backlog of chasing is worked off before each run, so the bot
starts where one that has been running would be), with ``[schedule] tick_seconds`` lowered
to ``--tick`` (10 s) so the chaser, feedback and check-in sweeps run several times during
the measurement instead of once a minute; ``--tick 1`` runs them back to back, a stress far
above production's.
Messages are chatter, 1 in 10 a ``#报事`` report (an issue, a worker card, a group ack); the
bench probe (``bench.gridbot_proc``) acks each one after every feature has handled it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench import gen_issues
from bench.common import (
    RESIDENT,
    TOKEN,
    gridbot_config,
    new_sandbox,
    percentile,
    spawn,
    stop,
    table,
)
from bot.app import schedule_features, work_calendar
from bot.config import load_config
from bot.core.clock import SystemClock
from bot.issues.service import IssueService
from sandbox.server import SandboxServer
from storage.db import Database
from storage.issues.repo import IssueRepo

CHATTER = ["今天天气不错", "快递到了吗？", "谢谢网格员！", "明天几点开会", "收到", "好的👍", "+1"]
REPORTS = ["#报事 小区东门路灯不亮", "#报事 5栋楼道堆放杂物", "#报事 3号楼电梯异响"]
WARMUP = 10**9


def text_for(n: int) -> str:
    words = REPORTS[n % len(REPORTS)] if n % 10 == 0 else CHATTER[n % len(CHATTER)]
    text = f"{words} [{n}]"
    _ECHOED.add(text)
    return text


_ECHOED: set[str] = set()  # what was sent, so only an echo of it counts as the echo's reply


class Replies:
    """Reply times by message number, read from what the sandbox recorded: the echo bot
    repeats the message (its ``[n]`` included), gridbot's probe answers ``ack n`` once every
    feature has handled it (a report's own group ack comes before)."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.seen = len(server.sent)
        self.at: dict[int, float] = {}

    def collect(self) -> None:
        for record in self.server.sent[self.seen :]:
            text = record.text or ""
            if text.startswith("ack "):
                number = text[4:]
            elif text.endswith("]") and text in _ECHOED:
                number = text.rsplit("[", 1)[1][:-1]
            else:
                continue
            if number.isdigit():
                self.at.setdefault(int(number), record.at)
        self.seen = len(self.server.sent)


async def serial(server: SandboxServer, group: int, count: int) -> list[float]:
    replies = Replies(server)
    latencies = []
    for n in range(count):
        sent = time.time()
        await server.user_sends(group, RESIDENT, text_for(n))
        deadline = sent + 30
        while n not in replies.at:
            if time.time() > deadline:
                raise TimeoutError(f"no reply to message {n} within 30 s")
            await asyncio.sleep(0.0002)
            replies.collect()
        latencies.append(replies.at[n] - sent)
    return latencies


async def paced(server: SandboxServer, group: int, count: int, rate: float) -> list[float]:
    replies = Replies(server)
    sent: dict[int, float] = {}
    start = time.time()
    for n in range(count):
        due = start + n / rate
        while time.time() < due:
            await asyncio.sleep(max(0.0, min(0.001, due - time.time())))
            replies.collect()
        sent[n] = time.time()
        await server.user_sends(group, RESIDENT, text_for(n))
    deadline = time.time() + 60
    while len(replies.at) < count:
        if time.time() > deadline:
            raise TimeoutError(f"{count - len(replies.at)} replies missing after 60 s")
        await asyncio.sleep(0.001)
        replies.collect()
    return [replies.at[n] - sent[n] for n in range(count)]


async def contender(name: str, args: argparse.Namespace, database: Path) -> dict[str, Any]:
    server, groups = new_sandbox(1)
    async with server:
        with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp:
            if name == "echo":
                proc = await spawn("bench.echo_proc", server.base_url)
            else:
                db = Path(tmp) / "gridbot.sqlite3"
                await asyncio.to_thread(copy_synced, database, db)  # never the cached file
                config = gridbot_config(server, db, groups, real_limits=False).replace(
                    "[outbox]", f"[schedule]\ntick_seconds = {args.tick}\n\n[outbox]"
                )
                (Path(tmp) / "config.toml").write_text(config, "utf-8")
                proc = await spawn("bench.gridbot_proc", str(Path(tmp) / "config.toml"))
            try:
                await server.user_sends(groups[0], RESIDENT, f"warm up [{WARMUP}]")
                await server.wait_for(lambda s: len(s.sent) >= 1, 300)
                await asyncio.sleep(args.settle)  # let the start-up catch-up sweep begin
                one = await serial(server, groups[0], args.serial)
                many = await paced(server, groups[0], args.paced, args.rate)
                return {"serial": one, "paced": many}
            finally:
                await stop(proc)


def copy_synced(source: Path, target: Path) -> None:
    """Copy the database for a run and wait until the copy is on the disk: the kernel
    otherwise writes its 2 GB back during the run, and the bot's commits waited behind that
    (commits of 0.36 and 0.66 s, the slowest message of a run 0.5–0.7 s), a cost of the
    bench's copying, not of the bot."""
    shutil.copyfile(source, target)
    sync(target)


def sync(path: Path) -> None:
    with path.open("rb+") as file:
        os.fsync(file.fileno())


def ms(values: list[float], q: float) -> float:
    return percentile(values, q) * 1000


async def work_off_backlog(path: Path) -> int:
    """Run the chaser and feedback sweeps over ``path`` until nothing is left to catch up.

    A generated database was never swept: its thousands of overdue issues would be chased
    200 steps a tick for the first minutes of any bot on it. A bot that has run for weeks is
    past that; the measurement is of its steady state, a tick finding a few steps due. The
    steps are recorded as a bot would, without queueing the messages (nobody to send them
    to). Returns the sweeps it took.
    """
    fake = SimpleNamespace(base_url="http://127.0.0.1:9/bot", base_file_url="http://127.0.0.1:9")
    os.environ.setdefault("GRIDBOT_TOKEN", TOKEN)
    with tempfile.TemporaryDirectory() as tmp:
        toml = Path(tmp) / "config.toml"
        toml.write_text(gridbot_config(fake, path, [-1001], real_limits=False), "utf-8")  # type: ignore[arg-type]
        config = load_config(toml)
    db = await Database.open(path)
    try:
        clock = SystemClock()
        issues = IssueService(IssueRepo(db), clock, config, work_calendar(config))
        schedule, _ = schedule_features(db, clock, config, issues)
        sweeps = 0
        while True:
            now = clock.now()
            if not await schedule.chaser.due(now) and sweeps:
                return sweeps
            await schedule.sweep(now)
            await issues.sweep_feedback(now)
            sweeps += 1
    finally:
        await db.close()


def database_for(args: argparse.Namespace) -> Path:
    """The cached issue database (generated first if missing; outside the event loop), swept
    once until nothing was left to catch up (a copy of its own, cached beside it)."""
    gen_args = argparse.Namespace(
        issues=args.issues,
        communities=300,
        grids=3000,
        days=730,
        seed=7,
        cache_dir=args.cache_dir,
        force=False,
    )
    database, seconds = gen_issues.ensure(gen_args)
    made = "reused" if seconds is None else f"generated in {seconds:.0f} s"
    print(f"database: {database} ({made}), {gen_issues.counts(database)['issues']:,} issues")
    swept = database.with_name(database.stem + "-swept.sqlite3")
    # Swept once is not enough: every hour the cached copy waits, more of its issues' steps
    # fall due, and a bot started on it hours later catches up 200 steps a tick, hundreds
    # of sends, for the whole run instead of the few a tick of a bot that runs on. So the
    # copy is brought up to now before every run (a copy of it, swept, then put in place).
    partial = swept.with_suffix(".tmp")
    for leftover in partial.parent.glob(partial.name + "*"):
        leftover.unlink()  # a stale -wal would be replayed into the new copy
    shutil.copyfile(swept if swept.exists() else database, partial)
    started = time.time()
    sweeps = asyncio.run(work_off_backlog(partial))
    sync(partial)
    partial.rename(swept)
    print(f"backlog worked off in {sweeps} sweeps, {time.time() - started:.0f} s: {swept}")
    return swept


async def main(args: argparse.Namespace, database: Path) -> None:
    results: list[tuple[int, str, dict[str, Any]]] = []
    for round_ in range(1, args.rounds + 1):
        order = ("echo", "gridbot") if round_ % 2 else ("gridbot", "echo")
        for name in order:
            results.append((round_, name, await contender(name, args, database)))
    rows = []
    ratios: dict[str, list[tuple[float, float]]] = {"serial": [], "paced": []}
    for round_ in range(1, args.rounds + 1):
        got = {name: r for n, name, r in results if n == round_}
        for load in ("serial", "paced"):
            echo, grid = got["echo"][load], got["gridbot"][load]
            for name, values in (("echo", echo), ("gridbot", grid)):
                rows.append(
                    [str(round_), load, name, str(len(values))]
                    + [f"{ms(values, q):.1f}" for q in (50, 99)]
                    + [f"{max(values) * 1000:.1f}"]
                )
            ratios[load].append((ms(grid, 50) / ms(echo, 50), ms(grid, 99) / ms(echo, 99)))
    print(
        f"\nlatency at light load: serial (one at a time) and paced at {args.rate:.0f}/s, "
        f"gridbot on {args.issues:,} issues with every sweep each {args.tick} s"
    )
    print(table(["round", "load", "bot", "messages", "p50 ms", "p99 ms", "max ms"], rows))
    for load, pairs in ratios.items():
        text = ", ".join(f"p50 {a:.2f}x / p99 {b:.2f}x" for a, b in pairs)
        worst = max(b for _, b in pairs)
        verdict = "met" if worst <= 2.0 else "NOT met"
        print(f"{load}: gridbot/echo {text}; p99 ≤ 2x echo: {verdict}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__)
    parser.add_argument("--serial", type=int, default=300, help="messages sent one at a time")
    parser.add_argument("--paced", type=int, default=3000, help="messages sent at --rate")
    parser.add_argument("--rate", type=float, default=100.0, help="paced messages per second")
    parser.add_argument("--rounds", type=int, default=2, help="echo/gridbot pairs, alternating")
    parser.add_argument("--issues", type=int, default=1_000_000)
    parser.add_argument(
        "--tick", type=int, default=10, help="gridbot's sweep interval, seconds (production: 60)"
    )
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the warm-up")
    parser.add_argument("--cache-dir", help="where bench.gen_issues keeps the database")
    parser.add_argument("--work-dir", help="where the database copy goes (default: tmp)")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    asyncio.run(main(arguments, database_for(arguments)))
