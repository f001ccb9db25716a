"""End to end (issue #5): the one tick runs on start, the digest survives a restart exactly
once, and a secretary pauses a rule from the chat."""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path

from bot.issues.presenter import issue_service
from bot.schedule.digest_chart import cjk_font
from sandbox.models import SentRecord
from tests.support import factories as f
from tests.support.harness import (
    FAST,
    TOKEN,
    World,
    press,
    running_bot,
    sandbox_world,
    settled,
)


def digests(world: World) -> list[str]:
    return [t for t in world.texts_to(f.SECRETARY) if "每日简报" in t]


async def test_digest_killed_at_075930_restarted_at_0803_is_sent_once(tmp_path: Path) -> None:
    clock = f.FakeClock(datetime(2026, 3, 4, 7, 59, 30, tzinfo=f.SHANGHAI))
    async with sandbox_world(tmp_path, outbox=FAST) as world:
        await world.server.start_private(f.SECRETARY)
        async with running_bot(world, clock) as gridbot:
            await settled(gridbot)
        assert digests(world) == []
        clock.set(datetime(2026, 3, 4, 8, 3, tzinfo=f.SHANGHAI))
        async with running_bot(world, clock) as gridbot:
            await world.wait_sent(f.SECRETARY, "每日简报")
            await settled(gridbot)
        async with running_bot(world, clock) as gridbot:
            await settled(gridbot)

    [digest] = digests(world)
    assert "阅海湾社区每日简报" in digest and "3月3日" in digest
    assert "未办结 0，超期 0" in digest
    assert "各网格（未办结／超期）：第一网格 0／0、第二网格 0／0" in digest
    # One separator throughout (issue #13 item 24): the rates use "／" like the headings.
    assert "/" not in digest and "近30天：—／—／—／—" in digest


async def test_secretary_pauses_a_rule_from_the_chat(tmp_path: Path) -> None:
    clock = f.FakeClock(datetime(2026, 3, 4, 10, 0, tzinfo=f.SHANGHAI))
    async with sandbox_world(tmp_path, outbox=FAST) as world:
        server = world.server
        async with running_bot(world, clock) as gridbot:
            await server.start_private(f.SECRETARY)
            await server.start_private(f.WORKER_G1)
            await server.user_sends(f.WORKER_G1, f.WORKER_G1, "/pause opinion_day")
            await server.user_sends(f.SECRETARY, f.SECRETARY, "/pause 1")  # the number in /rules
            await server.user_sends(f.SECRETARY, f.SECRETARY, "/rules")
            await world.server.wait_for(lambda _: not server.pending_updates(TOKEN) or None)
            await settled(gridbot)

    assert any("仅社区书记" in t for t in world.texts_to(f.WORKER_G1))
    assert any("已暂停" in t and "民意“5”来听" in t for t in world.texts_to(f.SECRETARY))
    [rules] = [t for t in world.texts_to(f.SECRETARY) if "定时提醒" in t]
    # issue #13 item 20: names, not the config's internal keys
    assert "1. 民意“5”来听（已暂停）" in rules and "2. 代表接访日（运行中）" in rules
    assert "opinion_day" not in rules and "reception_day" not in rules


async def test_digest_comes_with_a_trend_chart_when_there_was_activity(tmp_path: Path) -> None:
    clock = f.FakeClock(datetime(2026, 3, 3, 10, 0, tzinfo=f.SHANGHAI))
    async with sandbox_world(tmp_path, outbox=FAST) as world:
        await world.server.start_private(f.SECRETARY)
        async with running_bot(world, clock) as gridbot:
            await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "#报事 5号楼电梯停运")
            await world.wait_sent(f.G1_CHAT, "#1")
            await settled(gridbot)
        clock.set(datetime(2026, 3, 4, 8, 1, tzinfo=f.SHANGHAI))
        async with running_bot(world, clock) as gridbot:
            await world.wait_sent(f.SECRETARY, "每日简报")
            await settled(gridbot)
    photos = [r for r in world.sent_to(f.SECRETARY) if r.method == "sendPhoto"]
    if cjk_font() is None:  # no font, no chart: the digest text alone still went out
        assert photos == []
        return
    [chart] = photos
    assert chart.text == "近30天每日新增与办结事项"
    attached = chart.params["photo"].removeprefix("attach://")
    assert chart.params["_attachments"][attached].data.startswith(b"\x89PNG")


