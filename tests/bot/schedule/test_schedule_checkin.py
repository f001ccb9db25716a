"""窗帘之约 (issue #5): consent first; no answer → exactly one private alert to the grid worker
and the volunteer; 我很好 (from the resident or the volunteer) → none; the alert stays open
until someone records the outcome."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.core.errors import NotPermitted, StaleSlip
from bot.schedule.model import NoticeKind, ScheduleNotice
from tests.bot.schedule.schedule_support import ScheduleWorld, schedule_world
from tests.support.factories import (
    LEADER_G1,
    NEIGHBOUR,
    RESIDENT,
    SECRETARY,
    SHANGHAI,
    STRANGER,
    WORKER_G1,
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


async def enrolled(world: ScheduleWorld) -> int:
    world.issues.clock.set(at(2, 20))
    notice = await world.checkin.enrol(WORKER_G1, RESIDENT, NEIGHBOUR, "3号楼2单元101")
    assert notice.kind is NoticeKind.CHECKIN_CONSENT and notice.chat_id == RESIDENT
    assert notice.enrolment_id is not None
    return notice.enrolment_id


def kinds(notices: tuple[ScheduleNotice, ...], kind: NoticeKind) -> list[int]:
    return [n.chat_id for n in notices if n.kind is kind]


async def test_checkin_without_consent_sends_nothing(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        await enrolled(world)
        await world.sweep_at(at(3, 7, 0))
        morning = await world.sweep_at(at(3, 7, 31))

    assert kinds(morning.notices, NoticeKind.CHECKIN_ASK) == []


async def test_checkin_unanswered_alerts_worker_and_volunteer_once(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        enrolment = await enrolled(world)
        await world.checkin.consent(enrolment, RESIDENT)
        await world.sweep_at(at(3, 7, 0))
        morning = await world.sweep_at(at(3, 7, 31))
        cutoff = await world.sweep_at(at(3, 9, 1))
        later = await world.sweep_at(at(3, 9, 30))
        [alert_id] = {n.alert_id for n in cutoff.notices if n.alert_id is not None}
        with pytest.raises(NotPermitted):
            await world.checkin.record_outcome(alert_id, STRANGER, "safe")
        await world.checkin.record_outcome(alert_id, NEIGHBOUR, "visited")
        with pytest.raises(StaleSlip):
            await world.checkin.record_outcome(alert_id, WORKER_G1, "safe")

    assert kinds(morning.notices, NoticeKind.CHECKIN_ASK) == [RESIDENT]
    assert kinds(cutoff.notices, NoticeKind.CHECKIN_ALERT) == [WORKER_G1, NEIGHBOUR]
    assert [n.values["location"] for n in cutoff.notices] == ["3号楼2单元101"] * 2
    assert all(n.chat_id > 0 for n in cutoff.notices)  # never a group
    assert kinds(later.notices, NoticeKind.CHECKIN_ALERT) == []


@pytest.mark.parametrize("who", [RESIDENT, NEIGHBOUR], ids=["resident", "volunteer"])
async def test_checkin_confirmed_means_no_alert(tmp_path: Path, who: int) -> None:
    async with schedule_world(tmp_path) as world:
        enrolment = await enrolled(world)
        await world.checkin.consent(enrolment, RESIDENT)
        await world.sweep_at(at(3, 7, 0))
        await world.sweep_at(at(3, 7, 31))
        with pytest.raises(NotPermitted):
            await world.checkin.confirm(enrolment, "2026-03-03", STRANGER)
        await world.checkin.confirm(enrolment, "2026-03-03", who)
        cutoff = await world.sweep_at(at(3, 9, 1))

    assert kinds(cutoff.notices, NoticeKind.CHECKIN_ALERT) == []


async def test_checkin_enrol_only_by_a_grid_worker(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        with pytest.raises(NotPermitted):
            await world.checkin.enrol(STRANGER, RESIDENT, None, None)


# -- escalation (issue #13 item 19): leaders, then the secretary, then everyone again ---------


async def alerted(world: ScheduleWorld) -> int:
    """Enrolled, consented as 张秀英, asked on 3 March and alerted at 09:01; the alert id."""
    enrolment = await enrolled(world)
    await world.checkin.consent(enrolment, RESIDENT, "张秀英")
    await world.sweep_at(at(3, 7, 0))
    await world.sweep_at(at(3, 7, 31))
    cutoff = await world.sweep_at(at(3, 9, 1))
    [alert_id] = {n.alert_id for n in cutoff.notices if n.alert_id is not None}
    return alert_id


def alerts(notices: tuple[ScheduleNotice, ...]) -> list[int]:
    return kinds(notices, NoticeKind.CHECKIN_ALERT)


async def test_checkin_alert_nobody_handles_climbs_the_ladder(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        alert_id = await alerted(world)
        early = await world.sweep_at(at(3, 10, 0))  # raised at 09:01: not an hour yet
        leaders = await world.sweep_at(at(3, 10, 2))
        secretary = await world.sweep_at(at(3, 11, 1))
        everyone = await world.sweep_at(at(3, 12, 1))
        await world.checkin.record_outcome(alert_id, SECRETARY, "visited")  # 书记 may too
        after = await world.sweep_at(at(3, 14, 1))

    assert alerts(early.notices) == []
    assert alerts(leaders.notices) == [LEADER_G1]
    assert alerts(secretary.notices) == [SECRETARY]
    assert alerts(everyone.notices) == [WORKER_G1, NEIGHBOUR, LEADER_G1, SECRETARY]
    escalated = leaders.notices + secretary.notices + everyone.notices
    assert all(n.values["name"] == "张秀英" for n in escalated)
    assert [n.values["step"] for n in escalated] == [1, 2, 3, 3, 3, 3]
    assert alerts(after.notices) == []


async def test_checkin_each_escalation_step_is_sent_once(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        await alerted(world)
        step1 = await world.sweep_at(at(3, 10, 2))
        world.restart()
        again = await world.sweep_at(at(3, 10, 30))

    assert alerts(step1.notices) == [LEADER_G1]
    assert alerts(again.notices) == []


async def test_checkin_escalation_after_downtime_sends_only_the_step_due_now(
    tmp_path: Path,
) -> None:
    async with schedule_world(tmp_path) as world:
        await alerted(world)
        world.restart()
        back = await world.sweep_at(at(3, 11, 30))  # down from 09:01: steps 1 and 2 were due

    assert alerts(back.notices) == [SECRETARY]


async def test_checkin_escalation_stops_at_the_end_of_the_alerts_day(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        await alerted(world)
        late = await world.sweep_at(at(3, 23, 59))
        next_day = await world.sweep_at(at(4, 0, 30))

    assert len(alerts(late.notices)) == 4  # everyone, once
    assert alerts(next_day.notices) == []


async def test_checkin_alert_names_the_resident_and_marks_the_family_copy(
    tmp_path: Path,
) -> None:
    async with schedule_world(tmp_path) as world:
        enrolment = await enrolled(world)
        await world.checkin.consent(enrolment, RESIDENT, "张秀英")
        await world.sweep_at(at(3, 7, 0))
        await world.sweep_at(at(3, 7, 31))
        cutoff = await world.sweep_at(at(3, 9, 1))

    family = {n.chat_id: n.values["family"] for n in cutoff.notices}
    assert family == {WORKER_G1: False, NEIGHBOUR: True}
    assert {n.values["name"] for n in cutoff.notices} == {"张秀英"}
