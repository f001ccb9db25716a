"""Start-up loads only what the first update needs (issue #15 item 5).

Each module below is imported where it is used, and only then: a test here fails as soon as
someone imports one at module level again somewhere on the path from ``bot.app`` to a built
bot. The check runs in a fresh interpreter, since this test process has imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What each costs and where it is loaded now.
LAZY = {
    "jinja2": "bot.core.rendering: at the first template rendered",
    "prometheus_client": "bot.core.metrics: at the first /metrics scrape",
    "aiohttp.web": "bot.ops.health, bot.transport.webhook: only with [metrics] or a webhook",
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


def loaded_modules(tmp_path: Path) -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "gridbot.sqlite3")],
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


def test_building_the_bot_loads_no_heavy_module(tmp_path: Path) -> None:
    loaded = loaded_modules(tmp_path)
    assert heavy(loaded["import"]) == []
    assert heavy(loaded["build"]) == []
    # The check itself would notice: the bot does import aiohttp's client side at start.
    assert "aiohttp" in loaded["import"]