async def test_a_report_nobody_accepts_is_chased_and_accepted_from_the_reminder(
    tmp_path: Path,
) -> None:
    """受理 within 2 hours (12:00, then lunch): at 14:00 the grid worker is reminded of both
    reports with the card's buttons and accepts #1 from the reminder; at 16:00 the grid
    leader is told about #2 only."""
    clock = f.FakeClock(datetime(2026, 3, 3, 10, 0, tzinfo=f.SHANGHAI))
    async with sandbox_world(tmp_path, outbox=FAST) as world:
        server = world.server
        await unaccepted_reports(world, clock, "#报事 5号楼门禁坏了", "#报事 3号楼楼道灯不亮")
        clock.set(datetime(2026, 3, 3, 14, 0, tzinfo=f.SHANGHAI))
        async with running_bot(world, clock) as gridbot:
            reminder = await world.wait_sent(f.WORKER_G1, "催受理 #1")
            await world.wait_sent(f.WORKER_G1, "催受理 #2")
            assert {"受理", "交办"} <= labels(reminder)
            await settled(gridbot)  # its message id is recorded (a person presses later)
            await press(world, gridbot, reminder, f.WORKER_G1, "受理")
            await press(world, gridbot, latest(world, reminder), f.WORKER_G1, "交办")
            choices = labels(latest(world, reminder))
            await press(world, gridbot, latest(world, reminder), f.WORKER_G1, "万象美物业")
            await settled(gridbot)
        clock.set(datetime(2026, 3, 3, 16, 0, tzinfo=f.SHANGHAI))
        async with running_bot(world, clock) as gridbot:
            await world.wait_sent(f.LEADER_G1, "升级督办 #2")
            await settled(gridbot)

    edits = [r for r in server.sent if r.method == "editMessageText"]
    accepted, _choices, assigned = [e for e in edits if e.message_id == reminder.message_id]
    assert "已受理" in (accepted.text or "") and "受理" not in labels(accepted)
    assert "万象美物业" in choices  # the choices replace the reminder's buttons, not the card's
    assert "已交办" in (assigned.text or "") and "经办：万象美物业" in (assigned.text or "")
    leader = world.texts_to(f.LEADER_G1)
    assert not [t for t in leader if "#1" in t and "督办" in t]


async def unaccepted_reports(world: World, clock: f.FakeClock, *texts: str) -> None:
    """Grid 1's worker and leader open their chats; residents report ``texts`` (nobody
    accepts them) and the bot stops."""
    for user in (f.WORKER_G1, f.LEADER_G1):
        await world.server.start_private(user)
    async with running_bot(world, clock) as gridbot:
        for resident, text in zip((f.RESIDENT, f.NEIGHBOUR, f.STRANGER), texts, strict=False):
            await world.server.user_sends(f.G1_CHAT, resident, text)
        await world.wait_sent(f.G1_CHAT, f"#{len(texts)}")
        await settled(gridbot)


def latest(world: World, record: SentRecord) -> SentRecord:
    """The message ``record`` as it stands after its edits."""
    same = [
        r
        for r in world.server.sent
        if (r.chat_id, r.message_id) == (record.chat_id, record.message_id)
    ]
    return same[-1]


def labels(record: SentRecord) -> set[str]:
    rows = (record.reply_markup or {}).get("inline_keyboard", [])
    return {button["text"] for row in rows for button in row}


async def test_the_other_workers_reminder_follows_an_acceptance(tmp_path: Path) -> None:
    grids = copy.deepcopy(f.community_data()["community"]["grids"])
    grids[0]["workers"] = [f.WORKER_G1, f.LEADER_G1]
    clock = f.FakeClock(datetime(2026, 3, 3, 10, 0, tzinfo=f.SHANGHAI))
    async with sandbox_world(tmp_path, outbox=FAST, community={"grids": grids}) as world:
        await unaccepted_reports(world, clock, "#报事 5号楼门禁坏了")
        clock.set(datetime(2026, 3, 3, 14, 0, tzinfo=f.SHANGHAI))
        async with running_bot(world, clock) as gridbot:
            mine = await world.wait_sent(f.WORKER_G1, "催受理 #1")
            theirs = await world.wait_sent(f.LEADER_G1, "催受理 #1")
            await settled(gridbot)
            await press(world, gridbot, mine, f.WORKER_G1, "受理")
            await settled(gridbot)

    other = latest(world, theirs)
    assert "已受理" in (other.text or "") and "受理" not in labels(other)


async def test_a_return_request_nobody_decides_reaches_the_worker_with_its_buttons(
    tmp_path: Path,
) -> None:
    clock = f.FakeClock(datetime(2026, 3, 3, 10, 0, tzinfo=f.SHANGHAI))
    async with sandbox_world(tmp_path, outbox=FAST) as world:
        server = world.server
        await server.start_private(f.PROPERTY_USER)
        await unaccepted_reports(world, clock, "#报事 5号楼门禁坏了")
        async with running_bot(world, clock) as gridbot:
            await issue_service(gridbot.services).assign(f.WORKER_G1, 1, "property")
            await server.user_sends(f.PROPERTY_USER, f.PROPERTY_USER, "/return 1 不属于物业")
            await world.wait_sent(f.PROPERTY_USER, "#1")
            await settled(gridbot)
        clock.set(datetime(2026, 3, 3, 14, 0, tzinfo=f.SHANGHAI))
        async with running_bot(world, clock) as gridbot:
            reminder = await world.wait_sent(f.WORKER_G1, "退单待审核 #1")
            await settled(gridbot)

    assert "不属于物业" in (reminder.text or "")
    assert {"同意退单", "驳回退单"} <= labels(reminder)


