"""The issue service is composed, not inherited (issue #12): one core, parts that have it,
and one helper for an action's body (act, then transition, in one transaction)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.errors import NotPermitted
from bot.core.permissions import Role
from bot.issues.core import IssueCore
from bot.issues.feedback import FeedbackService
from bot.issues.handling import HandlingService
from bot.issues.model import Action, AlreadyDone, IssueView, State
from bot.issues.reporting import ReportService
from bot.issues.service import IssueService
from bot.issues.triage import TriageService
from tests.support.factories import (
    G1_CHAT,
    RESIDENT,
    WORKER_G1,
    WORKER_G2,
    IssueWorld,
    issue_world,
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


def test_no_part_inherits_from_another() -> None:
    for part in (IssueService, IssueCore, ReportService, TriageService, HandlingService):
        assert part.__mro__ == (part, object), part
    assert FeedbackService.__mro__ == (FeedbackService, object)


def test_every_part_shares_the_one_core(world: IssueWorld) -> None:
    service = world.service
    parts = (service.reports, service.triage, service.handling, service.feedback)
    assert all(part.core is service.core for part in parts)
    assert service.handling.feedback is service.feedback
    assert service.core.repo is world.repo and service.core.clock is world.clock


async def test_step_returns_the_issue_before_and_after_with_its_event(world: IssueWorld) -> None:
    issue = await new_issue(world)
    before, after = await world.service.core.step(
        WORKER_G1, issue.number, Action.ACCEPT, note="先看看"
    )
    assert (before.state, after.state) == (State.NEW, State.ACCEPTED)
    last = (await world.service.timeline(issue.number, WORKER_G1))[-1]
    assert (last.action, last.actor_id, last.actor_role, last.note) == (
        Action.ACCEPT.value,
        WORKER_G1,
        Role.WORKER.value,
        "先看看",
    )


async def test_step_refuses_before_it_changes_anything(world: IssueWorld) -> None:
    issue = await new_issue(world)
    with pytest.raises(NotPermitted):
        await world.service.core.step(WORKER_G2, issue.number, Action.ACCEPT)
    assert (await world.service.load(issue.number)).state is State.NEW
    assert len(await world.service.timeline(issue.number, WORKER_G1)) == 1


async def test_a_refusal_inside_an_acting_block_rolls_the_whole_action_back(
    world: IssueWorld,
) -> None:
    """What the block wrote before it refused is undone with it: one transaction."""
    issue = await new_issue(world)
    core = world.service.core
    with pytest.raises(AlreadyDone):
        async with core.acting(WORKER_G1, issue.number, Action.ACCEPT) as step:
            await core.note_event(step.issue, Action.ACCEPT, actor_id=WORKER_G1, role="x")
            raise AlreadyDone()
    assert len(await world.service.timeline(issue.number, WORKER_G1)) == 1
    assert (await world.service.load(issue.number)).state is State.NEW
