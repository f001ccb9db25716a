"""Registry repository on a real database with every migration (issue #4)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.db import Database
from storage.registry.repo import HouseholdData, RegistryRepo

NOW = datetime(2025, 3, 5, 2, 0, tzinfo=UTC)
ROOM = HouseholdData("3", "2", "301", 8950, "李四", "13900000000", "g1")


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[RegistryRepo]:
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    try:
        yield RegistryRepo(db)
    finally:
        await db.close()


async def test_households_are_saved_with_exact_area_and_updated_by_id(repo: RegistryRepo) -> None:
    await repo.save_households([ROOM, HouseholdData("3", "2", "302", 1, "", "", "g1")], [], NOW)
    [found] = await repo.find_households("3", "2", "301")
    assert found.area_centi == 8950 and found.owner_names == "李四"
    changed = HouseholdData("3", "2", "301", 9000, "李四、王五", "", "g2")
    await repo.save_households([], [(found.id, changed)], NOW)
    again = await repo.household(found.id)
    assert again is not None and (again.area_centi, again.grid) == (9000, "g2")
    assert len(await repo.buildings()) == 1 and len(await repo.households()) == 2


async def test_link_is_pending_until_decided_once(repo: RegistryRepo) -> None:
    await repo.save_households([ROOM], [], NOW)
    [household] = await repo.find_households("3", "2", "301")
    await repo.add_person(501, "王阿姨", NOW)
    await repo.request_link(501, household.id, "owner", NOW)
    assert await repo.decide_link(501, household.id, "verified", 101, NOW)
    assert not await repo.decide_link(501, household.id, "rejected", 101, NOW)
    await repo.request_link(501, household.id, "tenant", NOW)  # verified stays verified
    link = await repo.link(501, household.id)
    assert link is not None and (link.state, link.relation, link.verified_by) == (
        "verified",
        "owner",
        101,
    )


async def test_grants_are_idempotent_and_every_change_is_audited(repo: RegistryRepo) -> None:
    assert await repo.grant(601, "worker", "g1", 201, NOW)
    assert not await repo.grant(601, "worker", "g1", 201, NOW)
    assert await repo.revoke(601, "worker", "g1", 201, NOW)
    assert not await repo.revoke(601, "worker", "g1", 201, NOW)
    assert [e[0] for e in await repo.role_events(601)] == ["grant", "revoke"]
    assert await repo.grants_of(601) == []


async def test_binding_is_replaced_by_a_later_bind(repo: RegistryRepo) -> None:
    await repo.bind(-100, "g1", 201, NOW)
    await repo.bind(-100, "", 201, NOW)
    assert await repo.binding(-100) == ""
    assert await repo.binding(-200) is None
