"""窗帘之约 (issue #5): consent first; no answer → exactly one private alert to the grid worker
and the volunteer; 我很好 (from the resident or the volunteer) → none; the alert stays open
until someone records the outcome."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.core.errors import NotPermitted, StaleSlip
from bot.schedule.model import NoticeKind, ScheduleNotice
from tests.bot.services.schedule_support import ScheduleWorld, schedule_world
from tests.support.factories import NEIGHBOUR, RESIDENT, SHANGHAI, STRANGER, WORKER_G1


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
