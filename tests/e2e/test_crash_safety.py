"""Crash safety: SIGKILL the bot at random moments; nothing is lost and nothing happens twice.

The bot runs as a subprocess (tests/support/probe_bot.py: the real app plus one probe feature
whose every message records one effect and queues one reply). The sandbox runs here.

Delivery is at least once: a kill between Telegram's answer and the write of the "sent" mark
repeats that message. The mark is written right after each delivery (issue #13 item 1), so
only the sends in flight at the kill can repeat: at most the sender's concurrency per kill,
and the probe's acks all go to one group, where the sender has one send in flight at a time.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import sqlite3
from collections import Counter
from multiprocessing.process import BaseProcess
from pathlib import Path

from sandbox.server import SandboxServer
from storage.backends import open_database
from storage.issues import rollups
from tests.support import factories as f
from tests.support import postgres as pg
from tests.support import probe_bot

MESSAGES = 300
KILLS = 6
IN_FLIGHT = 1  # sends in flight at once: one chat, and the sender sends one at a time per chat


def _write_config(path: Path, server: SandboxServer, db: Path | str) -> None:
    """``db``: a SQLite file, or a PostgreSQL URL (the suite's PostgreSQL run)."""
    storage = f'url = "{db}"' if isinstance(db, str) else f'path = "{db}"'
    path.write_text(
        f"""
[telegram]
base_url = "{server.base_url}"
base_file_url = "{server.base_file_url}"
poll_timeout = 1

[storage]
{storage}

[schedule]
rules = []  # no civic-calendar announcement may land among the acks, whatever the hour

[outbox]
group_per_minute = 100000
global_per_second = 100000

[community]
name = "阅海湾社区"

[[community.grids]]
key = "g1"
name = "第一网格"
chat_id = {f.G1_CHAT}
workers = [{f.WORKER_G1}]

[[community.handlers]]
key = "property"
name = "万象美物业"
user_id = {f.PROPERTY_USER}
kind = "property"
""",
        encoding="utf-8",
    )


# Each bot process is forked from a server that imported the bot once: a fresh interpreter
# spent one to two seconds importing it, seven times per run (issue #12 item 6).
_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload(["tests.support.probe_bot"])


def _spawn(config: Path) -> BaseProcess:
    bot = _FORKS.Process(target=probe_bot.run, args=(str(config), f.ENV), daemon=True)
    bot.start()
    return bot


async def _ended(bot: BaseProcess) -> None:
    """Wait for the process to exit without blocking the sandbox serving it meanwhile."""
    await asyncio.get_running_loop().run_in_executor(None, bot.join)


async def test_crash_safety_sigkill_loses_nothing_and_repeats_no_effect(tmp_path: Path) -> None:
    rng = random.Random(20261121)
    db_path = tmp_path / "gridbot.sqlite3"
    url = await pg.database_for_processes(db_path) if pg.ACTIVE else None
    async with SandboxServer() as server:
        server.add_bot(token=f.ENV["GRIDBOT_TOKEN"], username="gridbot")
        server.add_user("王", "阿姨", id=f.RESIDENT)
        server.add_group("一网格", members=[f.RESIDENT], id=f.G1_CHAT)
        config = tmp_path / "config.toml"
        _write_config(config, server, url or db_path)
        bot = _spawn(config)
        sent, kills = 0, 0

        def acks(_: object = None) -> int:
            return sum(1 for r in server.sent if r.chat_id == f.G1_CHAT)

        while sent < MESSAGES:
            burst = min(MESSAGES - sent, rng.randint(30, 70))
            for n in range(sent, sent + burst):
                await server.user_sends(f.G1_CHAT, f.RESIDENT, f"probe {n}")
            sent += burst
            # Kill mid-way through delivering the burst's acks: some sent, some owed.
            mid_way = acks() + rng.randint(burst // 5, burst * 4 // 5)
            await server.wait_for(lambda _, target=mid_way: acks() >= target, timeout=30)
            if kills < KILLS:
                bot.kill()  # SIGKILL
                await _ended(bot)
                kills += 1
                bot = _spawn(config)

        def all_acked(_: object) -> bool:
            acked = {r.text for r in server.sent if r.chat_id == f.G1_CHAT}
            return len(acked) == MESSAGES

        try:
            await server.wait_for(all_acked, timeout=90)
        finally:
            bot.terminate()  # SIGTERM: a clean stop
            await asyncio.wait_for(_ended(bot), timeout=30)
        replies = Counter(r.text for r in server.sent if r.chat_id == f.G1_CHAT)

    db = await open_database(url or f"sqlite:///{db_path}")
    try:  # the rollups followed every issue event committed before each kill, and no other
        rollup_differences = await rollups.differences(db)
        issues = await db.fetchall("SELECT state, COUNT(*) FROM issues GROUP BY state")
    finally:
        await db.close()
    if url is not None:
        effects = Counter(n for (n,) in await pg.fetch(url, "SELECT n FROM probe_effects"))
        inbox = dict(await pg.fetch(url, "SELECT state, COUNT(*) FROM inbox GROUP BY state"))
        await pg.drop_database(url)
    else:
        with sqlite3.connect(db_path) as conn:
            effects = Counter(n for (n,) in conn.execute("SELECT n FROM probe_effects"))
            inbox = dict(
                conn.execute("SELECT state, COUNT(*) FROM inbox GROUP BY state").fetchall()
            )
    duplicated = sum(count - 1 for count in replies.values())
    print(
        f"\ncrash safety: {kills} SIGKILLs, {MESSAGES} messages, "
        f"{duplicated} re-sent replies (allowed: {kills * IN_FLIGHT}, those in flight at a kill)"
    )
    assert kills >= 5
    assert inbox == {"done": MESSAGES}, "an update was lost or left undone"
    assert set(effects) == set(range(MESSAGES)), "an effect is missing"
    assert max(effects.values()) == 1, "an effect happened twice"
    assert set(replies) == {f"ack {n}" for n in range(MESSAGES)}, "a reply was lost"
    assert duplicated <= kills * IN_FLIGHT, "a reply delivered before the kill was sent again"
    states = {state: count for state, count in issues}
    assert sum(states.values()) == MESSAGES and states.get("resolved", 0) > MESSAGES // 2
    assert rollup_differences == [], "the rollups differ from the issues after the kills"
