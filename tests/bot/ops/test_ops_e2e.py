"""Health, metrics, the daily backup, status and dead letters against a running bot (issue #17)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from telegram import Update
from telegram.ext import MessageHandler, filters

from bot.__main__ import main
from bot.app import build
from bot.context import BotContext
from bot.ops.backups import backup_if_due
from storage.ops.backup import backups
from storage.transport.inbox import bot_key
from tests.support import factories as f
from tests.support.harness import QUIET_MOMENT, World, running_bot, sandbox_world, settled, step
from tests.support.ports import unused_port


async def fetch(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}{path}") as response:
            return response.status, await response.text()


async def test_healthz_and_metrics_describe_the_running_bot(tmp_path: Path) -> None:
    port = unused_port()
    async with sandbox_world(tmp_path, metrics={"port": port}) as world:
        async with running_bot(world) as gridbot:
            await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "#报事 3号楼2单元路灯坏了")
            await step(world, gridbot)
            status, health = await fetch(port, "/healthz")
            _, metrics = await fetch(port, "/metrics")
            # A message that has waited past the limit makes the bot unhealthy, with the reason.
            async with gridbot.db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO outbox (bot, chat_id, method, payload, state, created_at,"
                    " not_before) VALUES (?, 1, 'sendMessage', '{}', 'pending',"
                    " '2000-01-01T00:00:00Z', 1e12)",
                    (bot_key(world.config.telegram.token),),
                )
            late_status, late = await fetch(port, "/healthz")
    assert (status, health) == (200, "ok\n")
    assert 'gridbot_updates{state="done"} 1.0' in metrics
    assert 'gridbot_issues_open{community="阅海湾社区",grid="g1"} 1.0' in metrics
    assert "gridbot_outbox_oldest_pending_seconds" in metrics
    assert 'gridbot_sweep_seconds_count{sweep="schedule"}' in metrics
    assert late_status == 503 and "outbox" in late


async def test_the_daily_backup_runs_once_a_day_after_its_time(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    async with sandbox_world(tmp_path, backup={"folder": str(folder), "keep": 2}) as world:
        clock = f.FakeClock(datetime(2026, 12, 7, 3, 0, tzinfo=f.SHANGHAI))
        gridbot = await build(world.config, clock=clock)  # not started: no tick of its own
        try:
            services = gridbot.services
            made = [await backup_if_due(services, clock.now())]  # 03:00: not yet
            for _ in range(3):  # from 03:30 on three days, each swept twice
                made.append(await backup_if_due(services, clock.advance(minutes=30)))
                made.append(await backup_if_due(services, clock.advance(minutes=5)))
                clock.set(clock.now().replace(hour=3, minute=0) + timedelta(days=1))
        finally:
            await gridbot.db.close()
    assert made[0] is None
    assert [m is not None for m in made[1:]] == [True, False] * 3
    assert [p.name for p in backups(folder)] == [
        "gridbot-20261208-033000.sqlite3",
        "gridbot-20261209-033000.sqlite3",
    ]


async def cli(*args: str) -> int:
    """``gridbot …`` as typed in a shell (it runs its own event loop, so in a thread here)."""
    return await asyncio.to_thread(main, list(args))


def write_config(world: World, tmp_path: Path) -> Path:
    storage = world.config.storage.path
    path = tmp_path / "config.toml"
    path.write_text(
        f'[telegram]\ntoken = "{world.config.telegram.token}"\n[storage]\npath = "{storage}"\n'
        + '[community]\nname = "阅海湾社区"\nsecretaries = [1]\n'
        + '[[community.grids]]\nkey = "g1"\nname = "第一网格"\nchat_id = -1001\nworkers = [2]\n',
        encoding="utf-8",
    )
    return path


async def test_status_and_dead_retry_rerun_a_failed_update_after_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = True
    seen: list[str] = []

    async def flaky(update: Update, context: BotContext) -> None:
        if broken:
            raise RuntimeError("handler bug")
        assert update.effective_message is not None
        seen.append(update.effective_message.text or "")

    async with sandbox_world(tmp_path) as world:
        async with running_bot(world) as gridbot:
            gridbot.app.add_handler(MessageHandler(filters.Regex("^boom$"), flaky), group=5)
            await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "boom")
            await step(world, gridbot)
            [dead_update] = await gridbot.intake.inbox.dead()
            update_id = dead_update.update_id
        config = write_config(world, tmp_path)
        assert await cli("status", "--config", str(config)) == 0
        status = capsys.readouterr().out
        assert await cli("dead", "retry", str(update_id), "--config", str(config)) == 0
        retried = capsys.readouterr().out
        assert await cli("dead", "retry", str(update_id), "--config", str(config)) == 1
        broken = False  # the fix is deployed; the next start runs the update again
        async with running_bot(world, f.FakeClock(QUIET_MOMENT)) as gridbot:
            gridbot.app.add_handler(MessageHandler(filters.Regex("^boom$"), flaky), group=5)
            await settled(gridbot)
            counts = await gridbot.intake.inbox.counts()
    assert "网格通运行状态｜阅海湾社区" in status
    assert "处理失败 1" in status and f"消息 {update_id}" in status and "handler bug" in status
    assert f"消息 {update_id} 已放回队列" in retried
    assert seen == ["boom"] and counts.get("dead", 0) == 0
