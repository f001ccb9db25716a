"""Vote services on a real database (issue #6): the electorate, ballot changes, reminders once,
the deadline, and the residents' meeting flow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_features
from bot.config import config_from_dict
from bot.core.errors import NotPermitted, UserError
from bot.core.rendering import Renderer
from bot.votes.polls import PollService
from bot.votes.service import VoteService, electorate, scope_of
from storage.db import Database
from storage.votes.repo import ScopeHousehold
from tests.support import factories as f
from tests.support.votes import OWNER, unit_sheet


@asynccontextmanager
async def vote_world(
    tmp_path: Path, **votes: object
) -> AsyncIterator[tuple[dict[str, Any], f.FakeClock]]:
    data = f.community_data()
    data["votes"] = dict(votes)
    config = config_from_dict(data, f.ENV)
    db = await Database.open(tmp_path / "g.sqlite3")
    clock = f.FakeClock()
    try:
        found = await build_features(db, clock, config, Renderer())
        registry = found.registry
        await registry.import_sheet(unit_sheet(), "住户.csv", None)
        for room, user in OWNER.items():
            household = await registry.find_room(f"3-2-{room}")
            await registry.consent(user, "业主")
            await registry.claim(user, household.id, "owner")
            await registry.decide(f.WORKER_G1, user, household.id, True)
        yield found, clock
    finally:
        await db.close()


def test_electorate_joins_units_of_one_owner_and_keeps_unclaimed_ones() -> None:
    homes = [ScopeHousehold(i, "3", "2", f"{i}01", 100 * i) for i in (1, 2, 3, 4)]
    rows = electorate(homes, [(7, 1), (7, 2), (8, 3), (9, 99)])
    assert [(r.area_centi, r.user_ids) for r in rows] == [(300, (7,)), (300, (8,)), (400, ())]


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        pytest.param("unit:3-2", ("3", "2"), id="unit"),
        pytest.param("building:3", ("3", None), id="building"),
        pytest.param("community", (None, None), id="community"),
    ],
)
def test_scope_of(text: str, scope: tuple[str | None, str | None]) -> None:
    assert scope_of(text) == scope


async def test_ballot_change_forbidden_by_setting(tmp_path: Path) -> None:
    async with vote_world(tmp_path, ballot_change="forbidden") as (found, _):
        votes: VoteService = found.votes
        ov = await votes.create_owners(
            f.WORKER_G1, f.G1_CHAT, "g1", ["unit:3-2", "special", "电梯"]
        )
        await votes.cast(OWNER["101"], ov.vote.id, "yes")
        with pytest.raises(UserError):
            await votes.cast(OWNER["101"], ov.vote.id, "no")


async def test_only_convenors_create_and_reminders_go_once_before_the_deadline(
    tmp_path: Path,
) -> None:
    async with vote_world(tmp_path) as (found, clock):
        votes: VoteService = found.votes
        with pytest.raises(NotPermitted):
            await votes.create_owners(OWNER["101"], f.G1_CHAT, "g1", ["unit:3-2", "special", "x"])
        ov = await votes.create_owners(f.WORKER_G1, f.G1_CHAT, "g1",
                                       ["unit:3-2", "ordinary", "3d", "门禁"])  # fmt: skip
        await votes.cast(OWNER["101"], ov.vote.id, "yes")
        assert await votes.due_reminders(clock.now()) == []
        clock.advance(days=2, hours=1)
        [(_, reminded)] = await votes.due_reminders(clock.now())
        assert sorted(reminded) == sorted(u for r, u in OWNER.items() if r != "101")
        assert await votes.due_reminders(clock.now()) == []
        clock.advance(days=1)
        with pytest.raises(UserError):
            await votes.cast(OWNER["102"], ov.vote.id, "yes")
        assert [v.id for v in await votes.repo.due(clock.now())] == [ov.vote.id]
        closed = await votes.close(ov.vote.id)
        assert closed is not None and not closed.result.passed
        assert await votes.close(ov.vote.id) is None


async def test_residents_meeting_present_then_yes(tmp_path: Path) -> None:
    async with vote_world(tmp_path) as (found, _):
        polls: PollService = found.polls
        meeting = await polls.create_meeting(f.WORKER_G1, f.G1_CHAT, "g1", ["120", "居民公约"])
        with pytest.raises(UserError):
            await polls.record(f.WORKER_G1, meeting.vote.id, "yes", 10)  # present first
        await polls.record(f.WORKER_G1, meeting.vote.id, "present", 61)
        done = await polls.record(f.WORKER_G1, meeting.vote.id, "yes", 31)
        assert done.result is not None and done.result.passed
        assert done.vote.state == "closed"