async def test_eve_reminder_names_the_day_of_the_event_not_its_own(tmp_path: Path) -> None:
    # issue #13 item 17: sent on 9月7日 it said "明天是代表接访日（9月7日 18:00）".
    clock = f.FakeClock(datetime(2026, 9, 7, 18, 1, tzinfo=f.SHANGHAI))
    async with sandbox_world(tmp_path, outbox=FAST) as world:
        async with running_bot(world, clock) as gridbot:
            eve = await world.wait_sent(f.G1_CHAT, "明天是代表接访日")
            await settled(gridbot)

    assert "（9月8日 08:30）" in (eve.text or "")


async def test_a_push_moved_by_a_holiday_says_from_which_day(tmp_path: Path) -> None:
    # issue #13 item 20: 5 October 2026 is National Day, 民意"5"来听 moves to Thursday the 8th.
    clock = f.FakeClock(datetime(2026, 10, 8, 9, 1, tzinfo=f.SHANGHAI))
    async with sandbox_world(tmp_path, outbox=FAST) as world:
        async with running_bot(world, clock) as gridbot:
            push = await world.wait_sent(f.G1_CHAT, "民意收集日")
            await settled(gridbot)

    assert "今天是社区民意收集日（因节假日由5日顺延）。" in (push.text or "")


async def warnings_on_1_december(world: World) -> tuple[str, str]:
    """The secretary's digest and /rules on 1 December 2026."""
    clock = f.FakeClock(datetime(2026, 12, 1, 8, 1, tzinfo=f.SHANGHAI))
    await world.server.start_private(f.SECRETARY)
    async with running_bot(world, clock) as gridbot:
        digest = await world.wait_sent(f.SECRETARY, "每日简报")
        await world.server.user_sends(f.SECRETARY, f.SECRETARY, "/rules")
        rules = await world.wait_sent(f.SECRETARY, "定时提醒")
        await settled(gridbot)
    return digest.text or "", rules.text or ""


async def test_from_1_december_digest_and_rules_warn_next_years_holidays_are_unknown(
    tmp_path: Path,
) -> None:
    # issue #13 item 21: chinese-calendar knows 2026, not 2027
    async with sandbox_world(tmp_path, outbox=FAST) as world:
        digest, rules = await warnings_on_1_december(world)

    assert "尚未收录2027年法定节假日安排" in digest
    assert "尚未收录2027年法定节假日安排" in rules


async def test_a_holidays_file_for_next_year_silences_the_warning(tmp_path: Path) -> None:
    holidays = tmp_path / "holidays-2027.toml"
    holidays.write_text('holidays = ["2027-01-01"]\n', encoding="utf-8")
    async with sandbox_world(
        tmp_path, outbox=FAST, calendar={"holidays_file": str(holidays)}
    ) as world:
        digest, rules = await warnings_on_1_december(world)

    assert "尚未收录" not in digest and "尚未收录" not in rules


async def test_checkin_alert_names_the_resident_to_staff_and_speaks_to_family(
    tmp_path: Path,
) -> None:
    # issue #13 item 19: the worker is told who (privately), the family contact gets family
    # wording and buttons; the leader is alerted when nobody handles it; one press closes all.
    clock = f.FakeClock(datetime(2026, 3, 2, 20, 0, tzinfo=f.SHANGHAI))
    async with sandbox_world(tmp_path, outbox=FAST) as world:
        server = world.server
        for user in (f.WORKER_G1, f.LEADER_G1, f.RESIDENT, f.NEIGHBOUR, f.SECRETARY):
            await server.start_private(user)
        async with running_bot(world, clock) as gridbot:
            enrol = f"/checkin_enrol {f.RESIDENT} {f.NEIGHBOUR} 3号楼2单元101"
            await server.user_sends(f.WORKER_G1, f.WORKER_G1, enrol)
            consent = await world.wait_sent(f.RESIDENT, "窗帘之约")
            await press(world, gridbot, consent, f.RESIDENT, "同意")
        for moment in ((3, 3, 7, 31), (3, 3, 9, 1), (3, 3, 10, 2)):
            clock.set(datetime(2026, *moment, tzinfo=f.SHANGHAI))
            async with running_bot(world, clock) as gridbot:
                await settled(gridbot)
        worker = await world.wait_sent(f.WORKER_G1, "还没有确认平安")
        family = await world.wait_sent(f.NEIGHBOUR, "报平安")
        leader = await world.wait_sent(f.LEADER_G1, "已上报")
        async with running_bot(world, clock) as gridbot:
            await press(world, gridbot, family, f.NEIGHBOUR, "联系上了，平安")
            await settled(gridbot)

    assert "王 阿姨" in (worker.text or "") and "3号楼2单元101" in (worker.text or "")
    assert "网格员也收到了提醒" in (family.text or "")
    assert labels(family) == {"联系上了，平安", "我已上门看过"}
    assert labels(worker) == {"已联系，平安", "已上门处理"}
    assert "王 阿姨" in (leader.text or "")
    for copy_ in (worker, family, leader):
        assert "已处理：已联系，平安" in (latest(world, copy_).text or "")
        assert labels(latest(world, copy_)) == set()
    assert all(r.chat_id > 0 for r in server.sent if "平安" in (r.text or ""))  # never a group
