"""Failover (issue #16): two processes serve one bot on one PostgreSQL database; the active
one is SIGKILLed during 500 messages and the standby takes over.

One process holds the bot's intake lock (storage.backends.locks) and the other waits for it.
Each kill is followed by a new standby, so two processes are always there. Every message must
become exactly one effect, every update be handled once, every reply arrive; a reply can be
repeated only if it was in flight at a kill (as in the crash test).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from tests.e2e.test_crash_safety import IN_FLIGHT, _ended, _spawn, _write_config
from tests.support import factories as f
from tests.support import postgres as pg

MESSAGES = 500
KILLS = 3
TAKEOVER_LIMIT = 10.0  # seconds, the requirement for a standby taking over

pytestmark = pytest.mark.skipif(
    not pg.ACTIVE, reason="several processes on one database need PostgreSQL (the suite's run)"
)


async def test_failover_sigkill_the_active_process_the_standby_takes_over(
    tmp_path: Path,
) -> None:
    rng = random.Random(20261206)
    url = await pg.database_for_processes(tmp_path / "failover")
    takeovers: list[float] = []
    async with SandboxServer() as server:
        server.add_bot(token=f.ENV["GRIDBOT_TOKEN"], username="gridbot")
        server.add_user("王", "阿姨", id=f.RESIDENT)
        server.add_group("一网格", members=[f.RESIDENT], id=f.G1_CHAT)
        config = tmp_path / "config.toml"
        _write_config(config, server, url)

        def acks(_: object = None) -> int:
            return sum(1 for r in server.sent if r.chat_id == f.G1_CHAT)

        active = _spawn(config)
        await server.user_sends(f.G1_CHAT, f.RESIDENT, "probe 0")
        await server.wait_for(lambda _: acks() >= 1, timeout=60)  # the first one is serving
        standby = _spawn(config)
        sent, kills = 1, 0
        try:
            while sent < MESSAGES:
                burst = min(MESSAGES - sent, rng.randint(60, 140))
                for n in range(sent, sent + burst):
                    await server.user_sends(f.G1_CHAT, f.RESIDENT, f"probe {n}")
                sent += burst
                mid_way = acks() + rng.randint(burst // 5, burst * 4 // 5)
                await server.wait_for(lambda _, target=mid_way: acks() >= target, timeout=60)
                if kills < KILLS and sent < MESSAGES:
                    active.kill()  # SIGKILL the one serving
                    await _ended(active)
                    killed_at = time.monotonic()
                    kills += 1
                    active, standby = standby, _spawn(config)
                    # Taken over: a message sent after the kill is answered by the former
                    # standby (a reply the killed one had in flight proves nothing).
                    await server.user_sends(f.G1_CHAT, f.RESIDENT, f"probe {sent}")
                    await server.wait_for(
                        lambda _, text=f"ack {sent}": any(r.text == text for r in server.sent),
                        timeout=60,
                    )
                    takeovers.append(time.monotonic() - killed_at)
                    sent += 1

            def all_acked(_: object) -> bool:
                acked = {r.text for r in server.sent if r.chat_id == f.G1_CHAT}
                return len(acked) == MESSAGES

            await server.wait_for(all_acked, timeout=120)
        finally:
            for bot in (active, standby):
                bot.terminate()
            for bot in (active, standby):
                await asyncio.wait_for(_ended(bot), timeout=30)
        replies = Counter(r.text for r in server.sent if r.chat_id == f.G1_CHAT)

    effects = Counter(n for (n,) in await pg.fetch(url, "SELECT n FROM probe_effects"))
    inbox = dict(await pg.fetch(url, "SELECT state, COUNT(*) FROM inbox GROUP BY state"))
    await pg.drop_database(url)
    duplicated = sum(count - 1 for count in replies.values())
    print(
        f"\nfailover: {kills} SIGKILLs of the active process, {MESSAGES} messages, takeover "
        f"{', '.join(f'{t:.1f}' for t in takeovers)} s, {duplicated} re-sent replies"
    )
    assert kills == KILLS
    assert inbox == {"done": MESSAGES}, "an update was lost or left undone"
    assert set(effects) == set(range(MESSAGES)), "an effect is missing"
    assert max(effects.values()) == 1, "an effect happened twice"
    assert set(replies) == {f"ack {n}" for n in range(MESSAGES)}, "a reply was lost"
    assert duplicated <= kills * IN_FLIGHT, "a reply delivered before the kill was sent again"
    assert max(takeovers) < TAKEOVER_LIMIT, f"a standby took {max(takeovers):.1f} s"
