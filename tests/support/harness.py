"""End-to-end harness: the sandbox Bot API server plus the real gridbot on 127.0.0.1.

The sandbox holds the test community's people and groups with the ids the config uses, so a
test plays residents and workers through the sandbox and reads what the bot sent from it.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.app import GridBot, build, build_features
from bot.config import Config, config_from_dict
from bot.context import Features
from bot.core.clock import Clock, RunningClock
from bot.core.rendering import Renderer
from sandbox.flood import FloodLimits
from sandbox.models import SentRecord
from sandbox.server import SandboxServer
from storage.db import Database
from tests.support import factories as f

TOKEN = f.ENV["GRIDBOT_TOKEN"]
QUIET_MOMENT = datetime(2026, 11, 18, 14, 0, tzinfo=f.SHANGHAI)

PEOPLE: dict[int, tuple[str, str]] = {
    f.WORKER_G1: ("张", "网格员"),
    f.LEADER_G1: ("李", "网格长"),
    f.WORKER_G2: ("赵", "网格员"),
    f.SECRETARY: ("陈", "书记"),
    f.PROPERTY_USER: ("万象美", "物业"),
    f.CITY_USER: ("市政所", "老刘"),
    f.RESIDENT: ("王", "阿姨"),
    f.NEIGHBOUR: ("孙", "大爷"),
    f.STRANGER: ("路人", "甲"),
}


@dataclass
class World:
    server: SandboxServer
    config: Config

    def sent_to(self, chat_id: int) -> list[SentRecord]:
        return [record for record in self.server.sent if record.chat_id == chat_id]

    def texts_to(self, chat_id: int) -> list[str]:
        return [r.text or "" for r in self.sent_to(chat_id)]

    async def wait_sent(self, chat_id: int, contains: str, within: float = 5.0) -> SentRecord:
        """Wait until the bot sent ``chat_id`` a message containing ``contains``; return it."""

        def found(_: object) -> SentRecord | None:
            for record in reversed(self.server.sent):
                if record.chat_id == chat_id and contains in (record.text or ""):
                    return record
            return None

        result: SentRecord = await self.server.wait_for(found, timeout=within)
        return result


def test_config(server: SandboxServer, tmp_path: Path, **overrides: Any) -> Config:
    data = copy.deepcopy(f.community_data())
    data["telegram"] = {
        "base_url": server.base_url,
        "base_file_url": server.base_file_url,
        "poll_timeout": 1,
    }
    data["storage"] = {"path": str(tmp_path / "gridbot.sqlite3")}
    # Telegram's pacing (1 message a second per private chat) made every conversation wait a
    # second per reply; the tests of the limits themselves pass the limits they check.
    data["outbox"] = dict(FAST)
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    return config_from_dict(data, f.ENV)


@asynccontextmanager
async def sandbox_world(
    tmp_path: Path,
    *,
    flood: FloodLimits | None = None,
    server_clock: Callable[[], float] | None = None,
    **overrides: Any,
) -> AsyncIterator[World]:
    """A sandbox holding the test community: grid groups g1 and g2 and everyone in them.

    ``server_clock`` is the sandbox's time (flood windows, message dates); a test that must
    cross Telegram's minute-long group window without waiting gives it and the sender one
    clock it can move forward."""
    async with SandboxServer(flood=flood, clock=server_clock) as server:
        server.add_bot(token=TOKEN, username="gridbot", first_name="网格通")
        for user_id, (first, last) in PEOPLE.items():
            server.add_user(first, last, id=user_id)
        g1 = [f.WORKER_G1, f.LEADER_G1, f.RESIDENT, f.NEIGHBOUR, f.STRANGER]
        server.add_group("阅海湾第一网格群", members=g1, id=f.G1_CHAT)
        server.add_group("阅海湾第二网格群", members=[f.WORKER_G2, f.STRANGER], id=f.G2_CHAT)
        yield World(server, test_config(server, tmp_path, **overrides))


# The sender's clock in end-to-end tests: services see the test's clock standing still, the
# sender's time runs on (issue #12); a test skips a wait by advancing the test's clock.
SenderClock = RunningClock


async def built_bot(
    world: World, clock: Clock | None = None, sender_clock: SenderClock | None = None
) -> GridBot:
    """The real gridbot, not started: services on ``clock`` (or a fake one standing still at
    a quiet moment), the sender on ``sender_clock`` (or a :class:`SenderClock` over it)."""
    gridbot = await build(world.config, clock=clock or f.FakeClock(QUIET_MOMENT))
    gridbot.sender.clock = sender_clock or SenderClock(gridbot.services.clock)
    return gridbot


@asynccontextmanager
async def running_bot(
    world: World, clock: Clock | None = None, sender_clock: SenderClock | None = None
) -> AsyncIterator[GridBot]:
    """The real gridbot, polling the sandbox, until the block ends (then stopped cleanly).

    Without a clock of its own a test gets a fake one standing still at a quiet moment (a
    Wednesday afternoon, nothing scheduled), so the time of day a suite runs at never lets
    a real reminder or digest slip into what a test asserts.
    """
    gridbot = await built_bot(world, clock, sender_clock)
    await gridbot.start()
    try:
        yield gridbot
    finally:
        await gridbot.stop()


async def settled(gridbot: GridBot, within: float = 10.0) -> None:
    """Wait until every stored update is dispatched and every due message delivered."""
    await gridbot.wait_idle(within)


# Telegram's per-chat pacing (1 message/s in a private chat) would make every test slow.
FAST = {"private_per_second": 1000.0, "group_per_minute": 10000, "global_per_second": 10000.0}


async def step(world: World, gridbot: GridBot) -> None:
    """Wait until the bot has taken every update from the sandbox and finished with them."""
    await world.server.wait_for(lambda _: not world.server.pending_updates(TOKEN) or None)
    await settled(gridbot)


async def press(world: World, gridbot: GridBot, record: SentRecord, user: int, label: str) -> None:
    """``user`` presses the button ``label`` on the sent message ``record``; then ``step``."""
    assert record.message_id is not None
    await world.server.press_button(record.chat_id, record.message_id, user, button_text=label)
    await step(world, gridbot)


@asynccontextmanager
async def two_communities(tmp_path: Path) -> AsyncIterator[Features]:
    """The services of one deployment of two communities (``f.make_two_communities``) on a
    fresh database, no Telegram: what the per-community rules are tested against."""
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    try:
        yield await build_features(db, f.FakeClock(), f.make_two_communities(), Renderer())
    finally:
        await db.close()
