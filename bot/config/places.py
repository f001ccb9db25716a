"""``[community] boundaries`` and ``datum`` (issue #18 item 3): the grids drawn as GeoJSON.

Checked at start-up like the holidays file, so a mistake stops the bot with its key path;
the map itself is built where it is used (bot.core.geo).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

from bot.config.reader import Section

DATUMS = ("wgs84", "gcj02")


def read_boundaries(s: Section, base_dir: Path, grids: Collection[str]) -> Path | None:
    """The boundaries file's path, once it reads as a FeatureCollection of known grids."""
    name = s.string("boundaries", "")
    if not name:
        return None
    path = Path(name).expanduser()
    path = path if path.is_absolute() else base_dir / path
    try:
        problem = _problem(json.loads(path.read_text(encoding="utf-8")), grids)
    except FileNotFoundError:
        s.report.add(s.key("boundaries"), "file_missing")
        return None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        s.report.add(s.key("boundaries"), "file_unreadable", detail=str(error))
        return None
    if problem:
        s.report.add(s.key("boundaries"), "bad_boundaries", detail=problem)
        return None
    return path


def _problem(data: object, grids: Collection[str]) -> str | None:
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        return "not a GeoJSON FeatureCollection"
    for index, feature in enumerate(data.get("features") or []):
        if not isinstance(feature, dict) or not isinstance(feature.get("geometry"), dict):
            return f"features[{index}]: no geometry"
        grid = (feature.get("properties") or {}).get("grid")
        if grid not in grids:
            return f"features[{index}]: properties.grid {grid!r} is not a grid key"
    return None
