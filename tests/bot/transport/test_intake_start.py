"""After a restart, what waited is answered before the catch-up sweep runs (issue #15 item 5).

The first getUpdates asks without waiting, so the updates queued during the outage come at
once (and none means none, not a long poll); the sweep of missed scheduled work starts once
they are dispatched, since on a big database it holds the writer for seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import bot.app
from tests.support import factories as f
from tests.support.harness import built_bot, sandbox_world, settled


async def test_the_catch_up_sweep_starts_after_the_waiting_updates_are_handled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox_at_sweep: list[dict[str, int]] = []
    sweep = bot.app.run_sweeps

    async def recording(services: Any, username: str) -> None:
        inbox_at_sweep.append(await gridbot.intake.inbox.counts())
        await sweep(services, username)

    monkeypatch.setattr(bot.app, "run_sweeps", recording)
    async with sandbox_world(tmp_path) as world:
        await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "#报事 3号楼门口路灯坏了")
        gridbot = await built_bot(world)
        await gridbot.start()
        try:
            await settled(gridbot)
            await world.wait_sent(f.G1_CHAT, "已登记")
        finally:
            await gridbot.stop()
        polls = [c for c in world.server.calls if c.method == "getUpdates"]
    assert inbox_at_sweep == [{"done": 1}]
    assert polls[0].params["timeout"] == 0  # the first asks without waiting
    assert all(c.params["timeout"] == 1 for c in polls[1:])  # then long polls as configured
