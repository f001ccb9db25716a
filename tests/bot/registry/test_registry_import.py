"""Importing the household sheet: xlsx and csv, every problem at once, all-or-nothing,
re-import is a no-op (issue #4)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.errors import NotPermitted
from bot.core.rendering import Renderer
from bot.registry.importing import ImportRefused
from tests.support.factories import RESIDENT, SECRETARY
from tests.support.registry import (
    RegistryWorld,
    as_csv,
    as_xlsx,
    registry_world,
    sample_rows,
)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[RegistryWorld]:
    async with registry_world(tmp_path) as world:
        yield world


@pytest.mark.parametrize(
    ("data", "name"),
    [
        pytest.param(as_xlsx(sample_rows()), "住户.xlsx", id="xlsx"),
        pytest.param(as_csv(sample_rows()), "住户.csv", id="csv"),
    ],
)
async def test_import_sample_registry_then_reimport_changes_nothing(
    world: RegistryWorld, data: bytes, name: str
) -> None:
    first = await world.registry.import_sheet(data, name, SECRETARY)
    assert (first.added, first.updated, first.unchanged) == (72, 0, 0)
    households = await world.registry.repo.households()
    room = next(h for h in households if (h.building, h.unit, h.room) == ("2", "3", "602"))
    assert room.area_centi == 12025 and room.grid == "g2" and room.owner_names == "业主2362"
    again = await world.registry.import_sheet(data, name, SECRETARY)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 72)
    assert await world.registry.repo.households() == households


async def test_changed_row_is_an_update(world: RegistryWorld) -> None:
    rows = sample_rows()
    await world.registry.import_sheet(as_csv(rows), "a.csv", None)
    rows[0][3] = 90
    summary = await world.registry.import_sheet(as_csv(rows), "a.csv", None)
    assert (summary.added, summary.updated, summary.unchanged) == (0, 1, 71)


async def test_three_bad_rows_are_all_reported_and_nothing_is_imported(
    world: RegistryWorld,
) -> None:
    rows = sample_rows()
    rows[2][3] = "八十九"  # row 4: non-numeric area
    rows[5][6] = "g9"  # row 7: unknown grid
    rows[9][:3] = rows[0][:3]  # row 11: duplicate of row 2
    with pytest.raises(ImportRefused) as refused:
        await world.registry.import_sheet(as_xlsx(rows), "bad.xlsx", SECRETARY)
    problems = [(p.row, p.key) for p in refused.value.problems]
    assert problems == [(4, "bad_area"), (7, "unknown_grid"), (11, "duplicate")]
    assert await world.registry.repo.households() == []
    t = Renderer()
    lines = [
        t.text(
            "registry.import.problem_line",
            row=p.row,
            message=t.text(f"registry.problem.{p.key}", **p.values),
        )
        for p in refused.value.problems
    ]
    assert (
        lines[0] == "第 4 行：建筑面积“八十九”不是有效的数字（应为大于 0、最多两位小数的平方米数）"
    )
    assert lines[1].startswith("第 7 行：网格“g9”不存在")
    assert lines[2] == "第 11 行：1-1-101 与第 2 行重复"


async def test_missing_building_and_header_variants(world: RegistryWorld) -> None:
    header = ["楼号", "单元", "房号", "面积(㎡)", "业主", "电话", "网格"]
    rows = sample_rows()[:3]
    rows[1][0] = ""
    with pytest.raises(ImportRefused) as refused:
        await world.registry.import_sheet(as_csv(rows, header), "v.csv", None)
    assert [(p.row, p.key) for p in refused.value.problems] == [(3, "missing_building")]


async def test_missing_column_is_reported(world: RegistryWorld) -> None:
    header = ["楼栋", "单元", "房号", "业主姓名", "网格"]
    with pytest.raises(ImportRefused) as refused:
        await world.registry.import_sheet(as_csv([], header), "v.csv", None)
    assert [(p.key, dict(p.values)) for p in refused.value.problems] == [
        ("missing_column", {"column": "建筑面积"})
    ]


async def test_a_resident_cannot_import(world: RegistryWorld) -> None:
    with pytest.raises(NotPermitted):
        await world.registry.import_sheet(as_csv(sample_rows()), "a.csv", RESIDENT)
