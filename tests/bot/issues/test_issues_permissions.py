"""Who may do what, illegal transitions, and forged or stale buttons: refused, nothing changes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.core.errors import IllegalTransition, IssueFinished, NotFound, NotPermitted
from bot.core.permissions import GridScope, Role, roles_of
from bot.issues.model import Action, IssueView, State
from bot.issues.policy import may
from bot.issues.service import IssueService
from tests.support.factories import (
    CITY_USER,
    G1_CHAT,
    LEADER_G1,
    PROPERTY_USER,
    RESIDENT,
    SECRETARY,
    STRANGER,
    WORKER_G1,
    WORKER_G2,
    IssueWorld,
    issue_world,
    make_config,
)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[IssueWorld]:
    async with issue_world(tmp_path) as world:
        yield world


async def new_issue(world: IssueWorld) -> IssueView:
    outcome = await world.service.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text="#报事 3号楼路灯坏了"
    )
    return outcome.issue


ASSIGNED_TO_PROPERTY = GridScope("g1", "property", frozenset({RESIDENT}))


@pytest.mark.parametrize(
    ("user", "action", "allowed"),
    [
        pytest.param(RESIDENT, Action.ACCEPT, False, id="resident-accept"),
        pytest.param(RESIDENT, Action.VIEW, True, id="reporter-view"),
        pytest.param(STRANGER, Action.VIEW, False, id="stranger-view"),
        pytest.param(STRANGER, Action.REPORT, True, id="anyone-report"),
        pytest.param(WORKER_G1, Action.ACCEPT, True, id="worker-accept"),
        pytest.param(WORKER_G1, Action.ASSIGN, True, id="worker-assign"),
        pytest.param(WORKER_G1, Action.RESOLVE, False, id="worker-resolve"),
        pytest.param(WORKER_G2, Action.ACCEPT, False, id="other-grid-worker-accept"),
        pytest.param(WORKER_G2, Action.VIEW, False, id="other-grid-worker-view"),
        pytest.param(LEADER_G1, Action.REJECT, True, id="leader-reject"),
        pytest.param(SECRETARY, Action.TRANSFER, True, id="secretary-transfer"),
        pytest.param(SECRETARY, Action.VIEW, True, id="secretary-view"),
        pytest.param(PROPERTY_USER, Action.RESOLVE, True, id="assigned-handler-resolve"),
        pytest.param(PROPERTY_USER, Action.VIEW, True, id="assigned-handler-view"),
        pytest.param(PROPERTY_USER, Action.ACCEPT, False, id="handler-accept"),
        pytest.param(CITY_USER, Action.RESOLVE, False, id="other-handler-resolve"),
        pytest.param(CITY_USER, Action.VIEW, False, id="other-handler-view"),
        pytest.param(WORKER_G1, Action.SET_DEADLINE, True, id="worker-deadline"),
        pytest.param(PROPERTY_USER, Action.SET_DEADLINE, False, id="handler-own-deadline"),
        pytest.param(RESIDENT, Action.SET_DEADLINE, False, id="resident-deadline"),
    ],
)
def test_permissions_table(user: int, action: Action, allowed: bool) -> None:
    assert may(user, action, ASSIGNED_TO_PROPERTY, make_config()) is allowed


def test_roles_of_are_per_grid_and_per_assignment() -> None:
    config = make_config()
    assert roles_of(WORKER_G1, config, "g1") == {Role.RESIDENT, Role.WORKER}
    assert roles_of(WORKER_G1, config, "g2") == {Role.RESIDENT}
    assert roles_of(PROPERTY_USER, config, "g1", "property") == {Role.RESIDENT, Role.HANDLER}
    assert roles_of(PROPERTY_USER, config, "g1", "city") == {Role.RESIDENT}


@pytest.mark.parametrize(
    ("user", "key"),
    [
        pytest.param(RESIDENT, "issues.errors.only_worker", id="resident"),
        pytest.param(WORKER_G2, "issues.errors.other_grid", id="other-grid-worker"),
        pytest.param(PROPERTY_USER, "issues.errors.only_worker", id="handler"),
    ],
)
async def test_accept_refused_and_nothing_changes(world: IssueWorld, user: int, key: str) -> None:
    issue = await new_issue(world)
    with pytest.raises(NotPermitted) as refused:
        await world.service.accept(user, issue.number)
    assert refused.value.key == key
    assert (await world.service.get(issue.number, WORKER_G1)).state is State.NEW
    assert len(await world.service.timeline(issue.number, WORKER_G1)) == 1


async def test_handler_not_assigned_is_refused(world: IssueWorld) -> None:
    issue = await new_issue(world)
    await world.service.assign(WORKER_G1, issue.number, "property")
    with pytest.raises(NotPermitted) as refused:
        await world.service.handler_resolve(CITY_USER, issue.number, "办好了")
    assert refused.value.key == "issues.errors.only_handler"


Step = Callable[[IssueService, int], Awaitable[object]]


async def reach(world: IssueWorld, state: State) -> int:
    """A fresh issue brought to ``state`` by the people allowed to."""
    service, number = world.service, (await new_issue(world)).number
    if state is State.ACCEPTED:
        await service.accept(WORKER_G1, number)
    if state in (State.ASSIGNED, State.RESOLVED):
        await service.assign(WORKER_G1, number, "property")
    if state is State.RESOLVED:
        await service.handler_resolve(PROPERTY_USER, number, "已办结")
    return number


@pytest.mark.parametrize(
    ("state", "step"),
    [
        pytest.param(
            State.NEW, lambda s, n: s.refuse_return(WORKER_G1, n, "x"), id="new-refuse-return"
        ),
        pytest.param(State.NEW, lambda s, n: s.approve_return(WORKER_G1, n), id="new-approve"),
        pytest.param(State.ACCEPTED, lambda s, n: s.accept(WORKER_G1, n), id="accepted-accept"),
        pytest.param(
            State.ASSIGNED, lambda s, n: s.reject(WORKER_G1, n, "x"), id="assigned-reject"
        ),
        pytest.param(
            State.ASSIGNED, lambda s, n: s.transfer(WORKER_G1, n, "g2"), id="assigned-transfer"
        ),
        pytest.param(
            State.RESOLVED,
            lambda s, n: s.handler_progress(PROPERTY_USER, n, "x"),
            id="resolved-progress",
        ),
        pytest.param(
            State.RESOLVED, lambda s, n: s.assign(WORKER_G1, n, "city"), id="resolved-assign"
        ),
    ],
)
async def test_illegal_transitions_are_refused(
    world: IssueWorld, state: State, step: Step
) -> None:
    number = await reach(world, state)
    before = len(await world.service.timeline(number, WORKER_G1))
    with pytest.raises(IllegalTransition):
        await step(world.service, number)
    assert (await world.service.get(number, WORKER_G1)).state is state
    assert len(await world.service.timeline(number, WORKER_G1)) == before


async def test_illegal_transition_carries_chinese_refs(world: IssueWorld) -> None:
    issue = await new_issue(world)
    await world.service.accept(WORKER_G1, issue.number)
    with pytest.raises(IllegalTransition) as refused:
        await world.service.accept(WORKER_G1, issue.number)
    assert refused.value.refs == {
        "state": "issues.states.accepted",
        "action": "issues.actions.accept",
    }
    await world.service.assign(WORKER_G1, issue.number, "property")
    with pytest.raises(IllegalTransition):
        await world.service.approve_return(WORKER_G1, issue.number)
    with pytest.raises(IllegalTransition):
        await world.service.reject(WORKER_G1, issue.number, "不归社区")


async def test_stale_buttons_on_finished_issues_are_refused(world: IssueWorld) -> None:
    issue = await new_issue(world)
    await world.service.reject(WORKER_G1, issue.number, "重复提交")
    with pytest.raises(IssueFinished):
        await world.service.accept(WORKER_G1, issue.number)
    with pytest.raises(IssueFinished) as refused:
        await world.service.assign(SECRETARY, issue.number, "property")
    assert refused.value.refs["state"] == "issues.states.rejected"


async def test_merged_issue_button_names_the_target(world: IssueWorld) -> None:
    first = await new_issue(world)
    second = await new_issue(world)
    await world.service.merge(WORKER_G1, second.number, into=first.number)
    with pytest.raises(IssueFinished) as refused:
        await world.service.assign(WORKER_G1, second.number, "property")
    assert refused.value.key == "issues.errors.merged"
    assert refused.value.values["target"] == first.number


async def test_forged_callback_for_another_grids_issue(world: IssueWorld) -> None:
    issue = await new_issue(world)
    other = await new_issue(world)
    for forged in (
        world.service.accept(WORKER_G2, issue.number),
        world.service.assign(WORKER_G2, issue.number, "property"),
        world.service.reject(WORKER_G2, issue.number, "无效"),
        world.service.merge(WORKER_G2, other.number, into=issue.number),
        world.service.handler_contacted(WORKER_G2, issue.number),
    ):
        with pytest.raises(NotPermitted):
            await forged
    assert (await world.service.get(issue.number, WORKER_G1)).state is State.NEW
    with pytest.raises(NotFound):
        await world.service.accept(WORKER_G1, 999)


async def test_views_are_limited(world: IssueWorld) -> None:
    issue = await new_issue(world)
    with pytest.raises(NotPermitted) as refused:
        await world.service.get(issue.number, STRANGER)
    assert refused.value.key == "issues.errors.not_visible"
    with pytest.raises(NotPermitted):
        await world.service.worker_queue(RESIDENT)
    with pytest.raises(NotPermitted):
        await world.service.worker_queue(WORKER_G2, grid_key="g1")
    assert [i.number for i in await world.service.worker_queue(SECRETARY)] == [issue.number]
