"""Migration 0020 (issue #15): buildings belong to a community. A one-community database keeps
its buildings, units and households under the same ids, as community 'default'; afterwards two
communities may each have a 5号楼."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest

from storage.db import Database
from storage.registry.repo import HouseholdData, RegistryRepo
from tests.support import postgres as pg_support
from tests.support.factories import FakeClock


def _migrations_up_to(folder: Path, last: int) -> Path:
    source = resources.files("storage") / "migrations"
    folder.mkdir()
    for item in source.iterdir():
        if item.name.endswith(".sql") and int(item.name[:4]) <= last:
            with resources.as_file(item) as path:
                shutil.copy(path, folder / item.name)
    return folder


def _household(building: str, grid: str, community: str, owner: str) -> HouseholdData:
    return HouseholdData(
        building=building,
        unit="1",
        room="301",
        area_centi=8950,
        owner_names=owner,
        phone="",
        grid=grid,
        community=community,
    )


async def test_an_old_registry_keeps_its_ids_as_the_default_community(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = await Database.open(path, migrations=_migrations_up_to(tmp_path / "m", 19))
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO buildings (id, name) VALUES (7, '5')")
        await tx.execute("INSERT INTO units (id, building_id, name) VALUES (3, 7, '1')")
        await tx.execute(
            "INSERT INTO households (id, unit_id, room, area_centi, grid, created_at, updated_at)"
            " VALUES (11, 3, '301', 8950, 'g1', 'x', 'x')"
        )
    await db.close()

    db = await Database.open(path)
    try:
        rows = await db.fetchall("SELECT id, community, name FROM buildings")
        # PostgreSQL checks every foreign key as it is written (0020 alters the table in
        # place there); SQLite is asked, as its rebuild could leave units pointing nowhere.
        problems = [] if pg_support.ACTIVE else await db.fetchall("PRAGMA foreign_key_check")
        household = await RegistryRepo(db).household(11)
    finally:
        await db.close()

    assert [tuple(r) for r in rows] == [(7, "default", "5")]
    assert problems == []
    assert household is not None and (household.building, household.community) == (
        "5",
        "default",
    )


async def test_two_communities_each_have_their_own_building_5(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "g.sqlite3")
    repo = RegistryRepo(db)
    try:
        a = _household("5", "g1", "yhw", "王建国")
        b = _household("5", "h1", "jsh", "郑秀英")
        await repo.save_households([a, b], [], FakeClock().now())
        found = await repo.households()
        in_a = await repo.find_households("5", "1", "301", community="yhw")
    finally:
        await db.close()

    assert sorted((h.community, h.grid, h.owner_names) for h in found) == [
        ("jsh", "h1", "郑秀英"),
        ("yhw", "g1", "王建国"),
    ]
    assert [h.owner_names for h in in_a] == ["王建国"]


@pytest.mark.parametrize("community", ["yhw", "jsh"])
async def test_buildings_are_listed_with_their_community(tmp_path: Path, community: str) -> None:
    db = await Database.open(tmp_path / "g.sqlite3")
    repo = RegistryRepo(db)
    try:
        await repo.save_households([_household("5", "g1", community, "王")], [], FakeClock().now())
        buildings = await repo.buildings()
    finally:
        await db.close()

    assert [(name, owner) for _, name, owner in buildings] == [("5", community)]
