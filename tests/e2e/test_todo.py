"""End to end (issue #18 items 5-6): /todo through real PTB and the sandbox. Each item comes
with its feature's own button, pressing it there works, and what was answered is gone from
the next /todo."""

from __future__ import annotations

from pathlib import Path

from bot.app import GridBot
from bot.context import Features
from sandbox.models import SentRecord
from tests.support import factories as f
from tests.support.harness import (
    FAST,
    QUIET_MOMENT,
    World,
    press,
    running_bot,
    sandbox_world,
    step,
)
from tests.support.votes import OWNER, add_people, current, seed_unit

EMPTY = "没有待办事项"


def features(gridbot: GridBot) -> Features:
    return gridbot.services.features


async def todo(world: World, gridbot: GridBot, user: int) -> list[SentRecord]:
    """``user`` sends /todo privately; everything the bot sent them in answer."""
    before = len(world.sent_to(user))
    await world.server.user_sends(user, user, "/todo")
    await step(world, gridbot)
    return world.sent_to(user)[before:]


def texts(records: list[SentRecord]) -> list[str]:
    return [r.text or "" for r in records]


def find(records: list[SentRecord], contains: str) -> SentRecord:
    return next(r for r in records if contains in (r.text or ""))


async def resolved_for(gridbot: GridBot, user: int) -> None:
    """An issue ``user`` reported, resolved (the loop itself is tested in test_issue_loop)."""
    issues = features(gridbot).issues
    outcome = await issues.report(
        chat_id=f.G1_CHAT, user_id=user, display_name="业主", text="#报事 3号楼2单元路灯坏了"
    )
    number = outcome.issue.number
    await issues.accept(f.WORKER_G1, number)
    await issues.assign(f.WORKER_G1, number, "property")
    await issues.handler_resolve(f.PROPERTY_USER, number, "已更换灯泡")


async def test_a_resident_rates_votes_and_acknowledges_from_todo(tmp_path: Path) -> None:
    owner = OWNER["101"]
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await add_people(world, gridbot, [owner, OWNER["102"]])
        await seed_unit(gridbot, {"101": owner, "102": OWNER["102"]})
        await resolved_for(gridbot, owner)
        for command in ("/vote_owners unit:3-2 ordinary 更换门禁", "#通知 周六上午停水"):
            await world.server.user_sends(f.G1_CHAT, f.WORKER_G1, command)
            await step(world, gridbot)

        listed = await todo(world, gridbot, owner)
        summary = texts(listed)[0]
        assert "我的待办（3 项）" in summary
        for line in (
            "待评价的办理结果 1 件",
            "待表决的业主共同决定 1 项",
            "待确认“收到”的通知 1 条",
        ):
            assert line in summary
        slip, ballot = find(listed, "请您评价"), find(listed, "业主共同决定 #1")
        notice = find(listed, "周六上午停水")
        for label in ("是", "已解决", "满意", "提交评价"):
            await press(world, gridbot, slip, owner, label)
        assert "满意" in current(world, slip)  # the slip on the /todo copy took the answers
        await press(world, gridbot, ballot, owner, "同意")
        await press(world, gridbot, notice, owner, "收到")
        assert world.server.callback_answers[-1].text == "已确认收到，谢谢！"

        again = await todo(world, gridbot, owner)
        assert len(again) == 1 and EMPTY in texts(again)[0]


async def test_a_ballot_cast_by_the_other_owner_of_the_household_is_not_asked_again(
    tmp_path: Path,
) -> None:
    """Never nag someone whose household already answered: one ballot per household."""
    owner, spouse = OWNER["101"], 698
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await add_people(world, gridbot, [owner, spouse])
        await seed_unit(gridbot, {"101": owner})
        registry = features(gridbot).registry
        household = await registry.find_room("3-2-101")
        await registry.consent(spouse, "业主家属")
        await registry.claim(spouse, household.id, "owner")
        await registry.decide(f.WORKER_G1, spouse, household.id, True)
        await world.server.user_sends(
            f.G1_CHAT, f.WORKER_G1, "/vote_owners unit:3-2 ordinary 绿化"
        )
        await step(world, gridbot)
        assert "待表决的业主共同决定 1 项" in texts(await todo(world, gridbot, owner))[0]
        ballot = find(await todo(world, gridbot, spouse), "业主共同决定 #1")
        await press(world, gridbot, ballot, spouse, "反对")
        assert EMPTY in texts(await todo(world, gridbot, owner))[0]


