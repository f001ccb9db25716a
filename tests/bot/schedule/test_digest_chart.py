"""The digest chart's Chinese labels render as glyphs, not empty boxes."""

from __future__ import annotations

import io
import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.core.rendering import Renderer
from bot.schedule.digest_chart import COLOURS, cjk_font, trend_png, y_step

# CI installs a CJK font (.ci/run) and sets this, so there the test can never be skipped.
REQUIRED = os.environ.get("GRIDBOT_REQUIRE_CJK_FONT") == "1"


@pytest.fixture
def font() -> Path:
    found = cjk_font()
    if found is None:
        if REQUIRED:
            pytest.fail("no CJK font installed, and GRIDBOT_REQUIRE_CJK_FONT=1")
        pytest.skip("no CJK font on this machine (apt-get install fonts-wqy-microhei)")
    return found


def test_digest_chart_labels_all_have_glyphs_in_the_font(font: Path) -> None:
    t = Renderer("zh_CN").text
    labels = [
        t("schedule.chart.title", start="11-01", end="11-30"),
        t("schedule.chart.new"),
        t("schedule.chart.resolved"),
    ]
    assert missing_glyphs(font, "".join(labels)) == ""


def test_digest_chart_is_a_png_of_the_series(font: Path) -> None:
    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(30)]
    png = trend_png(days, [("新增", [i % 4 for i in range(30)]), ("办结", [1] * 30)], "近30天")
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (880, 400)
    colours = {colour for _, colour in image.getcolors(maxcolors=1_000_000) or []}
    assert {COLOURS[0], COLOURS[1]} <= colours  # both lines are drawn, each in its colour
    empty = trend_png(days, [("新增", [0] * 30)], "近30天")
    assert empty is not None and empty != png  # the drawing depends on the data


@pytest.mark.parametrize(
    ("highest", "step"), [(1, 1), (6, 1), (7, 2), (12, 2), (40, 10), (99, 20), (1234, 500)]
)
def test_y_axis_steps_are_round_and_few(highest: int, step: int) -> None:
    assert y_step(highest) == step
    assert -(-highest // step) <= 6


def test_missing_glyphs_reports_what_a_latin_font_lacks(tmp_path: Path) -> None:
    latin = tmp_path / "latin.ttf"
    latin_font(latin, "abc")
    assert missing_glyphs(latin, "新增 abc") == "新增"


def missing_glyphs(font: Path, text: str) -> str:
    """The characters of ``text`` that ``font`` has no glyph for (spaces ignored)."""
    from fontTools.ttLib import TTFont

    with TTFont(font, fontNumber=0, lazy=True) as ttf:
        cmap = ttf.getBestCmap()
    return "".join(ch for ch in text if not ch.isspace() and ord(ch) not in cmap)


def latin_font(path: Path, characters: str) -> None:
    """A minimal TrueType font whose only glyphs are ``characters`` (all empty squares)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    names = [".notdef", *(f"g{ord(ch)}" for ch in characters)]
    pen = TTGlyphPen(None)
    pen.moveTo((0, 0))
    pen.lineTo((0, 500))
    pen.lineTo((500, 500))
    pen.closePath()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(ch): f"g{ord(ch)}" for ch in characters})
    builder.setupGlyf({name: pen.glyph() for name in names})
    builder.setupHorizontalMetrics({name: (600, 0) for name in names})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "Latin", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    builder.save(str(path))
