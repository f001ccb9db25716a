"""Start-up loads only what the first update needs (issue #15 item 5).

Each module below is imported where it is used, and only then: a test here fails as soon as
someone imports one at module level again somewhere on the path from ``bot.app`` to a built
bot. The check runs in a fresh interpreter, since this test process has imported everything.

That interpreter costs about a second of CPU (Python, the bot's imports, a first migration),
so its one report serves every test here: the module is one work unit of pytest-xdist
(tests/support/scheduling.py), and the report is made once per process (issue #12 item 6).
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.xdist_group("fresh-interpreter")

# What each costs and where it is loaded now.
LAZY = {
    "jinja2": "bot.core.rendering: at the first template rendered",
    "prometheus_client": "bot.core.metrics: at the first /metrics scrape",
    "aiohttp": "bot.transport.http: at the first file sent or fetched; aiohttp.web only with"
    " [metrics] or a webhook",
    "chinese_calendar": "bot.core.workcal: at the first working-day question",
    "difflib": "bot.config: only for a 'did you mean' hint",
    "openpyxl": "bot.core.xlsx: at the first spreadsheet",
    "PIL": "bot.schedule.digest_chart: at the first chart",
    "numpy": "pulled in by openpyxl, Pillow or shapely",
    "shapely": "bot.core.geo: only with [community] boundaries",
    "matplotlib": "not used any more",
    "fontTools": "tests only",
}

SCRIPT = """
import asyncio, json, sys

import bot.app
from bot.config import config_from_dict

after_import = sorted(sys.modules)


async def main():
    data = {
        "storage": {"path": sys.argv[1]},
        "community": {
            "name": "阅海湾社区",
            "grids": [{"key": "g1", "name": "第一网格", "chat_id": -1001, "workers": [101]}],
        },
    }
    gridbot = await bot.app.build(config_from_dict(data, {"GRIDBOT_TOKEN": "1:t"}))
    await gridbot.db.close()


asyncio.run(main())
print(json.dumps({"import": after_import, "build": sorted(sys.modules)}))
"""


@functools.cache
def loaded_modules() -> dict[str, list[str]]:
    """The modules a fresh interpreter holds after ``import bot.app`` and after building a
    bot on a new database: asked once per test process."""
    with tempfile.TemporaryDirectory(prefix="gridbot-imports-") as folder:
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(Path(folder) / "gridbot.sqlite3")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
    loaded: dict[str, list[str]] = json.loads(result.stdout.splitlines()[-1])
    return loaded


def heavy(modules: list[str]) -> list[str]:
    return sorted(
        name for name in LAZY if any(m == name or m.startswith(name + ".") for m in modules)
    )


def test_building_the_bot_loads_no_heavy_module() -> None:
    loaded = loaded_modules()
    assert heavy(loaded["import"]) == []
    assert heavy(loaded["build"]) == []
    # The check itself would notice: the bot does import its HTTP client and PTB at start.
    assert "httptools" in loaded["build"] and "telegram.ext" in loaded["import"]


def test_shapely_is_loaded_only_when_boundaries_are_used() -> None:
    """shapely brings numpy (~20 MiB): a bot without boundaries never imports it. (Moved
    here from tests/bot/core/test_geo.py: it asked a fresh interpreter of its own the same
    question as the test above.)"""
    imported = loaded_modules()["import"]
    assert "shapely" not in imported and "numpy" not in imported
