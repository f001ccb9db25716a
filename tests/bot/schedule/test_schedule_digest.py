"""The daily digest (issue #5) against a hand-computed fixture."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from bot.issues.rates import Satisfaction, Solved
from bot.schedule.digest import Digest, Overdue
from bot.schedule.model import NoticeKind, Outcome
from tests.bot.schedule.schedule_support import ScheduleWorld, schedule_world
from tests.support.factories import (
    CITY_USER,
    G1_CHAT,
    PROPERTY_USER,
    RESIDENT,
    SECRETARY,
    SHANGHAI,
    WORKER_G1,
)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


async def report(world: ScheduleWorld, when: datetime, text: str) -> int:
    world.issues.clock.set(when)
    outcome = await world.issues.service.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="王阿姨", text=text
    )
    return outcome.issue.number


async def resolve_and_rate(
    world: ScheduleWorld,
    number: int,
    handler: tuple[str, int],
    solved: Solved,
    satisfaction: Satisfaction,
) -> None:
    service = world.issues.service
    await service.assign(WORKER_G1, number, handler[0])
    outcome = await service.handler_resolve(handler[1], number, "已处理")
    [slip] = [n.slip_id for n in outcome.notices if n.slip_id is not None]
    await service.answer_slip(
        slip, RESIDENT, contacted=True, solved=solved, satisfaction=satisfaction
    )


async def fixture(world: ScheduleWorld) -> None:
    # #1 (20 January, previous 30 days): contacted, partly solved, 基本满意.
    first = await report(world, at(1, 20, 10), "#报事 3号楼水管漏水")
    await resolve_and_rate(world, first, ("city", CITY_USER), Solved.PARTLY, Satisfaction.BASIC)
    # #2 (20 February): assigned, due 25 February, still open: overdue, 10 days old.
    second = await report(world, at(2, 20, 10), "#报事 小区路面坑洼")
    await world.issues.service.assign(WORKER_G1, second, "city", resolve_by=at(2, 25, 18))
    # Yesterday, 2 March: #3 assigned, resolved and rated 满意; #4 accepted; #5 left new.
    third = await report(world, at(3, 2, 10), "#报事 2号楼门口路灯不亮")
    await resolve_and_rate(
        world, third, ("property", PROPERTY_USER), Solved.SOLVED, Satisfaction.SATISFIED
    )
    fourth = await report(world, at(3, 2, 10, 30), "#报事 5号楼电梯停运")
    await world.issues.service.accept(WORKER_G1, fourth)
    await report(world, at(3, 2, 11), "#报事 1号楼地下室漏水")


async def test_digest_matches_the_hand_computed_fixture(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        await fixture(world)
        await world.sweep_at(at(3, 3, 7, 58))
        result = await world.sweep_at(at(3, 3, 8, 1))

    [notice] = [n for n in result.notices if n.kind is NoticeKind.DIGEST]
    assert notice.chat_id == SECRETARY
    d = notice.digest
    assert (d.start, d.end, d.weekly) == (date(2026, 3, 2), date(2026, 3, 3), False)
    assert d.counts == {"new": 3, "accepted": 2, "resolved": 1, "reopened": 0}
    assert (d.open_now, d.overdue_now) == (3, 2)  # #2, #4, #5 open; #2 and #5 overdue
    assert d.grids == (("第一网格", 3, 2), ("第二网格", 0, 0))  # all of them in grid 1
    assert d.overdue == (
        Overdue(2, "路灯/市政设施", 10, "市政所"),
        Overdue(5, "漏水/下水堵塞", 0, None),
    )
    assert (d.rates.valid, d.rates.composite) == (1, Fraction(1))
    assert (d.rates_30.valid, d.rates_prev_30.valid) == (1, 1)
    # previous 30 days: response 1, resolution 0, satisfaction 0.9, composite 0.1 + 0.4 × 0.9
    assert d.rates_prev_30.composite == Fraction(46, 100)
    assert d.changes == {
        "response_rate": Fraction(0),
        "resolution_rate": Fraction(100),
        "satisfaction_rate": Fraction(10),
        "composite": Fraction(54),
    }
    # ties by category key: elevator before leak
    assert d.categories == (("路灯/市政设施", 2), ("电梯", 1), ("漏水/下水堵塞", 1))
    assert [(h.name, h.rates.composite) for h in d.best] == [("万象美物业", Fraction(1))]
    assert d.worst == ()
    assert (d.alerts, d.alerts_open, d.today) == (0, 0, ())
    # The chart's 30 days: 1 February to 2 March, new and resolved per local day.
    assert (len(d.trend), d.trend[0][0], d.trend[-1][0]) == (
        30,
        date(2026, 2, 1),
        date(2026, 3, 2),
    )
    assert {day: (new, done) for day, new, done in d.trend if new or done} == {
        date(2026, 2, 20): (1, 0),
        date(2026, 3, 2): (3, 1),
    }


async def test_digest_is_built_before_the_sweeps_transaction(tmp_path: Path) -> None:
    """Building a digest only reads: it finishes while another task holds the write
    transaction (a resident's report), and the sweep then sends it without building again."""
    async with schedule_world(tmp_path) as world:
        await fixture(world)
        await world.sweep_at(at(3, 3, 7, 58))
        now = at(3, 3, 8, 1)
        world.issues.clock.set(now)
        db = world.issues.db
        writing, done = asyncio.Event(), asyncio.Event()

        async def hold_the_writer() -> None:
            async with db.transaction() as tx:
                await tx.execute("UPDATE issues SET description = description WHERE number = 1")
                writing.set()
                await done.wait()

        holder = asyncio.create_task(hold_the_writer())
        await writing.wait()
        prepared = await asyncio.wait_for(world.schedule.prepare_digests(now), 10)
        done.set()
        await holder
        builds = 0
        build = world.schedule.digests.build

        async def counted(*args: Any, **kwargs: Any) -> Digest:
            nonlocal builds
            builds += 1
            return await build(*args, **kwargs)

        world.schedule.digests.build = counted  # type: ignore[method-assign]
        result = await world.schedule.sweep(now, prepared)

    [key] = prepared
    [notice] = [n for n in result.notices if n.kind is NoticeKind.DIGEST]
    assert notice.digest is prepared[key] and builds == 0
    assert (key, Outcome.SENT) in result.recorded
