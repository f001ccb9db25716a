"""Households belong to a community (issue #15 item 1): two communities each have a 5号楼
1单元301 and a 第一网格; each secretary imports their own sheet, neither overwrites the other,
and an owners' vote counts its own community's households only."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.errors import InvalidInput, NotPermitted, UserError
from bot.core.permissions import Role, roles_of
from tests.support import factories as f
from tests.support.harness import two_communities
from tests.support.registry import as_csv


def _sheet(owner: str) -> bytes:
    """5号楼 1单元 301 and 302 in 第一网格 (a name both communities use)."""
    return as_csv([["5号楼", 1, room, 89.5, owner, "", "第一网格"] for room in ("301", "302")])


async def test_each_secretary_imports_their_own_communitys_households(tmp_path: Path) -> None:
    async with two_communities(tmp_path) as found:
        registry = found.registry
        first = await registry.import_sheet(_sheet("王建国"), "a.csv", f.SECRETARY)
        second = await registry.import_sheet(_sheet("郑秀英"), "b.csv", f.SECRETARY_B)
        again = await registry.import_sheet(_sheet("王建国"), "a.csv", f.SECRETARY)
        households = await registry.repo.households()
        buildings = [choice.label for choice in await registry.buildings()]

    assert (first.added, second.added, again.added, again.updated) == (2, 2, 0, 0)
    assert sorted((h.community, h.grid, h.room, h.owner_names) for h in households) == [
        ("jsh", "h1", "301", "郑秀英"),
        ("jsh", "h1", "302", "郑秀英"),
        ("yhw", "g1", "301", "王建国"),
        ("yhw", "g1", "302", "王建国"),
    ]
    assert sorted(buildings) == ["金沙湖社区·5", "阅海湾社区·5"]


async def test_a_secretary_cannot_import_into_the_other_community(tmp_path: Path) -> None:
    sheet = as_csv([["8号楼", 1, "101", 60, "郑秀英", "", "h1"]])
    async with two_communities(tmp_path) as found:
        with pytest.raises(UserError):
            await found.registry.import_sheet(sheet, "b.csv", f.SECRETARY)
        households = await found.registry.repo.households()

    assert households == []


async def test_a_typed_room_in_two_communities_asks_for_the_buttons(tmp_path: Path) -> None:
    async with two_communities(tmp_path) as found:
        await found.registry.import_sheet(_sheet("王建国"), "a.csv", f.SECRETARY)
        only = await found.registry.find_room("5-1-301")
        await found.registry.import_sheet(_sheet("郑秀英"), "b.csv", f.SECRETARY_B)
        with pytest.raises(InvalidInput) as refused:
            await found.registry.find_room("5-1-301")

    assert only.owner_names == "王建国"
    assert refused.value.key == "registry.errors.room_in_several"


async def test_an_owners_vote_counts_its_own_communitys_households(tmp_path: Path) -> None:
    async with two_communities(tmp_path) as found:
        await found.registry.import_sheet(_sheet("王建国"), "a.csv", f.SECRETARY)
        await found.registry.import_sheet(_sheet("郑秀英"), "b.csv", f.SECRETARY_B)
        vote = await found.votes.create_owners(
            f.WORKER_G1, f.G1_CHAT, "g1", ["unit:5-1", "ordinary", "更换门禁"]
        )
        with pytest.raises(InvalidInput):  # a grid of the other community is no scope here
            await found.votes.create_owners(
                f.WORKER_G1, f.G1_CHAT, "g1", ["grid:h1", "ordinary", "更换门禁"]
            )

    assert len(vote.electors) == 2
    assert sum(e.area_centi for e in vote.electors) == 2 * 8950


async def test_a_secretary_grants_roles_in_their_own_community_only(tmp_path: Path) -> None:
    async with two_communities(tmp_path) as found:
        registry, ledger = found.registry, found.ledger
        with pytest.raises(NotPermitted):
            await registry.grant(f.SECRETARY, f.STRANGER, "网格员", "h1")
        await registry.grant(f.SECRETARY, f.STRANGER, "书记", None)  # a deputy for 阅海湾
        await registry.grant(f.SECRETARY_B, f.NEIGHBOUR, "网格员", "h1")
        grants = await registry.repo.all_grants()
        registry.roles.replace([])  # as after a restart: the book comes from the table
        await registry.load_roles()
        deputy = registry.roles.of(f.STRANGER)
        worker = registry.roles.of(f.NEIGHBOUR)
        config = registry.config
        day = f.FakeClock().now().date()
        book = await ledger.book(day, day, actor=f.STRANGER)

    assert sorted((g.user_id, g.role, g.grid, g.community) for g in grants) == [
        (f.NEIGHBOUR, "worker", "h1", "jsh"),
        (f.STRANGER, "secretary", "", "yhw"),
    ]
    assert Role.SECRETARY in roles_of(f.STRANGER, config, "g2", grants=deputy)
    assert Role.SECRETARY not in roles_of(f.STRANGER, config, "h1", grants=deputy)
    assert Role.WORKER in roles_of(f.NEIGHBOUR, config, "h1", grants=worker)
    assert Role.WORKER not in roles_of(f.NEIGHBOUR, config, "g1", grants=worker)
    assert [line.name for line in book.on_time if line.scope == "community"] == ["阅海湾社区"]


async def test_a_community_wide_group_is_bound_by_grid_with_several(tmp_path: Path) -> None:
    async with two_communities(tmp_path) as found:
        with pytest.raises(InvalidInput):  # which community's? a grid says it
            await found.registry.bind(f.SECRETARY, -1099, "")
        with pytest.raises(NotPermitted):
            await found.registry.bind(f.SECRETARY, -1099, "h1")
        assert await found.registry.bind(f.SECRETARY_B, -1099, "h1") == "h1"