async def test_a_grid_worker_accepts_and_verifies_from_todo(tmp_path: Path) -> None:
    claimant = OWNER["202"]
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await add_people(world, gridbot, [claimant])
        await seed_unit(gridbot, {"101": OWNER["101"]})
        for user in (f.WORKER_G1, f.LEADER_G1, f.WORKER_G2):
            await world.server.start_private(user)
        registry = features(gridbot).registry
        await registry.consent(claimant, "新住户")
        await registry.claim(claimant, (await registry.find_room("3-2-202")).id, "tenant")
        await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "#报事 3号楼2单元门口路灯坏了")
        await step(world, gridbot)

        listed = await todo(world, gridbot, f.WORKER_G1)
        summary = texts(listed)[0]
        assert "待受理的报事 1 件" in summary and "待认证的住户 1 位" in summary
        card, claim = find(listed, "#1"), find(listed, "住户认证申请")
        assert listed.index(card) < listed.index(claim)  # reports first, verification last
        leader = texts(await todo(world, gridbot, f.LEADER_G1))[0]
        assert "待受理的报事 1 件" in leader  # the leader oversees grid g1 too
        assert EMPTY in texts(await todo(world, gridbot, f.WORKER_G2))[0]  # not their grid

        await press(world, gridbot, card, f.WORKER_G1, "受理")
        assert "已受理" in current(world, card)
        await press(world, gridbot, claim, f.WORKER_G1, "通过")
        assert await registry.is_verified(claimant, (await registry.find_room("3-2-202")).id)

        again = await todo(world, gridbot, f.WORKER_G1)
        assert len(again) == 1 and EMPTY in texts(again)[0]


async def test_a_resident_joins_a_jielong_from_todo_and_sees_their_meeting(
    tmp_path: Path,
) -> None:
    owner = OWNER["101"]
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await add_people(world, gridbot, [owner])
        await seed_unit(gridbot, {"101": owner})
        await world.server.user_sends(f.G1_CHAT, f.NEIGHBOUR, "#接龙 周六义务植树 限20人")
        await step(world, gridbot)
        meetings = features(gridbot).meetings
        created = await meetings.create(
            f.WORKER_G1, "绿化议事会 | 11月25日19:00 | 活动室 | 1. 绿化 | 3-2"
        )
        await meetings.sign_up(created.view.id, owner, "业主")

        listed = await todo(world, gridbot, owner)
        summary = find(listed, "我的待办").text or ""
        assert "可以参加的接龙 1 个" in summary and "已报名、即将召开的会议 1 场" in summary
        jielong, meeting = find(listed, "周六义务植树"), find(listed, "绿化议事会")
        assert "11月25日 19:00" in (meeting.text or "") and "活动室" in (meeting.text or "")
        await press(world, gridbot, jielong, owner, "+1 接龙")
        assert "第 1 位" in (world.server.callback_answers[-1].text or "")

        again = find(await todo(world, gridbot, owner), "我的待办").text or ""
        assert "接龙" not in again and "已报名、即将召开的会议 1 场" in again


async def test_a_grid_worker_sees_overdue_issues_and_checkin_alerts_with_buttons(
    tmp_path: Path,
) -> None:
    clock = f.FakeClock(QUIET_MOMENT)
    async with sandbox_world(tmp_path, outbox=FAST) as world:
        async with running_bot(world, clock) as gridbot:
            await world.server.start_private(f.WORKER_G1)
            issues, checkin = features(gridbot).issues, features(gridbot).checkin
            outcome = await issues.report(
                chat_id=f.G1_CHAT, user_id=f.RESIDENT, display_name="王阿姨", text="#报事 路灯坏了"
            )
            await issues.accept(f.WORKER_G1, outcome.issue.number)
            await issues.assign(f.WORKER_G1, outcome.issue.number, "property")
            notice = await checkin.enrol(f.WORKER_G1, f.RESIDENT, None, "3号楼2单元101")
            assert notice.enrolment_id is not None
            await checkin.consent(notice.enrolment_id, f.RESIDENT, "王阿姨")
            clock.advance(days=30)
            await checkin.ask_all(checkin.today())
            await checkin.alert_unconfirmed(checkin.today())

            listed = await todo(world, gridbot, f.WORKER_G1)
            summary = find(listed, "我的待办").text or ""
            assert "已超期的问题 1 件" in summary and "窗帘之约待处理的提醒 1 条" in summary
            card, alert = find(listed, "#1"), find(listed, "窗帘之约提醒")
            assert listed.index(card) < listed.index(alert)
            assert "3号楼2单元101" in (alert.text or "")
            await press(world, gridbot, alert, f.WORKER_G1, "已联系，平安")
            assert "已处理：已联系，平安" in current(world, alert)

            again = find(await todo(world, gridbot, f.WORKER_G1), "我的待办").text or ""
            assert "窗帘之约" not in again and "已超期的问题 1 件" in again


async def test_todo_in_a_group_only_points_to_the_private_chat(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await world.server.user_sends(f.G1_CHAT, f.WORKER_G1, "#通知 周六上午停水")
        await step(world, gridbot)
        before = len(world.sent_to(f.G1_CHAT))
        await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "/todo")
        await step(world, gridbot)
        [reply] = texts(world.sent_to(f.G1_CHAT)[before:])
        assert "私聊" in reply and "停水" not in reply
