"""Grid boundaries for the places tests (issue #18 item 3): two grids side by side in 阅海湾.

g1 spans longitudes 106.2300-106.2340 and g2 106.2340-106.2380, both latitudes 38.4850-38.4890
(WGS-84). At this latitude 0.0001° of longitude is about 8.7 m, of latitude about 11.1 m.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.core.geo import wgs84_to_gcj02

SOUTH, NORTH = 38.4850, 38.4890
EDGE = 106.2340  # the boundary between g1 and g2
MIDDLE_G1 = (38.4870, 106.2320)  # ~170 m from any edge
NEAR_EDGE = (38.4870, 106.2339)  # in g1, ~9 m from g2
OUTSIDE = (38.4870, 106.2420)  # east of both grids
BUILDINGS = (("g1", "1号楼", 106.2336), ("g2", "8号楼", 106.2344), ("g1", "2号楼", 106.2305))


def _square(west: float, east: float, shift: bool) -> list[list[float]]:
    corners = [(SOUTH, west), (SOUTH, east), (NORTH, east), (NORTH, west), (SOUTH, west)]
    if shift:
        corners = [wgs84_to_gcj02(lat, lon) for lat, lon in corners]
    return [[lon, lat] for lat, lon in corners]


def collection(*, gcj02: bool = False, buildings: bool = True) -> dict[str, Any]:
    """The two grids (and three buildings), drawn in GCJ-02 when ``gcj02``."""
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "properties": {"grid": key},
            "geometry": {"type": "Polygon", "coordinates": [_square(west, east, gcj02)]},
        }
        for key, west, east in (("g1", 106.2300, EDGE), ("g2", EDGE, 106.2380))
    ]
    for grid, name, lon in BUILDINGS if buildings else ():
        lat, x = wgs84_to_gcj02(38.4870, lon) if gcj02 else (38.4870, lon)
        features.append(
            {
                "type": "Feature",
                "properties": {"grid": grid, "building": name},
                "geometry": {"type": "Point", "coordinates": [x, lat]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def write_boundaries(folder: Path, data: dict[str, Any] | None = None) -> Path:
    path = folder / "grids.geojson"
    path.write_text(json.dumps(data or collection(), ensure_ascii=False), encoding="utf-8")
    return path
