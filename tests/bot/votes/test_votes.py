"""Vote services on a real database (issue #6): the electorate, ballot changes, reminders once,
the deadline, and the residents' meeting flow."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_features
from bot.config import config_from_dict
from bot.core.errors import NotPermitted, UserError
from bot.core.rendering import TEMPLATES, Renderer
from bot.votes.polls import PollService
from bot.votes.presenter import scope_text
from bot.votes.scope import VoteScope, scope_of
from bot.votes.service import VoteService, electorate
from storage.db import Database
from storage.votes.repo import ScopeHousehold
from tests.support import factories as f
from tests.support.registry import HEADER, as_csv
from tests.support.votes import OWNER, ROOMS, unit_sheet


@asynccontextmanager
async def vote_world(
    tmp_path: Path, *, verify: bool = True, **votes: object
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
        for room, user in OWNER.items() if verify else ():
            household = await registry.find_room(f"3-2-{room}")
            await registry.consent(user, "业主")
            await registry.claim(user, household.id, "owner")
            await registry.decide(f.WORKER_G1, user, household.id, True)
        yield found, clock
    finally:
        await db.close()


def test_electorate_joins_units_with_the_same_owner_key_without_telegram() -> None:
    homes = [
        ScopeHousehold(i, "3", "2", f"{i}01", 100 * i, key)
        for i, key in ((1, "A"), (2, ""), (3, "A"), (4, "B"))
    ]
    rows = electorate(homes, [(7, 2), (7, 4)])  # 7 owns 2 and 4 (B) in Telegram
    assert [(r.rooms, r.area_centi, r.user_ids) for r in rows] == [
        ("3-2-101、3-2-301", 400, ()),
        ("3-2-201、3-2-401", 600, (7,)),
    ]


async def test_owner_key_on_the_sheet_counts_one_owner_of_two_units_once(
    tmp_path: Path,
) -> None:
    """Issue #13 item 15: 民法典 art. 278 counts owners. Rooms 101 and 102 share 业主编号 Y-001 and
    nobody has verified them through Telegram: one head of 11, with 80 + 120 m² of area."""
    header = [*HEADER, "业主编号"]
    rows: list[list[object]] = [
        [
            "3号楼",
            2,
            room,
            80 if room.endswith("1") else 120,
            f"业主{room}",
            "",
            "g1",
            "Y-001" if room in ("101", "102") else f"Y-{room}",
        ]
        for room in ROOMS
    ]
    async with vote_world(tmp_path, verify=False) as (found, _):
        summary = await found.registry.import_sheet(as_csv(rows, header), "住户.csv", None)
        assert summary.updated == 12  # the owner identifiers are new on every row
        votes: VoteService = found.votes
        ov = await votes.create_owners(
            f.WORKER_G1, f.G1_CHAT, "g1", ["unit:3-2", "ordinary", "门禁"]
        )
        assert ov.result.electors == 11
        joined = next(e for e in ov.electors if "3-2-101" in e.rooms)
        assert joined.rooms == "3-2-101、3-2-102" and joined.area_centi == 20000
        assert sum(e.area_centi for e in ov.electors) == 120000  # area still sums every unit


def test_electorate_joins_units_of_one_owner_and_keeps_unclaimed_ones() -> None:
    homes = [ScopeHousehold(i, "3", "2", f"{i}01", 100 * i) for i in (1, 2, 3, 4)]
    rows = electorate(homes, [(7, 1), (7, 2), (8, 3), (9, 99)])
    assert [(r.area_centi, r.user_ids) for r in rows] == [(300, (7,)), (300, (8,)), (400, ())]


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        pytest.param("unit:3-2", VoteScope("unit", "3", "2"), id="unit"),
        pytest.param("building:3", VoteScope("building", "3"), id="building"),
        pytest.param("楼栋：3", VoteScope("building", "3"), id="building-zh"),
        pytest.param("grid:第一网格", VoteScope("grid", grid="g1"), id="grid-by-name"),
        pytest.param("网格:g2", VoteScope("grid", grid="g2"), id="grid-by-key"),
        pytest.param("community", VoteScope("community"), id="community"),
    ],
)
def test_scope_of(text: str, scope: VoteScope) -> None:
    assert scope_of(text, config_from_dict(f.community_data(), f.ENV)) == scope


@pytest.mark.parametrize(
    ("stored", "zh", "en"),
    [
        pytest.param("community", "全小区", "the whole community", id="community"),
        pytest.param("building:5", "5号楼", "Building 5", id="building"),
        pytest.param("unit:5-1", "5号楼1单元", "Building 5, unit 1", id="unit"),
        pytest.param("grid:g1", "第一网格", "第一网格", id="grid"),
    ],
)
def test_scope_text_says_the_scope_in_words(stored: str, zh: str, en: str) -> None:
    """Issue #13 item 14: the announcement said "unit:5-1" instead of 「5号楼1单元」."""
    config = config_from_dict(f.community_data(), f.ENV)
    assert scope_text(Renderer("zh_CN"), stored, config) == zh
    assert scope_text(Renderer("en"), stored, config) == en


async def test_a_grid_scope_asks_the_owners_of_that_grid(tmp_path: Path) -> None:
    async with vote_world(tmp_path) as (found, _):
        votes: VoteService = found.votes
        ov = await votes.create_owners(
            f.WORKER_G1, f.G1_CHAT, "g1", ["grid:第一网格", "ordinary", "门禁"]
        )
        assert ov.vote.scope == "grid:g1" and ov.result.electors == 12
        with pytest.raises(UserError, match="empty_scope"):  # unit 3-2 is all in g1
            await votes.create_owners(f.WORKER_G1, f.G1_CHAT, "g1", ["网格:g2", "ordinary", "x"])


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
        ov = await votes.create_owners(
            f.WORKER_G1, f.G1_CHAT, "g1", ["unit:3-2", "ordinary", "3d", "门禁"]
        )
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


BLOCK_AT_END = re.compile(r"\S.*?(?<!\+)%}$")


def test_templates_keep_the_line_break_after_an_inline_block() -> None:
    """Issue #13 item 14: with trim_blocks, a line of text that ends in ``{% endif %}`` loses its
    line break and runs into the next line (or a blank line after it is lost); such a line must
    end in ``+%}``. Every feature's templates, not only the votes' where it was found."""
    joined = []
    for path in sorted(TEMPLATES.glob("*/*/*.html.j2")):
        lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
        for number, line in enumerate(lines[:-1], start=1):
            if BLOCK_AT_END.search(line) and not re.fullmatch(r"\s*{%[^%]*%}", line):
                joined.append(f"{path.relative_to(TEMPLATES)}:{number}")
    assert joined == []
