"""The datum conversion and the boundary rule of places (issue #18 item 3)."""

from __future__ import annotations

import pytest

from bot.core.geo import GridMap, Placement, out_of_china, wgs84_to_gcj02
from tests.support import places as p


@pytest.mark.parametrize(
    ("wgs", "gcj"),
    [
        # Published reference pairs of the WGS-84 → GCJ-02 transform (Beijing, Shanghai).
        ((39.915, 116.404), (39.91640428150164, 116.41024449916938)),
        ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ],
)
def test_wgs84_to_gcj02_matches_reference_points(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    lat, lon = wgs84_to_gcj02(*wgs)
    assert lat == pytest.approx(gcj[0], abs=1e-9)
    assert lon == pytest.approx(gcj[1], abs=1e-9)


def test_gcj02_leaves_points_outside_china_alone() -> None:
    assert out_of_china(48.8566, 2.3522)
    assert wgs84_to_gcj02(48.8566, 2.3522) == (48.8566, 2.3522)
    assert not out_of_china(*p.MIDDLE_G1)


def test_a_point_well_inside_one_grid_picks_it() -> None:
    assert GridMap(p.collection(), "wgs84").locate(*p.MIDDLE_G1) == Placement("g1")


def test_within_30_m_of_a_boundary_the_nearest_buildings_are_offered() -> None:
    placed = GridMap(p.collection(), "wgs84").locate(*p.NEAR_EDGE)
    assert placed.grid is None
    assert [(b.grid, b.name) for b in placed.buildings] == [
        ("g1", "1号楼"),
        ("g2", "8号楼"),
        ("g1", "2号楼"),
    ]


def test_the_30_m_rule_is_measured_in_metres() -> None:
    grids = GridMap(p.collection(), "wgs84")
    # 0.0003° of longitude is ~26 m here, 0.0004° ~35 m (a degree of longitude is ~87 km).
    assert grids.locate(38.4870, p.EDGE - 0.0003).grid is None
    assert grids.locate(38.4870, p.EDGE - 0.0004).grid == "g1"
    assert grids.locate(38.4870, p.EDGE + 0.0004).grid == "g2"
    # ... and 0.0003° of latitude is ~33 m: the southern edge is that far.
    assert grids.locate(p.SOUTH + 0.0003, 106.2320).grid == "g1"


def test_outside_every_grid_is_for_the_resident_to_say() -> None:
    placed = GridMap(p.collection(), "wgs84").locate(*p.OUTSIDE)
    assert placed.grid is None and placed.buildings[0].name == "8号楼"
    assert GridMap(p.collection(buildings=False), "wgs84").locate(*p.OUTSIDE) == Placement(None)


def test_a_phone_point_is_moved_into_a_gcj02_map_before_the_test() -> None:
    """Drawn in GCJ-02 the grids lie ~390 m east of where the phone's WGS-84 point says: read
    as WGS-84 the point misses g1; converted first it lands in the middle of it."""
    drawn = p.collection(gcj02=True)
    assert GridMap(drawn, "wgs84").locate(*p.MIDDLE_G1).grid is None
    assert GridMap(drawn, "gcj02").locate(*p.MIDDLE_G1) == Placement("g1")


def test_an_unknown_datum_is_refused() -> None:
    with pytest.raises(ValueError, match="datum"):
        GridMap(p.collection(), "bd09")
