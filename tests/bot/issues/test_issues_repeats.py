"""Pressing an action that has already happened changes nothing (issue #13 item 8).

A double tap, a retried client or an old 交办单 still showing 已联系居民 must not record a
second event, overwrite the first time or tell the workers and residents again: the service
refuses with ``AlreadyDone``, which the handler shows as a toast (已记录过).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.issues.model import Action, AlreadyDone, State
from bot.issues.rates import Satisfaction, Solved
from tests.support.factories import (
    G1_CHAT,
    PROPERTY_USER,
    RESIDENT,
    WORKER_G1,
    IssueWorld,
    issue_world,
)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[IssueWorld]:
    async with issue_world(tmp_path) as world:
        await world.service.report(
            chat_id=G1_CHAT,
            user_id=RESIDENT,
            display_name="李四",
            text="#报事 3号楼2单元门口路灯坏了",
            message_id=77,
        )
        await world.service.assign(WORKER_G1, 1, "property")
        yield world


async def actions(world: IssueWorld) -> list[Action]:
    return [e.action for e in await world.service.timeline(1, WORKER_G1)]


async def test_contacted_twice_records_once_and_keeps_the_first_time(world: IssueWorld) -> None:
    await world.service.handler_contacted(PROPERTY_USER, 1)
    first = await world.repo.by_number(1)
    world.clock.advance(hours=1)
    with pytest.raises(AlreadyDone):
        await world.service.handler_contacted(PROPERTY_USER, 1)
    again = await world.repo.by_number(1)
    assert first is not None and again is not None
    assert again.contacted_at == first.contacted_at
    assert (await actions(world)).count(Action.CONTACTED) == 1


async def test_contacted_counts_again_after_a_reopen(world: IssueWorld) -> None:
    service = world.service
    await service.handler_contacted(PROPERTY_USER, 1)
    resolved = await service.handler_resolve(PROPERTY_USER, 1, "已更换灯泡")
    [slip] = [n.slip_id for n in resolved.notices if n.slip_id is not None]
    await service.answer_slip(
        slip,
        RESIDENT,
        contacted=True,
        solved=Solved.NOT_SOLVED,
        satisfaction=Satisfaction.UNSATISFIED,
        comment="晚上还是不亮",
    )
    contacted = await service.handler_contacted(PROPERTY_USER, 1)
    assert contacted.issue.state is State.IN_PROGRESS
    assert (await actions(world)).count(Action.CONTACTED) == 2


async def test_the_same_progress_note_twice_is_told_once(world: IssueWorld) -> None:
    service = world.service
    await service.handler_progress(PROPERTY_USER, 1, "已订购灯泡")
    with pytest.raises(AlreadyDone):
        await service.handler_progress(PROPERTY_USER, 1, " 已订购灯泡 ")
    later = await service.handler_progress(PROPERTY_USER, 1, "灯泡已到货")
    assert later.notices  # a new note is news
    assert (await actions(world)).count(Action.PROGRESS) == 2


async def test_the_same_deadline_or_category_again_changes_nothing(world: IssueWorld) -> None:
    service = world.service
    await service.change_deadline(WORKER_G1, 1, "3月20日")
    with pytest.raises(AlreadyDone):
        await service.change_deadline(WORKER_G1, 1, "3月20日")
    current = (await service.get(1, WORKER_G1)).category
    with pytest.raises(AlreadyDone):
        await service.recategorise(WORKER_G1, 1, current)
    found = await actions(world)
    assert found.count(Action.SET_DEADLINE) == 1 and Action.RECATEGORISE not in found
