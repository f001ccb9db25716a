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
from bot.issues.model import Action, AlreadyDone, State
from bot.issues.reporting import ReportService
from bot.issues.service import IssueService
from bot.issues.triage import TriageService
from tests.support.factories import G1_CHAT, RESIDENT, WORKER_G1, WORKER_G2, issue_world

Reported = tuple[IssueService, int]


@pytest.fixture
async def reported(tmp_path: Path) -> AsyncIterator[Reported]:
    """The service on a fresh database, and the number of one issue just reported in g1."""
    async with issue_world(tmp_path) as world:
        text = "#报事 3号楼路灯坏了"
        outcome = await world.service.report(
            chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text=text
        )
        yield world.service, outcome.issue.number


def test_no_part_inherits_from_another() -> None:
    for part in (IssueService, IssueCore, ReportService, TriageService, HandlingService):
        assert part.__mro__ == (part, object), part
    assert FeedbackService.__mro__ == (FeedbackService, object)


def test_every_part_shares_the_one_core(reported: Reported) -> None:
    service, _ = reported
    parts = (service.reports, service.triage, service.handling, service.feedback)
    assert all(part.core is service.core for part in parts)
    assert service.handling.feedback is service.feedback


async def test_step_returns_the_issue_before_and_after_with_its_event(reported: Reported) -> None:
    service, number = reported
    before, after = await service.core.step(WORKER_G1, number, Action.ACCEPT, note="先看看")
    assert (before.state, after.state) == (State.NEW, State.ACCEPTED)
    last = (await service.timeline(number, WORKER_G1))[-1]
    assert (last.action, last.actor_id, last.actor_role, last.note) == (
        Action.ACCEPT.value,
        WORKER_G1,
        Role.WORKER.value,
        "先看看",
    )


async def test_step_refuses_before_it_changes_anything(reported: Reported) -> None:
    service, number = reported
    with pytest.raises(NotPermitted):
        await service.core.step(WORKER_G2, number, Action.ACCEPT)
    assert (await service.load(number)).state is State.NEW
    assert len(await service.timeline(number, WORKER_G1)) == 1


async def test_a_refusal_inside_an_acting_block_rolls_the_whole_action_back(
    reported: Reported,
) -> None:
    """What the block wrote before it refused is undone with it: one transaction."""
    service, number = reported
    core = service.core
    with pytest.raises(AlreadyDone):
        async with core.acting(WORKER_G1, number, Action.ACCEPT) as step:
            await core.note_event(step.issue, Action.ACCEPT, actor_id=WORKER_G1, role="x")
            raise AlreadyDone()
    assert len(await service.timeline(number, WORKER_G1)) == 1
    assert (await service.load(number)).state is State.NEW
