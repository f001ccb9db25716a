"""End to end (issue #18 item 4): two reports resolved through the sandbox, one by its deadline
and one after it; the next morning's digest to the secretary shows 按期办结率 50%."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.issues.presenter import issue_service
from tests.support import factories as f
from tests.support.harness import FAST, running_bot, sandbox_world, settled, step


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=f.SHANGHAI)


async def test_next_mornings_digest_shows_the_on_time_rate(tmp_path: Path) -> None:
    clock = f.FakeClock(at(3, 9))
    async with sandbox_world(tmp_path, outbox=FAST) as world:
        server = world.server
        for user in (f.SECRETARY, f.WORKER_G1, f.PROPERTY_USER):
            await server.start_private(user)
        async with running_bot(world, clock) as gridbot:
            issues = issue_service(gridbot.services)
            for text in ("#报事 3号楼门口路灯坏了", "#报事 5号楼电梯停运"):
                await server.user_sends(f.G1_CHAT, f.RESIDENT, text)
                await step(world, gridbot)
            await world.wait_sent(f.G1_CHAT, "#2")
            await issues.assign(f.WORKER_G1, 1, "property", resolve_by=at(3, 12))
            await issues.assign(f.WORKER_G1, 2, "property", resolve_by=at(3, 12))
            await server.user_sends(f.PROPERTY_USER, f.PROPERTY_USER, "/done 1 已更换灯泡")
            await step(world, gridbot)
            await world.wait_sent(f.PROPERTY_USER, "#1：已办结")
            clock.set(at(3, 12, 30))  # half an hour past #2's deadline
            await server.user_sends(f.PROPERTY_USER, f.PROPERTY_USER, "/done 2 已修复")
            await step(world, gridbot)
            await world.wait_sent(f.PROPERTY_USER, "#2：已办结")
            await settled(gridbot)
        clock.set(at(4, 8, 1))
        async with running_bot(world, clock) as gridbot:
            digest = await world.wait_sent(f.SECRETARY, "每日简报")
            await settled(gridbot)

    text = digest.text or ""
    assert "按期办结率\n昨日：50.0%（办结 2，按期 1）\n近30天：50.0%（办结 2，按期 1）" in text
    assert "各网格（近30天）：第一网格 50.0%、第二网格 —" in text
