"""End to end: how a report is read at intake (issue #13 items 9–11) through real PTB and the
sandbox Bot API server."""

from __future__ import annotations

from pathlib import Path

from bot.app import GridBot
from bot.issues.service import IssueService
from tests.support import factories as f
from tests.support.harness import FAST, World, running_bot, sandbox_world, step


def issues(gridbot: GridBot) -> IssueService:
    service: IssueService = gridbot.services.features.issues
    return service


async def open_private_chats(world: World, gridbot: GridBot, *users: int) -> None:
    for user in users:
        await world.server.start_private(user)
    await step(world, gridbot)


async def test_a_worry_about_fire_is_not_an_emergency(tmp_path: Path) -> None:
    """万一着火怎么办: the group sees the ack only, and the issue keeps its normal limit."""
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await open_private_chats(world, gridbot, f.WORKER_G1)
        await world.server.user_sends(
            f.G1_CHAT, f.RESIDENT, "#报事 3号楼楼道堆满纸箱，万一着火怎么办"
        )
        await step(world, gridbot)
        await world.wait_sent(f.WORKER_G1, "#1")
        group = world.texts_to(f.G1_CHAT)
        assert len(group) == 1 and "#1" in group[0]
        assert not any("119" in text or "🚨" in text for text in group)
        assert not any("🚨" in text for text in world.texts_to(f.WORKER_G1))
        assert not (await issues(gridbot).get(1, f.WORKER_G1)).urgent


async def test_a_doubtful_fire_is_checked_by_the_worker_privately(tmp_path: Path) -> None:
    """好像着火了: the worker is asked to check; the group is not told to call 119."""
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await open_private_chats(world, gridbot, f.WORKER_G1)
        await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "#求助 3号楼后面好像着火了")
        await step(world, gridbot)
        check = await world.wait_sent(f.WORKER_G1, "疑似紧急，请核实")
        assert "#1" in (check.text or "") and "119" in (check.text or "")
        assert not any("119" in text for text in world.texts_to(f.G1_CHAT))
