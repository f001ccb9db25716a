"""The sweep (issue #5): civic calendar with the holiday rule, restarts, downtime, pausing."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.config import config_from_dict
from bot.core.errors import NotPermitted
from bot.schedule.model import NoticeKind, Outcome
from tests.bot.schedule.schedule_support import of_kind, schedule_world
from tests.support.factories import (
    ENV,
    G1_CHAT,
    G2_CHAT,
    SECRETARY,
    SHANGHAI,
    WORKER_G1,
    community_data,
)


def at(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=SHANGHAI)


async def test_sweep_october_2026_opinion_days_follow_the_holiday_rule(tmp_path: Path) -> None:
    # National Day 2026: 1–7 October off, Saturday 10 October a make-up working day, the 25th a
    # Sunday. 民意"5"来听 (next_working_day): the 5th moves to Thursday the 8th, the 25th to the
    # 26th; the 15th (Thursday) stays.
    async with schedule_world(tmp_path) as world:
        await world.sweep_at(at(9, 30, 23, 50))
        sent = await world.run(at(10, 1, 0, 1), at(10, 31, 23, 59), timedelta(minutes=30))

    opinion = [
        (when, n.chat_id)
        for when, n in of_kind(sent, NoticeKind.ANNOUNCEMENT)
        if n.template == "opinion_day"
    ]
    days = [(8, 9, 1), (15, 9, 1), (26, 9, 1)]
    assert opinion == [(at(10, d, h, m), chat) for d, h, m in days for chat in (G1_CHAT, G2_CHAT)]
    others = {
        (n.template, n.values["variant"], n.values["at"])
        for _, n in of_kind(sent, NoticeKind.ANNOUNCEMENT)
        if n.template != "opinion_day"
    }
    assert others == {
        ("reception_day", "eve", at(10, 7, 18)),  # the 8th is a working day: no move
        ("reception_day", "today", at(10, 8, 8, 30)),
        ("quarterly_meeting", "eve", at(10, 9, 18)),  # the 10th is a make-up working day
        ("quarterly_meeting", "today", at(10, 10, 9)),
    }


async def test_sweep_skip_policy_records_the_day_as_skipped(tmp_path: Path) -> None:
    data = community_data()
    data["schedule"] = {
        "rules": [
            {
                "key": "o",
                "template": "opinion_day",
                "days": [5],
                "time": "09:00",
                "holiday": "skip",
            }
        ]
    }
    async with schedule_world(tmp_path, config_from_dict(data, ENV)) as world:
        await world.sweep_at(at(10, 5, 8, 50))
        result = await world.sweep_at(at(10, 5, 9, 1))

    assert ("rule:o:2026-10-05:skip", Outcome.SKIPPED) in result.recorded
    assert of_kind([(at(1, 1, 0), n) for n in result.notices], NoticeKind.ANNOUNCEMENT) == []


async def test_sweep_restart_during_digest_minute_sends_it_exactly_once(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        before = await world.sweep_at(at(3, 4, 7, 59, 30))
        world.restart()  # killed at 07:59:30, back at 08:03
        after = await world.sweep_at(at(3, 4, 8, 3))
        again = await world.sweep_at(at(3, 4, 8, 4))

    digests = [
        n for n in before.notices + after.notices + again.notices if n.kind is NoticeKind.DIGEST
    ]
    assert [n.chat_id for n in digests] == [SECRETARY]
    assert [n for n in before.notices if n.kind is NoticeKind.DIGEST] == []


async def test_sweep_after_two_days_down_records_stale_work_as_missed(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        await world.sweep_at(at(10, 13, 20, 0))
        world.restart()  # down from Tuesday evening to Thursday 08:10: the 15th's 09:00 is ahead
        back = await world.sweep_at(at(10, 15, 8, 10))

    kinds = [n.kind for n in back.notices]
    assert kinds == [NoticeKind.DIGEST]  # today's 08:00 digest, 10 minutes late: within grace
    missed = {key for key, outcome in back.recorded if outcome is Outcome.MISSED}
    assert {
        "digest:daily:2026-10-14",
        "checkin:ask:2026-10-14",
        "checkin:ask:2026-10-15",
    } <= missed
    assert ("digest:daily:2026-10-15", Outcome.SENT) in back.recorded


async def test_sweep_paused_rule_is_skipped_until_resumed(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        with pytest.raises(NotPermitted):
            await world.schedule.set_paused(WORKER_G1, "opinion_day", True)
        await world.schedule.set_paused(SECRETARY, "opinion_day", True)
        await world.sweep_at(at(10, 15, 8, 55))
        paused = await world.sweep_at(at(10, 15, 9, 1))
        await world.schedule.set_paused(SECRETARY, "opinion_day", False)
        views = {v.rule.key: v for v in (await world.schedule.rules(SECRETARY)).rules}
        resumed = await world.run(at(10, 26, 8, 55), at(10, 26, 9, 5), timedelta(minutes=5))

    assert ("rule:opinion_day:2026-10-15:today", Outcome.SKIPPED) in paused.recorded
    assert not views["opinion_day"].paused
    assert views["opinion_day"].next_at == at(10, 26, 9)
    assert len(of_kind(resumed, NoticeKind.ANNOUNCEMENT)) == 2
