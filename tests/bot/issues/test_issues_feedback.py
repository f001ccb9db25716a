"""Feedback slips: stale answers refused, reminder once, expiry as 未评价, idempotent sweeps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.core.errors import NotFound, NotPermitted, StaleSlip
from bot.issues import feedback as issues_feedback
from bot.issues.feedback import RateScope
from bot.issues.model import Action, NoticeKind, Outcome, State
from bot.issues.rates import Satisfaction, Solved
from storage.issues.slips import SlipRecord
from tests.support.factories import (
    G1_CHAT,
    NEIGHBOUR,
    PROPERTY_USER,
    RESIDENT,
    WORKER_G1,
    IssueWorld,
    issue_world,
)

HAPPY = {"contacted": True, "solved": Solved.SOLVED, "satisfaction": Satisfaction.SATISFIED}


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[IssueWorld]:
    async with issue_world(tmp_path) as world:
        yield world


async def resolved_issue(world: IssueWorld) -> Outcome:
    service = world.service
    reported = await service.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text="#报事 2号楼电梯困人"
    )
    number = reported.issue.number
    await service.assign(WORKER_G1, number, "property")
    return await service.handler_resolve(PROPERTY_USER, number, "已放出")


def slip_id(outcome: Outcome) -> int:
    [slip] = [n.slip_id for n in outcome.notices if n.kind is NoticeKind.FEEDBACK_SLIP]
    assert slip is not None
    return slip


async def test_sweep_reminds_once_then_expires_and_closes(world: IssueWorld) -> None:
    service, clock = world.service, world.clock
    resolved = await resolved_issue(world)
    slip, number = slip_id(resolved), resolved.issue.number

    clock.advance(days=2, hours=23)
    nothing = await service.sweep_feedback()
    assert (nothing.reminded, nothing.expired, nothing.notices) == ((), (), ())

    clock.advance(hours=1)  # day 3: one reminder
    first = await service.sweep_feedback()
    assert first.reminded == (slip,)
    assert [(n.kind, n.chat_id, n.slip_id) for n in first.notices] == [
        (NoticeKind.FEEDBACK_REMINDER, RESIDENT, slip)
    ]
    again = await service.sweep_feedback()
    assert (again.reminded, again.notices) == ((), ())

    clock.advance(days=4)  # day 7: expired as 未评价, the issue closes
    expired = await service.sweep_feedback()
    assert (expired.reminded, expired.expired, expired.closed) == ((), (slip,), (number,))
    assert (await service.get(number, RESIDENT)).state is State.CLOSED
    twice = await service.sweep_feedback()
    assert (twice.expired, twice.closed, twice.notices) == ((), (), ())

    timeline = await service.timeline(number, WORKER_G1)
    assert [e.action for e in timeline][-2:] == [Action.SLIP_EXPIRED, Action.CLOSE]
    assert timeline[-1].actor_role == "system"
    with pytest.raises(StaleSlip) as stale:
        await service.answer_slip(slip, RESIDENT, **HAPPY)
    assert stale.value.key == "issues.errors.slip_expired"

    rates = await service.rates(
        RateScope.COMMUNITY, None, clock.now() - timedelta(days=30), clock.now()
    )
    assert (rates.valid, rates.missing, rates.response_rate) == (0, 1, None)


async def test_sweep_late_expires_without_reminding(world: IssueWorld) -> None:
    resolved = await resolved_issue(world)
    world.clock.advance(days=10)
    swept = await world.service.sweep_feedback()
    assert (swept.reminded, swept.expired) == ((), (slip_id(resolved),))


async def test_sweep_works_off_a_backlog_a_slice_at_a_time(
    world: IssueWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(issues_feedback, "MAX_SLIPS_PER_SWEEP", 2)
    slips = [slip_id(await resolved_issue(world)) for _ in range(3)]
    world.clock.advance(days=10)
    sweeps = [await world.service.sweep_feedback() for _ in range(3)]
    assert [s.expired for s in sweeps] == [tuple(slips[:2]), tuple(slips[2:]), ()]
    assert [len(s.closed) for s in sweeps] == [2, 1, 0]
    assert [s.reminded for s in sweeps] == [(), (), ()]  # never a reminder for a lapsed slip


async def test_answer_slip_refuses_others_twice_and_unknown(world: IssueWorld) -> None:
    resolved = await resolved_issue(world)
    slip = slip_id(resolved)
    with pytest.raises(NotPermitted) as other:
        await world.service.answer_slip(slip, NEIGHBOUR, **HAPPY)
    assert other.value.key == "issues.errors.not_your_slip"
    closed = await world.service.answer_slip(slip, RESIDENT, **HAPPY)
    assert closed.issue.state is State.CLOSED
    with pytest.raises(StaleSlip) as twice:
        await world.service.answer_slip(slip, RESIDENT, **HAPPY)
    assert twice.value.key == "issues.errors.slip_answered"
    with pytest.raises(NotFound):
        await world.service.answer_slip(slip + 100, RESIDENT, **HAPPY)


@pytest.mark.parametrize(
    ("solved", "satisfaction", "state"),
    [
        pytest.param(Solved.SOLVED, Satisfaction.SATISFIED, State.CLOSED, id="satisfied"),
        pytest.param(Solved.PARTLY, Satisfaction.BASIC, State.CLOSED, id="partly-basic"),
        pytest.param(Solved.NOT_SOLVED, Satisfaction.BASIC, State.ASSIGNED, id="not-solved"),
        pytest.param(Solved.SOLVED, Satisfaction.UNSATISFIED, State.ASSIGNED, id="unsatisfied"),
    ],
)
async def test_answer_closes_or_reopens(
    world: IssueWorld, solved: Solved, satisfaction: Satisfaction, state: State
) -> None:
    resolved = await resolved_issue(world)
    answered = await world.service.answer_slip(
        slip_id(resolved), RESIDENT, contacted=False, solved=solved, satisfaction=satisfaction
    )
    assert answered.issue.state is state


async def test_reopen_has_fresh_deadline_and_reaches_the_handler(world: IssueWorld) -> None:
    resolved = await resolved_issue(world)
    world.clock.advance(hours=5)
    reopened = await world.service.answer_slip(
        slip_id(resolved),
        RESIDENT,
        contacted=True,
        solved=Solved.NOT_SOLVED,
        satisfaction=Satisfaction.UNSATISFIED,
        comment="  电梯还是坏的  ",
    )
    # elevator: utilities limit, resolve within 24 h of the reopen
    assert reopened.issue.resolve_by == world.clock.now() + timedelta(hours=24)
    notes = {(n.kind, n.chat_id): n.note for n in reopened.notices}
    assert notes[(NoticeKind.HANDLER_ORDER, PROPERTY_USER)] == "电梯还是坏的"
    assert notes[(NoticeKind.WORKER_UPDATE, WORKER_G1)] == "电梯还是坏的"


async def test_a_slip_answered_while_the_sweep_looks_is_not_expired(
    world: IssueWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue #15 item 3: the sweep reads the lapsed slips outside its write; the resident's
    answer in between wins: the slip stays answered and the issue is closed by the answer."""
    resolved = await resolved_issue(world)
    slip, number = slip_id(resolved), resolved.issue.number
    world.clock.advance(days=10)
    slips = world.service.core.repo.slips
    read = slips.to_expire

    async def read_then_answer(issued_before: datetime, limit: int) -> list[SlipRecord]:
        found = await read(issued_before, limit)
        await world.service.answer_slip(slip, RESIDENT, **HAPPY)
        return found

    monkeypatch.setattr(slips, "to_expire", read_then_answer)
    swept = await world.service.sweep_feedback()
    record = await slips.get(slip)
    timeline = await world.service.timeline(number, WORKER_G1)

    assert (swept.expired, swept.closed, swept.notices) == ((), (), ())
    assert record is not None and record.state == "answered"
    assert Action.SLIP_EXPIRED not in [e.action for e in timeline]
    assert [e.actor_role for e in timeline if e.action is Action.CLOSE] == ["resident"]
