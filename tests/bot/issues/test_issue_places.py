"""Places in the private guided report (issue #18 item 3): the boundary rule as the draft
applies it, the config that declares the boundaries, and what intake stores."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from bot.config import Config, ConfigError, config_from_dict
from bot.core.geo import Place
from bot.issues import draft as d
from bot.issues.model import IssueType
from tests.support import factories as f
from tests.support import places as p
from tests.support.registry import registry_world


def config_with(tmp_path: Path, datum: str = "wgs84", data: object = None) -> Config:
    raw = copy.deepcopy(f.community_data())
    path = p.write_boundaries(tmp_path, data)  # type: ignore[arg-type]
    raw["community"].update(boundaries=path.name, datum=datum)
    return config_from_dict(raw, f.ENV, base_dir=tmp_path)


def draft_at_grid_step() -> d.Draft:
    return d.Draft(description="路灯不亮了", seq=1, type="report", category="property")


def test_a_location_well_inside_a_grid_answers_the_grid_question(tmp_path: Path) -> None:
    config = config_with(tmp_path)
    draft = d.locate(draft_at_grid_step(), Place(*p.MIDDLE_G1), config)
    assert (draft.grid, draft.location_done, draft.step()) == ("g1", True, "visibility")
    assert d.place(draft) == Place(*p.MIDDLE_G1)


def test_near_a_boundary_the_resident_picks_the_building(tmp_path: Path) -> None:
    config = config_with(tmp_path)
    draft = d.locate(draft_at_grid_step(), Place(*p.NEAR_EDGE), config)
    assert draft.step() == "building" and draft.grid is None
    labels = [b["text"] for row in d.markup(draft, str, config)["inline_keyboard"] for b in row]
    assert labels[:3] == ["1号楼", "8号楼", "2号楼"]
    picked = d.choose(draft, "b", "1", config)
    assert picked is not None
    assert (picked.grid, picked.location, picked.step()) == ("g2", "8号楼", "visibility")
    assert d.choose(draft, "b", "7", config) is None  # a forged or stale button
    other = d.choose(draft, "b", "-", config)  # none of these: the grid question
    assert other is not None and other.step() == "grid"


def test_without_boundaries_a_location_is_kept_and_the_grid_still_asked() -> None:
    draft = d.locate(
        draft_at_grid_step(), Place(*p.MIDDLE_G1, "菜市场", "亲水大街"), f.make_config()
    )
    assert draft.step() == "grid" and draft.title == "菜市场"


def test_boundaries_drawn_in_gcj02_are_compared_after_converting(tmp_path: Path) -> None:
    config = config_with(tmp_path, "gcj02", p.collection(gcj02=True))
    assert d.locate(draft_at_grid_step(), Place(*p.MIDDLE_G1), config).grid == "g1"


def test_the_config_names_a_boundaries_file_and_its_datum(tmp_path: Path) -> None:
    config = config_with(tmp_path, "gcj02")
    assert config.community.boundaries == tmp_path / "grids.geojson"
    assert config.community.datum == "gcj02"
    assert f.make_config().community.boundaries is None


def test_a_wrong_boundaries_file_is_reported_with_its_key(tmp_path: Path) -> None:
    wrong = p.collection()
    wrong["features"][0]["properties"]["grid"] = "g9"
    with pytest.raises(ConfigError) as caught:
        config_with(tmp_path, "wgs84", wrong)
    assert "community.boundaries" in str(caught.value) and "g9" in str(caught.value)
    raw = copy.deepcopy(f.community_data())
    raw["community"].update(boundaries="missing.geojson", datum="bd09")
    with pytest.raises(ConfigError) as caught:
        config_from_dict(raw, f.ENV, base_dir=tmp_path)
    assert "文件不存在" in str(caught.value) and "community.datum" in str(caught.value)


async def test_intake_stores_the_coordinates_and_the_venue(tmp_path: Path) -> None:
    async with f.issue_world(tmp_path) as world:
        outcome = await world.service.report_private(
            user_id=f.RESIDENT,
            display_name="李四",
            grid_key="g1",
            description="菜市场门口路灯不亮",
            issue_type=IssueType.REPORT,
            place=Place(38.487, 106.232, "阅海湾菜市场", "亲水大街 88 号"),
        )
        issue = outcome.issue
        assert (issue.latitude, issue.longitude) == (38.487, 106.232)
        assert issue.place == "阅海湾菜市场\n亲水大街 88 号"
        row = await world.db.fetchone(
            "SELECT latitude, longitude, place FROM issues WHERE number = ?", (issue.number,)
        )
        assert row is not None and tuple(row) == (38.487, 106.232, "阅海湾菜市场\n亲水大街 88 号")
        loaded = await world.service.load(issue.number)
        assert loaded.latitude == 38.487


async def test_mydata_shows_the_coordinates_and_forget_clears_them(tmp_path: Path) -> None:
    """A private report's coordinates are personal data (storage/issues/personal_data.py)."""
    async with registry_world(tmp_path) as world:
        await world.issues.report_private(
            user_id=f.RESIDENT,
            display_name="李四",
            grid_key="g1",
            description="菜市场门口路灯不亮",
            place=Place(38.487, 106.232, "阅海湾菜市场", "亲水大街 88 号"),
        )
        exported = json.loads((await world.personal.my_data(f.RESIDENT)).file)
        assert (exported["reports"][0]["latitude"], exported["reports"][0]["place"]) == (
            38.487,
            "阅海湾菜市场\n亲水大街 88 号",
        )
        await world.personal.forget(f.RESIDENT)
        row = await world.db.fetchone("SELECT latitude, longitude, place FROM issues")
        assert row is not None and tuple(row) == (None, None, None)
