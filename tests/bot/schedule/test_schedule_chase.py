"""Deadline chasing (issue #5): 催办 at 75%, 督办 at the deadline, the escalation ladder in
working days (skipping the Mid-autumn holiday and a weekend), and resolving stops it all."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.issues.model import Action
from bot.schedule import chasing
from bot.schedule.model import NoticeKind, ScheduleNotice
from tests.bot.schedule.schedule_support import ScheduleWorld, of_kind, schedule_world
from tests.support.factories import (
    G1_CHAT,
    LEADER_G1,
    PROPERTY_USER,
    RESIDENT,
    SECRETARY,
    SHANGHAI,
    WORKER_G1,
)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def chases(sent: list[tuple[datetime, ScheduleNotice]]) -> list[tuple[datetime, str, int]]:
    """(sweep time, step, recipient) of every chase notice sent."""
    return [(when, n.values["step"], n.chat_id) for when, n in of_kind(sent, NoticeKind.CHASE)]


async def assigned_issue(world: ScheduleWorld, resolve_by: datetime) -> int:
    service = world.issues.service
    world.issues.clock.set(at(9, 14, 10))  # Monday
    reported = await service.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="王阿姨", text="#报事 5号楼门禁坏了"
    )
    number = reported.issue.number
    await service.assign(WORKER_G1, number, "property", resolve_by=resolve_by)
    return number


async def test_chase_walks_the_ladder_on_working_days(tmp_path: Path) -> None:
    # Due Thursday 24 September 18:00. Friday the 25th is Mid-autumn Festival, then a weekend:
    # +1 working day is Monday the 28th, +3 is Wednesday the 30th. 75% of the time from Monday
    # 14 September 10:00 falls at 04:00 on the 22nd, outside working time: 09:00 instead.
    async with schedule_world(tmp_path) as world:
        number = await assigned_issue(world, at(9, 24, 18))
        sent = await world.run(at(9, 14, 10, 1), at(10, 2, 0, 1), timedelta(hours=1))
        events = await world.issues.service.timeline(number, WORKER_G1)

    assert chases(sent) == [
        (at(9, 22, 9, 1), "remind", PROPERTY_USER),
        (at(9, 24, 18, 1), "overdue", PROPERTY_USER),
        (at(9, 24, 18, 1), "overdue", WORKER_G1),
        (at(9, 28, 18, 1), "escalate1", LEADER_G1),
        (at(9, 30, 18, 1), "escalate2", SECRETARY),
    ]
    steps = [
        e.action for e in events if e.action in (Action.CHASE, Action.SUPERVISE, Action.ESCALATE)
    ]
    assert steps == [Action.CHASE, Action.SUPERVISE, Action.ESCALATE, Action.ESCALATE]


async def test_chase_stops_when_the_issue_is_resolved(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        number = await assigned_issue(world, at(9, 24, 18))
        before = await world.run(at(9, 24, 17, 1), at(9, 25, 10, 1), timedelta(hours=1))
        world.issues.clock.set(at(9, 28, 10))
        await world.issues.service.handler_resolve(PROPERTY_USER, number, "已修好")
        after = await world.run(at(9, 28, 10, 1), at(10, 9, 0, 1), timedelta(hours=1))

    # The first sweep (17:01) finds the 75% reminder due; the deadline then passes at 18:00.
    steps = [step for _, step, _ in chases(before)]
    assert steps == ["remind", "overdue", "overdue"]
    assert of_kind(after, NoticeKind.CHASE) == []


async def test_chase_after_downtime_sends_only_the_step_that_applies_now(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        await assigned_issue(world, at(9, 24, 18))
        await world.sweep_at(at(9, 14, 10, 1))
        back = await world.sweep_at(at(9, 29, 9, 0))  # down for two weeks

    chases = [(n.values["step"], n.chat_id) for n in back.notices if n.kind is NoticeKind.CHASE]
    assert chases == [("escalate1", LEADER_G1)]


async def test_a_tick_with_no_new_step_due_writes_nothing(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        number = await assigned_issue(world, at(9, 24, 18))
        first = await world.sweep_at(at(9, 29, 9, 0))  # escalate1 due, earlier steps overtaken
        statements: list[str] = []
        await world.issues.db._writer.set_trace_callback(statements.append)
        again = await world.sweep_at(at(9, 29, 9, 1))
        await world.issues.db._writer.set_trace_callback(None)
        runs = await world.schedule.repo.runs("chase")

    assert [n.values["step"] for n in first.notices if n.kind is NoticeKind.CHASE] == ["escalate1"]
    assert [n for n in again.notices if n.kind is NoticeKind.CHASE] == []
    assert not [s for s in statements if "schedule_runs" in s and s.startswith("INSERT")]
    assert {(r.key.rsplit(":", 1)[1], r.outcome) for r in runs} == {
        ("remind", "skipped"),
        ("overdue", "skipped"),
        ("escalate1", "sent"),
    }
    assert all(r.key.startswith(f"chase:{number}:") for r in runs)


async def report_new(
    world: ScheduleWorld, when: datetime, text: str = "#报事 5号楼门禁坏了"
) -> int:
    world.issues.clock.set(when)
    reported = await world.issues.service.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="王阿姨", text=text
    )
    return reported.issue.number


async def test_a_report_nobody_accepts_reminds_the_workers_then_tells_the_leader(
    tmp_path: Path,
) -> None:
    # Reported Monday 14 September 10:00; 受理 within 2 working hours: 12:00, when lunch starts
    # (12:00–13:30 is not working time), so the workers are reminded at 13:30, and the leader
    # is told two working hours after the deadline: 15:30.
    async with schedule_world(tmp_path) as world:
        number = await report_new(world, at(9, 14, 10))
        respond_by = (await world.issues.service.load(number)).respond_by
        sent = await world.run(at(9, 14, 10, 1), at(9, 14, 18, 1), timedelta(minutes=30))
        events = await world.issues.service.timeline(number, WORKER_G1)

    assert respond_by == at(9, 14, 12)
    assert chases(sent) == [
        (at(9, 14, 13, 31), "unaccepted", WORKER_G1),
        (at(9, 14, 15, 31), "unaccepted_escalate", LEADER_G1),
    ]
    steps = [e.action for e in events if e.action in (Action.CHASE, Action.ESCALATE)]
    assert steps == [Action.CHASE, Action.ESCALATE]


async def test_accepting_a_report_stops_its_chase(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        number = await report_new(world, at(9, 14, 10))
        before = await world.run(at(9, 14, 13, 31), at(9, 14, 13, 31), timedelta(minutes=30))
        await world.issues.service.accept(WORKER_G1, number)
        after = await world.run(at(9, 14, 14, 1), at(9, 16, 18, 1), timedelta(hours=1))

    assert [step for _, step, _ in chases(before)] == ["unaccepted"]
    assert of_kind(after, NoticeKind.CHASE) == []


async def test_a_backlog_of_chases_is_worked_off_a_slice_per_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chasing, "MAX_STEPS_PER_SWEEP", 2)
    async with schedule_world(tmp_path) as world:
        numbers = [await report_new(world, at(9, 14, 10)) for _ in range(3)]
        slices = [await world.sweep_at(at(9, 14, 13, 31 + n)) for n in range(3)]

    chased = [[n.issue_no for n in s.notices if n.kind is NoticeKind.CHASE] for s in slices]
    assert chased == [numbers[:2], numbers[2:], []]


async def test_a_changed_deadline_is_chased_from_the_change(tmp_path: Path) -> None:
    # Assigned Monday 14 September; a week later the worker sets 今天内 (by 23:59:59). 75% of
    # the week would already have passed; counted from the change it falls at 20:30, after
    # working time, past the deadline: no 催办, the 督办 follows the deadline.
    async with schedule_world(tmp_path) as world:
        number = await assigned_issue(world, at(9, 21, 18))
        world.issues.clock.set(at(9, 21, 10))
        await world.issues.service.change_deadline(WORKER_G1, number, "eod")
        sent = await world.run(at(9, 21, 10, 1), at(9, 22, 2, 1), timedelta(hours=1))

    assert chases(sent) == [
        (at(9, 22, 0, 1), "overdue", PROPERTY_USER),
        (at(9, 22, 0, 1), "overdue", WORKER_G1),
    ]


async def test_an_urgent_report_nobody_accepts_is_chased_at_night_too(tmp_path: Path) -> None:
    # Friday 18 September 19:00, smoke in a stairwell (an emergency): 受理 within 2 hours in clock
    # time (21:00); the leader is told two hours after that, not on Monday.
    async with schedule_world(tmp_path) as world:
        number = await report_new(world, at(9, 18, 19), "#报事 3号楼楼道冒烟了")
        reported = await world.issues.service.load(number)
        sent = await world.run(at(9, 18, 19, 1), at(9, 19, 1, 1), timedelta(minutes=30))

    assert reported.urgent and reported.respond_by == at(9, 18, 21)
    assert chases(sent) == [
        (at(9, 18, 21, 1), "unaccepted", WORKER_G1),
        (at(9, 18, 23, 1), "unaccepted_escalate", LEADER_G1),
    ]


async def test_a_return_request_nobody_decides_is_chased_then_escalated(tmp_path: Path) -> None:
    # Assigned Monday 14 September; the handler asks to return it at 10:00. Deciding has the
    # 受理 limit (2 working hours: 12:00, then lunch), so the workers are reminded at 13:30 and
    # the leader is told at 15:30; once decided, nothing more.
    async with schedule_world(tmp_path) as world:
        number = await assigned_issue(world, at(9, 24, 18))
        await world.issues.service.handler_request_return(PROPERTY_USER, number, "不属于物业")
        sent = await world.run(at(9, 14, 10, 1), at(9, 14, 16, 1), timedelta(minutes=30))
        world.issues.clock.set(at(9, 14, 16, 10))
        await world.issues.service.refuse_return(WORKER_G1, number, "请继续办理")
        after = await world.run(at(9, 14, 16, 31), at(9, 15, 12, 1), timedelta(hours=1))

    assert chases(sent) == [
        (at(9, 14, 13, 31), "return_waiting", WORKER_G1),
        (at(9, 14, 15, 31), "return_waiting_escalate", LEADER_G1),
    ]
    assert chases(after) == []


async def test_a_long_chase_sweep_lets_a_report_in_between_its_slices(tmp_path: Path) -> None:
    """Issue #15 item 3: the chaser writes in short transactions, so a resident's report
    arriving while it works waits for one slice, not for the whole sweep."""
    async with schedule_world(tmp_path) as world:
        for _ in range(3 * chasing.STEPS_PER_TRANSACTION):
            await report_new(world, at(9, 14, 10))
        events: list[str] = []
        first_slice = asyncio.Event()

        async def deliver(notices: Sequence[ScheduleNotice]) -> None:
            if any(n.kind is NoticeKind.CHASE for n in notices):
                events.append("slice")
                first_slice.set()

        async def resident() -> None:
            await first_slice.wait()
            await report_new(world, at(9, 14, 13, 31), "#报事 3号楼路灯坏了")
            events.append("report")

        meanwhile = asyncio.create_task(resident())
        await world.schedule.sweep(at(9, 14, 13, 31), deliver=deliver)
        await meanwhile

    # ten steps a slice at most, fewer when a slice took its time (bot.core.slices)
    assert 3 <= events.count("slice") <= 3 * chasing.STEPS_PER_TRANSACTION
    assert events.index("report") < len(events) - 1, events  # before the sweep's last slice


async def test_the_chaser_looks_in_a_worker_thread_and_keeps_what_the_collector_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue #15 item 6: the look at every chased issue (Python over thousands of rows) runs
    off the event loop's thread, and the ladders kept between ticks are plain tuples the
    cyclic collector stops scanning (as objects, a full collection walked them all with the
    GIL held)."""
    async with schedule_world(tmp_path) as world:
        for _ in range(3):
            await report_new(world, at(9, 14, 10))
        chaser = world.schedule.chaser
        look = chaser._look
        threads: list[int] = []

        def recording(*args: object) -> object:
            threads.append(threading.get_ident())
            return look(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(chaser, "_look", recording)
        swept = await world.sweep_at(at(9, 14, 13, 31))
        for _ in range(3):  # a tuple is let go in the pass after those inside it were
            gc.collect()
        kept = list(chaser._ladders.values())

    assert threads and threading.get_ident() not in threads
    assert len(kept) == 3
    assert not any(gc.is_tracked(ladder) for ladder in kept)
    assert len([n for n in swept.notices if n.kind is NoticeKind.CHASE]) >= 3  # chased


async def test_a_report_accepted_while_the_chaser_looks_is_not_chased(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker presses 受理 between the chaser's read and its write: the acceptance stands
    and nobody is reminded to accept it."""
    async with schedule_world(tmp_path) as world:
        number = await report_new(world, at(9, 14, 10))
        chaser = world.schedule.chaser
        read = chaser.due

        async def due_then_accept(now: datetime) -> list[chasing.Due]:
            found = await read(now)
            await world.issues.service.accept(WORKER_G1, number)
            return found

        monkeypatch.setattr(chaser, "due", due_then_accept)
        swept = await world.sweep_at(at(9, 14, 13, 31))
        runs = await world.schedule.repo.runs("chase")
        issue = await world.issues.service.load(number)
        events = await world.issues.service.timeline(number, WORKER_G1)

    assert [n for n in swept.notices if n.kind is NoticeKind.CHASE] == []
    assert runs == []
    assert issue.state.value == "accepted"
    assert Action.CHASE not in [e.action for e in events]
