"""The real gridbot in a child process, with a bench feature (``python -m bench.gridbot_proc``).

All handlers of bot/app.py run as in production (the issue loop turns ``#报事`` messages into
issues). The bench adds, in handler group 1 (after every feature), tests/support/probe_bot.py's
probe: each group text message ending in ``[n]`` records one effect row and queues one reply
``ack n`` in the update's transaction. Per chat the outbox sends in queue order, so ``ack n``
reaching the sandbox means message n was fully handled and its replies delivered.

``fanout`` mode: after start, queue one message to each group id listed in a JSON file, each
in its own transaction, as a reminder sweep would.
"""

from __future__ import annotations

# As `gridbot run` does (bot.core.collector): no cyclic collection while the bot loads, so the
# imports below come after this statement.
# ruff: noqa: E402
import gc

gc.disable()

import argparse
import asyncio
import json
import logging
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import MessageHandler, filters

from bot.app import build
from bot.config import load_config
from bot.context import BotContext
from bot.core import collector

TAG = re.compile(r"\[(\d+)\]$")
REMINDER = "【提醒】今晚 20:00 停水，请提前储水。"


async def record_probe(update: Update, context: BotContext) -> None:
    message = update.effective_message
    match = TAG.search(message.text or "") if message else None
    if message is None or match is None:
        return
    number = int(match.group(1))
    services = context.services
    async with services.db.transaction() as tx:
        # Deferred like an outbox row: a write nobody reads back rides with the update's next
        # statement instead of costing a hop of its own (storage.db.Transaction.defer).
        tx.defer("INSERT INTO bench_effects (n) VALUES (?)", (number,))
    await services.outbox.send_message(message.chat_id, f"ack {number}")


def time_commits() -> list[float]:
    """Wall time of every COMMIT (BENCH_LOOPWATCH): an update waits for the writer while
    one runs, and a commit that checkpoints the WAL into the database file takes longer."""
    from storage.db import Transaction

    seconds: list[float] = []
    control = Transaction._control

    async def timed(self: Transaction, sql: str) -> None:
        started = time.perf_counter()
        try:
            await control(self, sql)
        finally:
            if sql == "COMMIT":
                seconds.append(time.perf_counter() - started)

    Transaction._control = timed  # type: ignore[method-assign]

    def slow_logged(statement: Any) -> Any:
        """``statement`` (Transaction.fetchall or .execute), noting calls over 3 ms."""

        async def timed_statement(self: Transaction, sql: str, params: Any = ()) -> Any:
            started = time.perf_counter()
            try:
                return await statement(self, sql, params)
            finally:
                took = time.perf_counter() - started
                if took > 0.003:
                    SLOW_STATEMENTS.append((took, sql[:120]))

        return timed_statement

    Transaction.fetchall = slow_logged(Transaction.fetchall)  # type: ignore[method-assign]
    Transaction.execute = slow_logged(Transaction.execute)  # type: ignore[method-assign]
    return seconds


# Statements in write transactions (on the loop's thread) over 3 ms (BENCH_LOOPWATCH).
SLOW_STATEMENTS: list[tuple[float, str]] = []


def phase(name: str) -> None:
    """With BENCH_LAUNCHED (the launcher's time.time() just before it started this process),
    print how long after launch ``name`` was reached (bench.startup --phases)."""
    launched = os.environ.get("BENCH_LAUNCHED")
    if launched:
        print(f"phase {name}: {(time.time() - float(launched)) * 1000:.0f} ms", file=sys.stderr)


async def main(args: argparse.Namespace) -> None:
    phase("imported")
    gridbot = await build(load_config(Path(args.config)))
    collector.resume()
    phase("built")
    async with gridbot.db.transaction() as tx:
        await tx.execute(
            "CREATE TABLE IF NOT EXISTS bench_effects (id INTEGER PRIMARY KEY, n INTEGER)"
        )
    probe = MessageHandler(filters.TEXT & filters.ChatType.GROUPS, record_probe)
    gridbot.app.add_handler(probe, group=1)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    watch = None
    if os.environ.get("BENCH_LOOPWATCH"):  # where the loop stalls (bench.loopwatch)
        from bench.loopwatch import LoopWatch

        watch = LoopWatch(threshold=0.003)
        watch.install()
        commits = time_commits()
    if os.environ.get("BENCH_STATEMENTS"):  # each write transaction's statements (report_cost)
        from bench import stmt_trace

        stmt_trace.install(Path(os.environ["BENCH_STATEMENTS"]))
    await gridbot.start()
    phase("started")
    if args.fanout:
        chats = json.loads(Path(args.fanout).read_text())  # noqa: ASYNC240
        for chat_id in chats:
            await gridbot.services.outbox.send_message(chat_id, REMINDER)
    try:
        await stop.wait()
    finally:
        await gridbot.stop()
        if watch is not None:
            from bench.loopwatch import summary

            watch.uninstall()
            pauses = sorted(watch.gc_pauses, key=lambda p: -p[1])[:3]
            print(
                f"loopwatch: {len(watch.stalls)} callbacks >= 3 ms; gc {pauses}", file=sys.stderr
            )
            print(summary(watch.stalls, 15), file=sys.stderr)
            print("slow statements:", file=sys.stderr)
            for took, sql in sorted(SLOW_STATEMENTS, reverse=True)[:12]:
                print(f"  {took * 1000:6.1f} ms {sql}", file=sys.stderr)
            slow = sorted(commits, reverse=True)[:8]
            print(
                f"commits: {len(commits)}, slowest ms {[round(c * 1000, 1) for c in slow]}",
                file=sys.stderr,
            )


def run() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--fanout", help="JSON file with the group ids to remind")
    parser.add_argument("--profile", help="write a cProfile of the whole run here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not args.profile:
        asyncio.run(main(args))
        return
    import cProfile  # only when profiling: the start-up bench times this process's imports

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        asyncio.run(main(args))
    finally:
        profiler.disable()
        profiler.dump_stats(args.profile)


if __name__ == "__main__":
    run()
