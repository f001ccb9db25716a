"""End to end: a meeting (议事会, issue #6) from creation to minutes and the publicity window,
through real PTB and the sandbox, on a fake clock moved by the test."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook

from bot.app import GridBot
from bot.schedule.jobs import run_sweeps
from tests.e2e.test_issue_loop import buttons, open_private_chats, press
from tests.support import factories as f
from tests.support.harness import FAST, World, running_bot, sandbox_world, settled, step
from tests.support.votes import unit_sheet

FORM = (
    "/meeting 加装电梯协商会 | 3月10日19:00-21:00 | 社区活动室 | 加装电梯方案；费用分摊 | 第一网格"
)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=f.SHANGHAI)


async def sweep_at(gridbot: GridBot, clock: f.FakeClock, moment: datetime) -> None:
    clock.set(moment)
    await run_sweeps(gridbot.services, "gridbot")
    await settled(gridbot)


async def say(world: World, gridbot: GridBot, chat: int, user: int, text: str) -> None:
    await world.server.user_sends(chat, user, text)
    await step(world, gridbot)


def reminders(world: World, user: int) -> list[str]:
    return [t for t in world.texts_to(user) if "议事提醒" in t]


async def test_meeting_from_announcement_to_final_resolution(tmp_path: Path) -> None:
    clock = f.FakeClock(at(3, 5, 10))
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world, clock) as bot:
        await open_private_chats(world, bot, f.WORKER_G1, f.RESIDENT, f.NEIGHBOUR, f.STRANGER)
        await say(world, bot, f.RESIDENT, f.RESIDENT, FORM)
        await world.wait_sent(f.RESIDENT, "仅网格员或社区书记")
        await say(world, bot, f.WORKER_G1, f.WORKER_G1, FORM)
        await world.wait_sent(f.WORKER_G1, "议事 #1 已发布到 1 个群")
        card = await world.wait_sent(f.G1_CHAT, "加装电梯协商会")
        assert set(buttons(card)) == {"报名", "签到"}
        assert "3月10日 19:00–21:00" in (card.text or "") and "1. 加装电梯方案" in (
            card.text or ""
        )

        # Sign-ups, and the opinion collection privately and by replying in the group.
        for user in (f.RESIDENT, f.NEIGHBOUR):
            await press(world, bot, f.G1_CHAT, card.message_id, user, "报名")
        await world.wait_sent(f.G1_CHAT, "已报名 2 人")
        await say(world, bot, f.RESIDENT, f.RESIDENT, "/suggest 1 议题2：按楼层分摊费用")
        await world.wait_sent(f.RESIDENT, "已收到您对议事 #1 的建议")
        await world.server.user_sends(
            f.G1_CHAT,
            f.NEIGHBOUR,
            "#建议 电梯口要有无障碍坡道",
            reply_to_message_id=card.message_id,
        )
        await step(world, bot)
        await world.wait_sent(f.WORKER_G1, "无障碍坡道")
        await say(world, bot, f.WORKER_G1, f.WORKER_G1, "/meeting 1")
        overview = (await world.wait_sent(f.WORKER_G1, "收到建议 2 条")).text or ""
        assert "费用分摊（1 条）" in overview and "其他建议（1 条）" in overview

        # Sign-in is refused before the meeting.
        await press(world, bot, f.G1_CHAT, card.message_id, f.RESIDENT, "签到")
        refused = world.server.callback_answers[-1]
        assert refused.show_alert and "现在不能签到" in (refused.text or "")

        # Reminders 2 days and 2 hours before, once each, only to those who signed up.
        await sweep_at(bot, clock, at(3, 8, 19))
        await sweep_at(bot, clock, at(3, 8, 19, 1))
        await sweep_at(bot, clock, at(3, 10, 17))
        assert len(reminders(world, f.RESIDENT)) == 2 and len(reminders(world, f.NEIGHBOUR)) == 2
        assert "还有 2 天" in reminders(world, f.RESIDENT)[0]
        assert reminders(world, f.STRANGER) == [] and reminders(world, f.WORKER_G1) == []

        # At the meeting: sign in, record the resolution, publish the minutes.
        clock.set(at(3, 10, 19, 10))
        await press(world, bot, f.G1_CHAT, card.message_id, f.RESIDENT, "签到")
        assert world.server.callback_answers[-1].text == "签到成功。"
        await say(world, bot, f.WORKER_G1, f.WORKER_G1, "/minutes 1")
        await world.wait_sent(f.WORKER_G1, "会议还没结束")
        await say(world, bot, f.WORKER_G1, f.WORKER_G1, "/resolution 1 同意加装电梯，按楼层分摊")
        # Decided at the meeting, in its group: a residents' vote and an advisory poll.
        await say(world, bot, f.G1_CHAT, f.WORKER_G1, "/vote_residents 120 同意加装电梯方案")
        await say(world, bot, f.G1_CHAT, f.WORKER_G1, "/vote_present 1 90")
        await say(world, bot, f.G1_CHAT, f.WORKER_G1, "/vote_yes 1 70")
        await say(world, bot, f.G1_CHAT, f.WORKER_G1, "/poll 2d 施工时间 | 白天 | 周末")
        clock.set(at(3, 10, 21, 30))
        await say(world, bot, f.WORKER_G1, f.WORKER_G1, "/minutes 1")
        minutes = (await world.wait_sent(f.G1_CHAT, "会议纪要")).text or ""
        assert (
            "报名 2 人，签到 1 人（王**）" in minutes and "1. 同意加装电梯，按楼层分摊" in minutes
        )
        assert "费用分摊\n　· 王**：按楼层分摊费用" in minutes
        assert "公示至 3月15日 21:30" in minutes
        assert "表决结果" in minutes
        assert "#1 同意加装电梯方案（居民会议）：通过" in minutes
        assert "#2 施工时间（征询意见）：表决中，3月12日 19:10 截止" in minutes
        assert any(r.method == "sendDocument" for r in world.sent_to(f.WORKER_G1))

        # The publicity window: an objection reaches the convenor; then the sweep finalises.
        await say(world, bot, f.NEIGHBOUR, f.NEIGHBOUR, "/object 1 低层住户希望少分摊")
        await world.wait_sent(f.WORKER_G1, "低层住户希望少分摊")
        await sweep_at(bot, clock, at(3, 15, 21, 29))
        assert not [t for t in world.texts_to(f.G1_CHAT) if "公示期满，决议生效" in t]
        await sweep_at(bot, clock, at(3, 15, 21, 31))
        final = await world.wait_sent(f.G1_CHAT, "公示期满，决议生效")
        assert "收到异议 1 条" in (final.text or "")
        await say(world, bot, f.NEIGHBOUR, f.NEIGHBOUR, "/object 1 还有意见")
        await world.wait_sent(f.NEIGHBOUR, "不在公示期内")


async def test_unclosed_meeting_reminds_the_convenor_after_three_days(tmp_path: Path) -> None:
    clock = f.FakeClock(at(3, 5, 10))
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world, clock) as bot:
        await open_private_chats(world, bot, f.WORKER_G1)
        await say(world, bot, f.WORKER_G1, f.WORKER_G1, FORM)
        ended = at(3, 10, 21)
        await sweep_at(bot, clock, ended + timedelta(days=3) - timedelta(minutes=1))
        assert not [t for t in world.texts_to(f.WORKER_G1) if "日内公布" in t]
        await sweep_at(bot, clock, ended + timedelta(days=3))
        await sweep_at(bot, clock, ended + timedelta(days=3, minutes=1))
        assert len([t for t in world.texts_to(f.WORKER_G1) if "3 日内公布" in t]) == 1


async def test_suggestions_name_their_author_to_the_convenor_and_masked_in_the_group(
    tmp_path: Path,
) -> None:
    """Issue #13 item 16: the convenor's list and the minutes workbook did not say who made a
    suggestion, and the group's minutes only counted them. Now the convenor sees full names
    (privately, even when asking in the group) and the group's 意见清单 lists each suggestion
    with a masked name and 楼栋-单元 (phone numbers hidden)."""
    clock = f.FakeClock(at(3, 5, 10))
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world, clock) as bot:
        await open_private_chats(world, bot, f.WORKER_G1, f.RESIDENT, f.NEIGHBOUR)
        registry = bot.services.features.registry
        await registry.import_sheet(unit_sheet(), "住户.csv", None)
        home = await registry.find_room("3-2-101")
        await registry.consent(f.RESIDENT, "王阿姨")
        await registry.claim(f.RESIDENT, home.id, "owner")
        await registry.decide(f.WORKER_G1, f.RESIDENT, home.id, True)
        await say(world, bot, f.WORKER_G1, f.WORKER_G1, FORM)
        card = await world.wait_sent(f.G1_CHAT, "加装电梯协商会")
        suggestion = "/suggest 1 议题2：按楼层分摊 电话13812345678"
        await say(world, bot, f.RESIDENT, f.RESIDENT, suggestion)
        await world.server.user_sends(
            f.G1_CHAT,
            f.NEIGHBOUR,
            "#建议 电梯口要有无障碍坡道",
            reply_to_message_id=card.message_id,
        )
        await step(world, bot)

        await say(world, bot, f.G1_CHAT, f.WORKER_G1, "/meeting 1")
        await world.wait_sent(f.G1_CHAT, "已私信发给您")
        overview = (await world.wait_sent(f.WORKER_G1, "收到建议 2 条")).text or ""
        assert overview.split("收到建议 2 条\n")[1].split("\n") == [
            "费用分摊（1 条）",
            "　· 王 阿姨（3-2）：按楼层分摊 电话13812345678",
            "其他建议（1 条）",
            "　· 孙 大爷：电梯口要有无障碍坡道",
        ]

        clock.set(at(3, 10, 21, 30))
        await say(world, bot, f.WORKER_G1, f.WORKER_G1, "/minutes 1")
        minutes = (await world.wait_sent(f.G1_CHAT, "会议纪要")).text or ""
        listed = minutes.split("意见清单")[1].split("\n\n")[0]
        assert listed.split("\n") == [
            "（会前收到建议 2 条）",
            "费用分摊",
            "　· 王**（3-2）：按楼层分摊 电话138****5678",
            "其他建议",
            "　· 孙**：电梯口要有无障碍坡道",
        ]
        group = "\n".join(world.texts_to(f.G1_CHAT))
        assert "阿姨" not in group and "大爷" not in group and "13812345678" not in group

        document = next(r for r in world.sent_to(f.WORKER_G1) if r.method == "sendDocument")
        stored = world.server.chat(f.WORKER_G1).messages[document.message_id or 0]
        data = world.server.files[stored.data["document"]["file_id"]].data
    rows = [[c.value for c in row] for row in load_workbook(io.BytesIO(data)).active]
    start = rows.index(["会前建议", None, None, None, None, None])
    assert rows[start + 1] == ["序号", "姓名", "内容", "时间", "议题", "楼栋-单元"]
    assert [r[:3] + r[4:] for r in rows[start + 2 : start + 4]] == [
        [1, "王 阿姨", "按楼层分摊 电话13812345678", 2, "3-2"],
        [2, "孙 大爷", "电梯口要有无障碍坡道", None, None],
    ]
