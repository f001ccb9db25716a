"""Places (issue #18 item 3): which grid a resident's location falls in.

Phones send WGS-84; Chinese map tools (高德, 腾讯, 百度's base layer) draw in GCJ-02, so a
boundaries file drawn there is off by a few hundred metres unless the point is moved into the
file's datum first (:func:`wgs84_to_gcj02`, the published transform, ~20 lines; the PyPI
packages for it are unmaintained copies of the same formula).

The boundaries file is a GeoJSON FeatureCollection: polygons whose ``properties.grid`` names a
grid, and optionally buildings (a point or polygon with ``properties.building`` and ``grid``).
A point clearly inside one grid picks it; within :data:`EDGE_METRES` of a boundary, or outside
every grid, it is ambiguous and the resident picks the building instead.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

EDGE_METRES = 30.0
DATUMS = ("wgs84", "gcj02")
NEAREST_BUILDINGS = 8

# Krasovsky 1940, as the GCJ-02 transform uses it.
_A = 6378245.0
_EE = 0.00669342162296594323
_METRES_PER_DEGREE = 111_320.0


def out_of_china(lat: float, lon: float) -> bool:
    """GCJ-02 only shifts points in (a box around) China; elsewhere it is WGS-84."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _shift_lat(x: float, y: float) -> float:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    r += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return r


def _shift_lon(x: float, y: float) -> float:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    r += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    r += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    r += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return r


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """(lat, lon) as a Chinese map tool draws the WGS-84 point (lat, lon)."""
    if out_of_china(lat, lon):
        return lat, lon
    dlat = _shift_lat(lon - 105.0, lat - 35.0)
    dlon = _shift_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(radlat) * math.pi)
    return lat + dlat, lon + dlon


@dataclass(frozen=True)
class Place:
    """A resident's Telegram location (WGS-84), with a venue's title and address if any."""

    latitude: float
    longitude: float
    title: str | None = None
    address: str | None = None

    @property
    def label(self) -> str | None:
        """The venue as stored (title, a line break, address); None for a bare location."""
        if not self.title:
            return None
        return f"{self.title}\n{self.address}" if self.address else self.title


@dataclass(frozen=True)
class Building:
    grid: str
    name: str


@dataclass(frozen=True)
class Placement:
    """Where a point falls: ``grid`` when clearly inside one grid; else the nearest buildings
    (possibly none) for the resident to pick from."""

    grid: str | None
    buildings: tuple[Building, ...] = ()


class GridMap:
    """The grid polygons and buildings of one boundaries file."""

    def __init__(self, collection: dict[str, Any], datum: str) -> None:
        from shapely.geometry import shape  # with numpy, ~20 MiB: only when boundaries are set

        if datum not in DATUMS:
            raise ValueError(f"datum must be one of {DATUMS}, not {datum!r}")
        self.datum = datum
        self.grids: list[tuple[str, BaseGeometry]] = []
        self.buildings: list[tuple[Building, BaseGeometry]] = []
        for feature in collection.get("features", []):
            props = feature.get("properties") or {}
            geometry = shape(feature["geometry"])
            if props.get("building"):
                building = Building(str(props["grid"]), str(props["building"]))
                self.buildings.append((building, geometry))
            else:
                self.grids.append((str(props["grid"]), geometry))

    def locate(self, lat: float, lon: float) -> Placement:
        """Place a WGS-84 point (what a phone sends) on the map."""
        from shapely import Point, transform

        if self.datum == "gcj02":
            lat, lon = wgs84_to_gcj02(lat, lon)
        here = Point(lon, lat)
        local = _local_metres(lat, lon)
        point = transform(here, local)
        inside = [key for key, area in self.grids if area.covers(here)]
        near_edge = any(
            transform(area.boundary, local).distance(point) < EDGE_METRES for _, area in self.grids
        )
        if len(inside) == 1 and not near_edge:
            return Placement(inside[0])
        ranked = sorted(self.buildings, key=lambda item: transform(item[1], local).distance(point))
        return Placement(None, tuple(b for b, _ in ranked[:NEAREST_BUILDINGS]))


def _local_metres(lat0: float, lon0: float) -> Any:
    """Degrees to metres east/north of (lat0, lon0): exact enough across a community."""
    import numpy as np

    scale = np.array([_METRES_PER_DEGREE * math.cos(math.radians(lat0)), _METRES_PER_DEGREE])
    origin = np.array([lon0, lat0])

    def project(coords: Any) -> Any:
        return (coords - origin) * scale

    return project


def read_collection(path: Path) -> dict[str, Any]:
    """The GeoJSON FeatureCollection in ``path``; ValueError says what is wrong with it."""
    from shapely.geometry import shape

    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ValueError("not a GeoJSON FeatureCollection")
    for index, feature in enumerate(data.get("features") or []):
        props = feature.get("properties") or {}
        if not props.get("grid"):
            raise ValueError(f"feature {index} has no properties.grid")
        try:
            shape(feature["geometry"])
        except Exception as error:  # shapely raises several kinds for a bad geometry
            raise ValueError(f"feature {index}: {error}") from error
    return data


@lru_cache(maxsize=4)
def grid_map(path: Path, datum: str) -> GridMap:
    """The map of a boundaries file, read once (the config checked it at start-up)."""
    return GridMap(read_collection(path), datum)
