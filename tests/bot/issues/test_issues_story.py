"""The closed loop at service level: report → accept → assign → handle → slip → reopen → close."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from bot.core.errors import IllegalTransition, InvalidInput, NotPermitted
from bot.issues.feedback import RateScope
from bot.issues.model import Action, IssueType, NoticeKind, Outcome, State
from bot.issues.rates import Satisfaction, Solved
from tests.support.factories import (
    CITY_USER,
    G1_CHAT,
    NEIGHBOUR,
    PROPERTY_USER,
    RESIDENT,
    SHANGHAI,
    WORKER_G1,
    WORKER_G2,
    IssueWorld,
    issue_world,
)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[IssueWorld]:
    async with issue_world(tmp_path) as world:
        yield world


def kinds(outcome: Outcome) -> list[tuple[NoticeKind, int]]:
    return [(notice.kind, notice.chat_id) for notice in outcome.notices]


def slip_of(outcome: Outcome, user_id: int) -> int:
    [slip] = [
        n.slip_id
        for n in outcome.notices
        if n.kind is NoticeKind.FEEDBACK_SLIP and n.chat_id == user_id
    ]
    assert slip is not None
    return slip


async def report_streetlight(world: IssueWorld, user_id: int = RESIDENT) -> Outcome:
    return await world.service.report(
        chat_id=G1_CHAT,
        user_id=user_id,
        display_name="李四",
        text="#报事 3号楼2单元门口路灯坏了",
        message_id=77,
    )


async def test_issue_full_story_reopen_then_close(world: IssueWorld) -> None:
    service, clock = world.service, world.clock
    reported = await report_streetlight(world)
    issue = reported.issue
    assert (issue.number, issue.type, issue.category) == (1, IssueType.REPORT, "streetlight")
    assert (issue.building, issue.unit, issue.state) == ("3", "2", State.NEW)
    assert issue.description == "3号楼2单元门口路灯坏了"
    # general limit: respond within 2 working hours of Wednesday 10:00
    assert issue.respond_by == datetime(2025, 3, 5, 12, 0, tzinfo=SHANGHAI)
    assert kinds(reported) == [
        (NoticeKind.ACK_GROUP, G1_CHAT),
        (NoticeKind.WORKER_CARD, WORKER_G1),
    ]
    assert reported.notices[0].reply_to_message_id == 77

    clock.advance(minutes=30)
    accepted = await service.accept(WORKER_G1, 1)
    assert accepted.issue.state is State.ACCEPTED
    assert kinds(accepted) == [(NoticeKind.STATUS_TO_REPORTER, RESIDENT)]

    assigned = await service.assign(WORKER_G1, 1, "property")
    assert assigned.issue.state is State.ASSIGNED and assigned.issue.handler == "property"
    assert assigned.issue.resolve_by == clock.now() + timedelta(days=7)
    assert (NoticeKind.HANDLER_ORDER, PROPERTY_USER) in kinds(assigned)
    assert [i.number for i in await service.handler_queue(PROPERTY_USER)] == [1]

    clock.advance(hours=1)
    contacted = await service.handler_contacted(PROPERTY_USER, 1)
    assert contacted.issue.state is State.IN_PROGRESS
    clock.advance(hours=3)
    resolved = await service.handler_resolve(PROPERTY_USER, 1, "已更换灯泡", photos=["ph1"])
    assert resolved.issue.state is State.RESOLVED and resolved.issue.round == 1
    assert resolved.issue.resolution_photos == ("ph1",)
    first_slip = slip_of(resolved, RESIDENT)
    [slip_notice] = [n for n in resolved.notices if n.kind is NoticeKind.FEEDBACK_SLIP]
    assert slip_notice.fallback_chat_id == G1_CHAT  # deep-link button if the DM fails

    clock.advance(hours=2)
    reopened = await service.answer_slip(
        first_slip,
        RESIDENT,
        contacted=True,
        solved=Solved.NOT_SOLVED,
        satisfaction=Satisfaction.UNSATISFIED,
        comment="晚上还是不亮",
    )
    assert reopened.issue.state is State.ASSIGNED and reopened.issue.handler == "property"
    order = [n for n in reopened.notices if n.kind is NoticeKind.HANDLER_ORDER]
    assert [(n.chat_id, n.action, n.note) for n in order] == [
        (PROPERTY_USER, Action.REOPEN, "晚上还是不亮")
    ]
    assert (NoticeKind.WORKER_UPDATE, WORKER_G1) in kinds(reopened)

    clock.advance(days=1)
    again = await service.handler_resolve(PROPERTY_USER, 1, "更换了线路")
    assert again.issue.round == 2
    clock.advance(hours=1)
    closed = await service.answer_slip(
        slip_of(again, RESIDENT),
        RESIDENT,
        contacted=True,
        solved=Solved.SOLVED,
        satisfaction=Satisfaction.SATISFIED,
    )
    assert closed.issue.state is State.CLOSED

    timeline = await service.timeline(1, RESIDENT)
    assert [(e.action, e.to_state) for e in timeline] == [
        (Action.REPORT, State.NEW),
        (Action.ACCEPT, State.ACCEPTED),
        (Action.ASSIGN, State.ASSIGNED),
        (Action.CONTACTED, State.IN_PROGRESS),
        (Action.RESOLVE, State.RESOLVED),
        (Action.ANSWER_SLIP, State.RESOLVED),
        (Action.REOPEN, State.ASSIGNED),
        (Action.RESOLVE, State.RESOLVED),
        (Action.ANSWER_SLIP, State.RESOLVED),
        (Action.CLOSE, State.CLOSED),
    ]
    assert [e.at for e in timeline] == sorted(e.at for e in timeline)
    assert timeline[6].note == "晚上还是不亮"

    # Both slips are valid, each in its own round: the first (未解决, 不满意) lowers the rates.
    start, end = clock.now() - timedelta(days=30), clock.now() + timedelta(seconds=1)
    rates = await service.rates(RateScope.HANDLER, "property", start, end)
    assert (rates.valid, rates.missing, rates.contacted, rates.solved) == (2, 0, 2, 1)
    assert rates.satisfaction_rate == Fraction(1, 2)
    assert rates.composite == Fraction(1, 10) + Fraction(1, 2) * Fraction(1, 2) + Fraction(
        2, 5
    ) * Fraction(1, 2)
    assert (await service.rates(RateScope.GRID, "g2", start, end)).valid == 0
    assert (await service.rates(RateScope.COMMUNITY, None, start, end)).valid == 2


async def test_issue_merge_shares_the_outcome(world: IssueWorld) -> None:
    service = world.service
    await report_streetlight(world, RESIDENT)
    second = await service.report(
        chat_id=G1_CHAT, user_id=NEIGHBOUR, display_name="王小明", text="3栋2单元路灯不亮了"
    )
    assert second.issue.number == 2
    hints = [n for n in second.notices if n.kind is NoticeKind.DUPLICATE_HINT]
    assert [(n.chat_id, n.related) for n in hints] == [(WORKER_G1, (1,))]

    merged = await service.merge(WORKER_G1, 2, into=1)
    assert merged.issue.state is State.MERGED and merged.issue.merged_into == 1
    assert [(n.kind, n.chat_id, n.related) for n in merged.notices] == [
        (NoticeKind.STATUS_TO_REPORTER, NEIGHBOUR, (1,))
    ]
    await service.assign(WORKER_G1, 1, "property")
    resolved = await service.handler_resolve(PROPERTY_USER, 1, "已修好")
    slips = {n.chat_id for n in resolved.notices if n.kind is NoticeKind.FEEDBACK_SLIP}
    assert slips == {RESIDENT, NEIGHBOUR}
    # the issue closes only once both reporters have answered
    happy = {"contacted": True, "solved": Solved.SOLVED, "satisfaction": Satisfaction.BASIC}
    first = await service.answer_slip(slip_of(resolved, RESIDENT), RESIDENT, **happy)
    assert first.issue.state is State.RESOLVED
    second_answer = await service.answer_slip(slip_of(resolved, NEIGHBOUR), NEIGHBOUR, **happy)
    assert second_answer.issue.state is State.CLOSED
    assert [i.number for i in await service.mine(NEIGHBOUR)] == [2, 1]


async def test_issue_emergency_answers_at_once_and_alerts_the_worker(world: IssueWorld) -> None:
    outcome = await world.service.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text="5号楼楼道着火了，有人晕倒"
    )
    issue = outcome.issue
    assert issue.urgent
    assert issue.respond_by == world.clock.now() + timedelta(hours=2)  # the urgent limit
    [reply] = [n for n in outcome.notices if n.kind is NoticeKind.EMERGENCY_REPLY]
    assert reply.chat_id == G1_CHAT and reply.services == (("fire", "119"), ("medical", "120"))
    alerts = [n.chat_id for n in outcome.notices if n.kind is NoticeKind.EMERGENCY_ALERT]
    assert alerts == [WORKER_G1]
    assigned = await world.service.assign(WORKER_G1, issue.number, "property")
    assert assigned.issue.resolve_by == datetime(2025, 3, 5, 23, 59, 59, tzinfo=SHANGHAI)


async def test_issue_private_report_never_targets_a_group(world: IssueWorld) -> None:
    service = world.service
    reported = await service.report_private(
        user_id=RESIDENT,
        display_name="李四",
        grid_key="g1",
        description="3号楼2单元有人群租，着火隐患",
        issue_type=IssueType.WRONGDOING,
        anonymous=True,
    )
    issue = reported.issue
    assert issue.private and issue.anonymous
    await service.assign(WORKER_G1, issue.number, "property")
    resolved = await service.handler_resolve(PROPERTY_USER, issue.number, "已核查")
    every = [*reported.notices, *resolved.notices]
    assert {n.kind for n in reported.notices} >= {NoticeKind.ACK_PRIVATE, NoticeKind.WORKER_CARD}
    assert all(n.chat_id > 0 for n in every), every
    assert all(n.fallback_chat_id is None for n in every)


async def test_issue_ticket_on_behalf_records_the_resident_as_reporter(
    world: IssueWorld,
) -> None:
    outcome = await world.service.ticket_on_behalf(
        worker_id=WORKER_G1,
        chat_id=G1_CHAT,
        resident_id=RESIDENT,
        resident_name="李四",
        text="楼下垃圾桶满了没人清运",
        message_id=90,
    )
    assert outcome.issue.category == "sanitation"
    assert outcome.issue.reporter_ids == {RESIDENT}
    [event] = await world.service.timeline(outcome.issue.number, RESIDENT)
    assert (event.action, event.actor_id, event.actor_role) == (Action.TICKET, WORKER_G1, "worker")


async def test_issue_return_request_needs_the_worker(world: IssueWorld) -> None:
    service = world.service
    await report_streetlight(world)
    await service.assign(WORKER_G1, 1, "property")
    asked = await service.handler_request_return(PROPERTY_USER, 1, "路灯归市政管")
    assert asked.issue.state is State.RETURN_REQUESTED
    assert [(n.kind, n.chat_id, n.note) for n in asked.notices] == [
        (NoticeKind.RETURN_REQUEST, WORKER_G1, "路灯归市政管")
    ]
    approved = await service.approve_return(WORKER_G1, 1)
    assert approved.issue.state is State.ACCEPTED and approved.issue.handler is None
    assert [(n.kind, n.chat_id) for n in approved.notices] == [
        (NoticeKind.RETURN_DECISION, PROPERTY_USER)
    ]
    await service.assign(WORKER_G1, 1, "city")
    await service.handler_request_return(CITY_USER, 1, "不归我们")
    refused = await service.refuse_return(WORKER_G1, 1, "路灯是市政设施")
    assert refused.issue.state is State.ASSIGNED and refused.issue.handler == "city"


async def test_issue_transfer_moves_it_to_the_other_grid(world: IssueWorld) -> None:
    await report_streetlight(world)
    moved = await world.service.transfer(WORKER_G1, 1, "g2")
    assert (moved.issue.grid, moved.issue.state) == ("g2", State.NEW)
    assert [(n.kind, n.chat_id) for n in moved.notices] == [(NoticeKind.WORKER_CARD, WORKER_G2)]
    queue = await world.service.worker_queue(WORKER_G2)
    assert [i.number for i in queue] == [1]
    assert await world.service.worker_queue(WORKER_G1) == ()


async def test_issue_deadline_changed_by_the_worker_sends_the_handler_a_new_order(
    world: IssueWorld,
) -> None:
    # Wednesday 5 March 2025 10:00; 15 calendar days from now.
    await report_streetlight(world)
    assigned = await world.service.assign(WORKER_G1, 1, "property")
    changed = await world.service.change_deadline(WORKER_G1, 1, "15d")
    events = await world.service.timeline(1, WORKER_G1)

    new_deadline = datetime(2025, 3, 20, 10, 0, tzinfo=SHANGHAI)
    assert assigned.issue.resolve_by != new_deadline
    assert changed.issue.resolve_by == new_deadline and changed.issue.state is State.ASSIGNED
    assert [(n.kind, n.chat_id, n.action) for n in changed.notices] == [
        (NoticeKind.HANDLER_ORDER, PROPERTY_USER, Action.SET_DEADLINE)
    ]
    assert events[-1].action is Action.SET_DEADLINE
    assert events[-1].note == "2025-03-20T02:00:00Z"


@pytest.mark.parametrize("limit", ["tomorrow", "0d", "400d", "999999wd"])
async def test_issue_deadline_refuses_what_is_not_a_sensible_limit(
    world: IssueWorld, limit: str
) -> None:
    await report_streetlight(world)
    before = (await world.service.assign(WORKER_G1, 1, "property")).issue
    with pytest.raises(InvalidInput):
        await world.service.change_deadline(WORKER_G1, 1, limit)
    assert (await world.service.load(1)).resolve_by == before.resolve_by


async def test_issue_deadline_only_while_a_handler_works_on_it(world: IssueWorld) -> None:
    await report_streetlight(world)
    with pytest.raises(IllegalTransition):
        await world.service.change_deadline(WORKER_G1, 1, "7d")
    await world.service.assign(WORKER_G1, 1, "property")
    with pytest.raises(NotPermitted):
        await world.service.change_deadline(PROPERTY_USER, 1, "30d")


@pytest.mark.parametrize(
    ("limit", "deadline"),
    [
        ("3月20日", datetime(2025, 3, 20, 18, 0, tzinfo=SHANGHAI)),  # end of the working day
        ("3月20号 12:00", datetime(2025, 3, 20, 12, 0, tzinfo=SHANGHAI)),
        ("2025-03-07", datetime(2025, 3, 7, 18, 0, tzinfo=SHANGHAI)),
        ("3/6 9：30", datetime(2025, 3, 6, 9, 30, tzinfo=SHANGHAI)),
        ("1月5日", None),  # two months back: refused, not next January
        ("今天 18:00", None),
        ("2月30日", None),
        ("3月5日 09:00", None),  # today, but already past: not next year
        ("3月1日", None),  # a few days back: a slip of the pen, not next March
        ("3月20日 25:00", None),
        ("2027-03-01", None),  # more than a year away
    ],
)
async def test_issue_deadline_to_a_date(
    world: IssueWorld, limit: str, deadline: datetime | None
) -> None:
    # Wednesday 5 March 2025 10:00.
    await report_streetlight(world)
    await world.service.assign(WORKER_G1, 1, "property")
    if deadline is None:
        with pytest.raises(InvalidInput):
            await world.service.change_deadline(WORKER_G1, 1, limit)
        return
    changed = await world.service.change_deadline(WORKER_G1, 1, limit)
    assert changed.issue.resolve_by == deadline


async def test_issue_deadline_in_january_written_in_december_is_next_year(
    world: IssueWorld,
) -> None:
    await report_streetlight(world)
    await world.service.assign(WORKER_G1, 1, "property")
    world.clock.set(datetime(2025, 12, 20, 10, 0, tzinfo=SHANGHAI))
    changed = await world.service.change_deadline(WORKER_G1, 1, "1月5日")
    assert changed.issue.resolve_by == datetime(2026, 1, 5, 18, 0, tzinfo=SHANGHAI)
