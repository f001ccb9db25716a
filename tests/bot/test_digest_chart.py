"""The digest chart's Chinese labels render as glyphs, not empty boxes."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.digest_chart import cjk_font, missing_glyphs, trend_png
from bot.rendering import Renderer

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
    empty = trend_png(days, [("新增", [0] * 30)], "近30天")
    assert empty is not None and empty != png  # the drawing depends on the data


def test_missing_glyphs_reports_what_a_latin_font_lacks() -> None:
    import matplotlib

    latin = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    assert missing_glyphs(latin, "新增 abc") == "新增"
