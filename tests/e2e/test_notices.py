"""End to end (issue #6): a notice with 收到; the author's not-yet-acknowledged list is exactly
the households of the grid that have not tapped, and one reminder reaches those who can be
reached privately."""

from __future__ import annotations

from pathlib import Path

from tests.support import factories as f
from tests.support.harness import FAST, press, running_bot, sandbox_world, step
from tests.support.votes import OWNER, add_people, seed_unit


async def test_unacked_list_after_5_of_12_households_tap_received(tmp_path: Path) -> None:
    owners = {room: user for room, user in OWNER.items() if room != "602"}  # 602: nobody verified
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await add_people(world, gridbot, list(owners.values()))
        await seed_unit(gridbot, owners)
        await world.server.start_private(f.WORKER_G1)
        await world.server.user_sends(
            f.G1_CHAT, f.WORKER_G1, "#通知 周六上午9点停水检修，请提前储水"
        )
        await step(world, gridbot)
        notice = await world.wait_sent(f.G1_CHAT, "通知 #1")
        assert "停水检修" in (notice.text or "")

        tapped = ["101", "102", "201", "301", "502"]
        for room in tapped:
            await press(world, gridbot, notice, OWNER[room], "收到")
        await press(world, gridbot, notice, OWNER["101"], "收到")  # twice: still one household
        await press(world, gridbot, notice, f.STRANGER, "收到")  # not verified: kept by user
        assert world.server.callback_answers[-1].text == "已确认收到，谢谢！"

        await press(world, gridbot, notice, f.RESIDENT, "未收到名单")
        assert "仅" in (world.server.callback_answers[-1].text or "")  # not the author
        await world.server.user_sends(f.WORKER_G1, f.WORKER_G1, "/unacked 1")
        await step(world, gridbot)
        listing = await world.wait_sent(f.WORKER_G1, "未收到（7 户）")
        text = listing.text or ""
        missing = ["202", "302", "401", "402", "501", "601", "602"]
        assert text.split("未收到（7 户）：\n")[1].split("、") == [f"3-2-{r}" for r in missing]
        assert "已收到 5/12 户" in text and "1 位未认证住户" in text
        assert "业主" not in text  # no names

        await press(world, gridbot, listing, f.WORKER_G1, "提醒未收到的住户")
        report = (await world.wait_sent(f.WORKER_G1, "已私信提醒")).text or ""
        assert "已私信提醒 6 人" in report and "1 户没有能私信联系到的住户" in report
        for room in missing[:-1]:
            await world.wait_sent(OWNER[room], "还没有点“收到”")
        assert not any("还没有点" in t for t in world.texts_to(OWNER["101"]))
        await press(world, gridbot, listing, f.WORKER_G1, "提醒未收到的住户")
        assert "已私信提醒 0 人" in ((await world.wait_sent(f.WORKER_G1, "0 人")).text or "")
