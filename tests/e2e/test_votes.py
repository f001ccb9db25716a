"""End to end (issue #6): owners' decisions (民法典 art. 278) with private ballots in unit 3-2,
and an advisory native poll stopped at its deadline."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import GridBot
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
from tests.support.votes import OWNER, ROOMS, TENANT, add_people, current, seed_unit


async def start_vote(world: World, gridbot: GridBot, command: str) -> None:
    await world.server.user_sends(f.G1_CHAT, f.WORKER_G1, command)
    await step(world, gridbot)


async def vote(world: World, gridbot: GridBot, room: str, label: str, user: int = 0) -> None:
    user = user or OWNER[room]
    ballot = await world.wait_sent(user, "业主共同决定 #1")
    await press(world, gridbot, ballot, user, label)


async def close(world: World, gridbot: GridBot) -> str:
    announce = await world.wait_sent(f.G1_CHAT, "参与面积")
    await press(world, gridbot, announce, f.WORKER_G1, "结束表决")
    return (await world.wait_sent(f.G1_CHAT, "民法典第278条")).text or ""


async def test_headcount_reaches_two_thirds_but_area_does_not(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await add_people(world, gridbot, list(OWNER.values()))
        await seed_unit(gridbot)
        await start_vote(world, gridbot, "/vote_owners unit:3-2 special 加装电梯")
        # All six 80 m² rooms and two 120 m² rooms: 8/12 owners, but 720/1200 m² = 60%.
        small = [r for r in ROOMS if r.endswith("1")]
        for room in [*small, "102", "202"]:
            await vote(world, gridbot, room, "同意")
        line = current(world, await world.wait_sent(f.G1_CHAT, "参与面积"))
        assert "参与面积 60.0% / 需 66.7%，参与人数 8/12（66.7% / 需 66.7%）" in line
        assert "同意" not in line.split("参与面积")[1]  # nobody's choice in the group
        result = await close(world, gridbot)
        assert "未通过" in result
        assert "参与表决的专有部分面积未达到三分之二" in result
        assert "人数未达到三分之二" not in result


async def test_exactly_two_thirds_takes_part_and_three_quarters_agree(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await add_people(world, gridbot, list(OWNER.values()))
        await seed_unit(gridbot)
        await start_vote(world, gridbot, "/vote_owners unit:3-2 special 加装电梯")
        # 4 × 80 + 4 × 120 = 800 m² of 1200 (exactly 2/3), 8 of 12 owners (exactly 2/3);
        # yes: 3 × 80 + 3 × 120 = 600 of 800 m² and 6 of 8 owners (exactly 3/4).
        for room in ("101", "201", "301", "102", "202", "302"):
            await vote(world, gridbot, room, "同意")
        await vote(world, gridbot, "401", "反对")
        await vote(world, gridbot, "402", "同意")
        await vote(world, gridbot, "402", "弃权")  # changed before the deadline: last counts
        result = await close(world, gridbot)
        assert "通过" in result and "未通过" not in result, result
        assert "人数 8/12" in result and "面积 75.0%" in result
        rows = await gridbot.db.fetchall(
            "SELECT choice FROM vote_ballots WHERE user_id = ?", (OWNER["402"],)
        )
        assert [r[0] for r in rows] == ["yes", "abstain"]  # every ballot is audited


async def test_one_owner_of_two_units_counts_once_and_a_tenant_cannot_vote(
    tmp_path: Path,
) -> None:
    owners = dict(OWNER)
    owners["102"] = OWNER["101"]  # 601 owns 3-2-101 and 3-2-102
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await add_people(world, gridbot, [*set(owners.values()), TENANT])
        await seed_unit(gridbot, owners, tenant="601")
        await start_vote(world, gridbot, "/vote_owners unit:3-2 ordinary 更换单元门禁")
        ballot = await world.wait_sent(OWNER["101"], "业主共同决定 #1")
        assert "3-2-101、3-2-102" in (ballot.text or "") and "200 ㎡" in (ballot.text or "")
        await press(world, gridbot, ballot, OWNER["101"], "同意")
        line = current(world, await world.wait_sent(f.G1_CHAT, "参与面积"))
        assert "参与面积 16.7%" in line and "参与人数 1/11" in line

        await world.server.start_private(TENANT)
        await step(world, gridbot)
        own = world.sent_to(TENANT)[-1]
        assert own.message_id is not None
        await world.server.press_button(TENANT, own.message_id, TENANT, "vo:b:1:yes", forge=True)
        await step(world, gridbot)
        assert "不能投票" in (world.server.callback_answers[-1].text or "")
        assert world.server.callback_answers[-1].show_alert
        rows = await gridbot.db.fetchall("SELECT user_id FROM vote_ballots")
        assert [r[0] for r in rows] == [OWNER["101"]]


RESULT_LINES = {  # as Telegram shows it (the sandbox records the text without its HTML)
    "zh_CN": [
        "🗳 业主共同决定 #1：更换单元门禁 —— 通过",
        "",
        "范围：3号楼2单元",
        "依据：民法典第278条，一般事项（参与面积、人数均需 ≥ 2/3；"
        "同意面积、人数均需超过参与者的一半）",
        "参与：面积 83.3%，人数 10/12（83.3%），需 ≥ 66.7%",
        "同意：面积 60.0%，人数 60.0%（占参与者），需 > 50.0%",
        "各项条件均已满足。",
        "",
        "未投票的业主不计入同意。",
    ],
    "en": [
        "🗳 Owners' decision #1: 更换单元门禁 — passed",
        "",
        "Scope: Building 3, unit 2",
        "Basis: Civil Code art. 278, ordinary matter (area and owners taking part each ≥ 2/3;"
        " area and owners in favour each more than half of those taking part)",
        "Taking part: area 83.3%, owners 10/12 (83.3%), ≥ 66.7% needed",
        "In favour: area 60.0%, owners 60.0% (of those taking part), > 50.0% needed",
        "All conditions are met.",
        "",
        "Owners who did not vote are not counted as in favour.",
    ],
}
LABELS = {
    "zh_CN": {"yes": "同意", "no": "反对", "close": "结束表决", "scope": "范围：3号楼2单元，"},
    "en": {
        "yes": "Yes",
        "no": "No",
        "close": "Close the vote",
        "scope": "Scope: Building 3, unit 2, ",
    },
}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_owners_result_keeps_its_lines_and_names_the_scope(
    tmp_path: Path, locale: str
) -> None:
    """Issue #13 item 14: the result joined "…一半）" and "参与：…", lost the blank line after
    the heading, and the scope read "unit:3-2" instead of 「3号楼2单元」."""
    labels = LABELS[locale]
    async with sandbox_world(tmp_path, outbox=FAST) as world:
        world.config = dataclasses.replace(world.config, locale=locale)  # type: ignore[arg-type]
        async with running_bot(world) as gridbot:
            await add_people(world, gridbot, list(OWNER.values()))
            await seed_unit(gridbot)
            await start_vote(world, gridbot, "/vote_owners unit:3-2 ordinary 更换单元门禁")
            announce = await world.wait_sent(f.G1_CHAT, "更换单元门禁")
            assert labels["scope"] in (announce.text or "")
            # 10 of 12 owners, 1000 of 1200 m², take part; 6 of them (600 m²) agree.
            for room in ("101", "201", "301", "102", "202", "302"):
                ballot = await world.wait_sent(OWNER[room], "#1")
                await press(world, gridbot, ballot, OWNER[room], labels["yes"])
            for room in ("401", "501", "402", "502"):
                ballot = await world.wait_sent(OWNER[room], "#1")
                await press(world, gridbot, ballot, OWNER[room], labels["no"])
            await press(world, gridbot, announce, f.WORKER_G1, labels["close"])
            result = await world.wait_sent(f.G1_CHAT, RESULT_LINES[locale][-1])
            assert (result.text or "").split("\n") == RESULT_LINES[locale]


async def test_advisory_poll_counts_answers_and_stops_at_the_deadline(tmp_path: Path) -> None:
    clock = f.FakeClock(QUIET_MOMENT)
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world, clock) as gridbot:
        voters = [601, 602, 603]
        await add_people(world, gridbot, voters)
        await world.server.user_sends(
            f.G1_CHAT, f.WORKER_G1, "/poll_named 2d 周末义诊放在哪天 | 周六 | 周日"
        )
        await step(world, gridbot)
        poll = next(r for r in world.sent_to(f.G1_CHAT) if r.method == "sendPoll")
        assert "仅供参考" in poll.params["question"]
        poll_id = next(iter(world.server.polls))
        for user, option in zip(voters, (0, 0, 1), strict=True):
            await world.server.vote_poll(poll_id, user, [option])
            await step(world, gridbot)
        answers = await gridbot.db.fetchall("SELECT user_id FROM poll_answers")
        assert sorted(r[0] for r in answers) == voters

        clock.advance(timedelta(days=2, minutes=1))
        from bot.schedule.jobs import run_sweeps

        await run_sweeps(gridbot.services, "gridbot")
        await step(world, gridbot)
        assert any(r.method == "stopPoll" for r in world.sent_to(f.G1_CHAT))
        assert world.server.polls[poll_id].data["is_closed"]
        result = (await world.wait_sent(f.G1_CHAT, "意见投票 #1")).text or ""
        assert "仅供参考" in result and "周六：2 票" in result and "周日：1 票" in result
        assert "过半数意见：周六" in result
