"""The playground's small parts: Telegram entities back to safe HTML, the trainer's clock
jumps, scenes as data, the page's two locales, the browser-test guard."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.workcal import WorkCalendar
from playground.clock import jump_target
from playground.render import entities_html
from playground.scene import SceneError, load_scene, parse_scene, scene_names
from playground.web import PACKAGE, clock_text, strings
from tests.playground import browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkCalendar(SHANGHAI)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


# ---------------------------------------------------------------------------- rendering
def test_formatting_entities_become_telegrams_tags_and_the_rest_is_escaped() -> None:
    text = "#1 <script>alert(1)</script> 已交办"
    entities = [
        {"type": "bold", "offset": 0, "length": 2},
        {"type": "hashtag", "offset": 0, "length": 2},
    ]
    assert entities_html(text, entities) == (
        "<b>#1</b> &lt;script&gt;alert(1)&lt;/script&gt; 已交办"
    )


def test_offsets_count_utf16_units_so_emoji_do_not_shift_the_tags() -> None:
    text = "✅😀 办结 ok"  # 😀 is two UTF-16 units
    assert entities_html(text, [{"type": "italic", "offset": 4, "length": 2}]) == (
        "✅😀 <i>办结</i> ok"
    )


def test_links_keep_only_web_and_tg_addresses() -> None:
    text = "查看 详情 危险"
    entities = [
        {"type": "text_link", "offset": 3, "length": 2, "url": "https://t.me/bot?start=x"},
        {"type": "text_link", "offset": 6, "length": 2, "url": "javascript:alert(1)"},
    ]
    out = entities_html(text, entities)
    assert '<a href="https://t.me/bot?start=x" target="_blank" rel="noopener">详情</a>' in out
    assert "javascript" not in out and out.endswith(" 危险")


def test_nested_entities_close_inside_out() -> None:
    text = "加粗斜体"
    entities = [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "italic", "offset": 2, "length": 2},
    ]
    assert entities_html(text, entities) == "<b>加粗<i>斜体</i></b>"


# ---------------------------------------------------------------------------- the clock
def test_one_working_day_from_friday_is_monday_same_time() -> None:
    assert jump_target(at(6, 16), "workday", SHANGHAI, CALENDAR) == at(9, 16)


def test_morning_and_eight_are_the_next_such_moment() -> None:
    assert jump_target(at(4, 9, 30), "morning", SHANGHAI, CALENDAR) == at(5, 7, 30)
    assert jump_target(at(5, 6, 0), "morning", SHANGHAI, CALENDAR) == at(5, 7, 30)
    assert jump_target(at(5, 7, 30), "eight", SHANGHAI, CALENDAR) == at(5, 8)
    assert jump_target(at(5, 8), "eight", SHANGHAI, CALENDAR) == at(6, 8)
    assert jump_target(at(5, 23, 30), "hour", SHANGHAI, CALENDAR) == at(6, 0, 30)


def test_an_unknown_jump_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown clock jump"):
        jump_target(at(5, 8), "week", SHANGHAI, CALENDAR)


def test_the_clock_reads_in_each_locale() -> None:
    assert clock_text(at(5, 8), strings("zh_CN")) == "3月5日 周四 08:00"
    assert clock_text(at(5, 8), strings("en")) == "Thu 5 Mar 08:00"


# ---------------------------------------------------------------------------- scenes
def test_the_shipped_scenes_load() -> None:
    assert scene_names() == ["community", "empty"]
    community = load_scene("community")
    assert community.registry is not None and community.registry[0].endswith(".csv")
    assert {p.role for p in community.people} == {
        "resident",
        "worker",
        "leader",
        "handler",
        "secretary",
    }
    assert community.person(9501).room == "3号楼2单元301"
    assert load_scene("empty").steps == ()


def test_the_community_scene_draws_its_grids_and_names_its_places() -> None:
    """Issue #18: boundaries beside the scene file (made absolute), places for the picker."""
    community = load_scene("community")
    boundaries = Path(community.config["community"]["boundaries"])
    assert boundaries.is_absolute() and boundaries.name == "community-grids.geojson"
    drawn = json.loads(boundaries.read_text("utf-8"))
    assert [f["properties"]["grid"] for f in drawn["features"]] == ["g1", "g2"]
    assert [p.title for p in community.places] == ["3号楼南门", "社区活动室", "阅海湾菜市场"]


def test_a_scene_file_of_ones_own_and_the_errors(tmp_path: Path) -> None:
    own = tmp_path / "mine.toml"
    own.write_text((PACKAGE / "scenes" / "empty.toml").read_text("utf-8"), "utf-8")
    assert load_scene(str(own)).name == "mine"
    with pytest.raises(SceneError, match="no scene 'nowhere'"):
        load_scene("nowhere")
    with pytest.raises(SceneError, match="start must be a date-time with an offset"):
        parse_scene("naive", "start = 2026-03-04T09:30:00\n[config]\n[[people]]\n", tmp_path)
    with pytest.raises(SceneError, match="a step needs start, say or press"):
        parse_scene(
            "bad",
            "start = 2026-03-04T09:30:00+08:00\npeople = []\n[config]\n[[steps]]\nshout = 1\n",
            tmp_path,
        )


# ---------------------------------------------------------------------------- locales
def _keys(data: dict[str, object], prefix: str = "") -> set[str]:
    keys = set()
    for key, value in data.items():
        keys.add(prefix + key)
        if isinstance(value, dict):
            keys |= _keys(value, f"{prefix}{key}.")
    return keys


def test_the_page_has_the_same_words_in_both_locales() -> None:
    zh, en = (
        tomllib.loads((PACKAGE / "locales" / f"{n}.toml").read_text("utf-8"))
        for n in ("zh_CN", "en")
    )
    assert _keys(zh) == _keys(en)
    assert strings("fr") == zh  # an unknown locale falls back to Chinese


# ---------------------------------------------------------------------------- the guard
def test_browser_tests_skip_without_chromium_unless_required(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("GRIDBOT_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        browser.need_browser()
    monkeypatch.setenv("GRIDBOT_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="GRIDBOT_REQUIRE_BROWSER=1"):
        browser.need_browser()
