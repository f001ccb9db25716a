"""End to end: how a report is read at intake (issue #13 items 9–11) through real PTB and the
sandbox Bot API server."""

from __future__ import annotations

from pathlib import Path

from bot.app import GridBot
from bot.issues.service import IssueService
from tests.support import factories as f
from tests.support.harness import FAST, World, press, running_bot, sandbox_world, step


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


async def test_a_complaint_merged_into_a_report_keeps_its_reporter_from_the_handler(
    tmp_path: Path,
) -> None:
    """Issue #13 item 11: the 交办单 names the 报事 reporter and masks whoever filed the 投诉,
    though the complaint now lives on the report."""
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        server = world.server
        await open_private_chats(world, gridbot, f.WORKER_G1, f.PROPERTY_USER)
        await server.user_sends(f.G1_CHAT, f.RESIDENT, "#报事 3号楼2单元门口路灯坏了")
        await step(world, gridbot)
        card = await world.wait_sent(f.WORKER_G1, "#1")
        await server.user_sends(f.G1_CHAT, f.NEIGHBOUR, "#投诉 3号楼2单元路灯不亮，物业不管")
        await step(world, gridbot)
        hint = await world.wait_sent(f.WORKER_G1, "可能与 #1 重复")
        await press(world, gridbot, hint, f.WORKER_G1, "合并到 #1")
        for label in ("受理", "交办", "万象美物业"):
            await press(world, gridbot, card, f.WORKER_G1, label)
        order = (await world.wait_sent(f.PROPERTY_USER, "交办单")).text or ""
        assert "王 阿姨" in order  # filed the 报事
        assert "孙**" in order and "孙 大爷" not in order  # filed the 投诉
        staff_card = (await world.wait_sent(f.WORKER_G1, "已交办")).text or ""
        assert "王 阿姨" in staff_card and "孙 大爷" in staff_card


async def test_lists_show_each_viewer_their_own_view(tmp_path: Path) -> None:
    """/mine of a reporter merged into someone else's report, and the handler's /issues of a
    complaint, hide the phone number that only the grid worker may see (issue #12)."""
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        server = world.server
        await open_private_chats(world, gridbot, f.WORKER_G1, f.PROPERTY_USER, f.NEIGHBOUR)
        await server.user_sends(f.G1_CHAT, f.RESIDENT, "#投诉 3号楼2单元路灯坏了 13812345678")
        await step(world, gridbot)
        card = await world.wait_sent(f.WORKER_G1, "#1")
        await server.user_sends(f.G1_CHAT, f.NEIGHBOUR, "#报事 3号楼2单元路灯不亮")
        await step(world, gridbot)
        await press(world, gridbot, card, f.WORKER_G1, "受理")
        await issues(gridbot).merge(f.WORKER_G1, 2, into=1)
        for label in ("交办", "万象美物业"):
            await press(world, gridbot, card, f.WORKER_G1, label)
        for user, command, heading in (
            (f.NEIGHBOUR, "/mine", "我反映的问题"),
            (f.PROPERTY_USER, "/issues", "待办事项"),
            (f.WORKER_G1, "/issues", "待办事项"),
        ):
            await server.user_sends(user, user, command)
            await step(world, gridbot)
            listed = (await world.wait_sent(user, heading)).text or ""
            assert "#1" in listed
            assert ("13812345678" in listed) is (user == f.WORKER_G1)
