"""The digest's 30-day trend as a PNG, with Chinese labels that really render.

Drawn with Pillow: a line per series over a light grid, the title above, dates below, a legend
in the corner. Pillow replaced matplotlib here because matplotlib and numpy stayed resident
after the first digest (about 30 MiB of a 150 MB budget, bench/README.md "Memory") and took a
second of the event loop per chart; two lines of thirty points need none of that.

The labels use a CJK font found on the machine (WenQuanYi Micro Hei or Noto CJK from the
distribution's font packages; ``.ci/run`` installs one). Without such a font the labels would
come out as empty boxes, so then no chart is drawn at all and the digest goes out as text
alone, with one warning in the log.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

log = logging.getLogger(__name__)

CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)

# Drawn at twice the size and scaled down: Pillow's lines have no anti-aliasing of their own.
SCALE: Final = 2
WIDTH, HEIGHT = 880, 400
LEFT, RIGHT, TOP, BOTTOM = 56, 20, 48, 40  # plot margins, pixels
COLOURS: Final = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40))
GRID: Final = (225, 225, 225)
INK: Final = (51, 51, 51)
MAX_Y_TICKS: Final = 6
MAX_X_LABELS: Final = 8


@cache
def cjk_font() -> Path | None:
    """The first of CJK_FONTS installed here, or None.

    Each of them covers the common Chinese characters; tests/bot/test_digest_chart.py checks
    every label of the chart against the installed font with fontTools (CI installs one and
    may not skip it). Not checked here: reading a CJK font's character map costs ~15 MiB.
    """
    for candidate in CJK_FONTS:
        path = Path(candidate)
        if path.is_file():
            return path
    log.warning("no CJK font installed (e.g. Debian fonts-wqy-microhei): no digest chart")
    return None


def y_step(top: int) -> int:
    """A round tick step (1, 2 or 5 times a power of ten) giving at most MAX_Y_TICKS steps."""
    step: int = 10 ** max(0, math.floor(math.log10(max(top, 1) / MAX_Y_TICKS)))
    while True:
        for factor in (1, 2, 5):
            if math.ceil(top / (step * factor)) <= MAX_Y_TICKS:
                return step * factor
        step *= 10


def trend_png(
    days: Sequence[date],
    series: Sequence[tuple[str, Sequence[int]]],
    title: str,
) -> bytes | None:
    """A line chart of daily counts (one line per labelled series); None without a CJK font."""
    font_path = cjk_font()
    if font_path is None or not days:
        return None
    from PIL import Image, ImageDraw, ImageFont

    def font(size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(font_path), size * SCALE, index=0)

    image = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), "white")
    draw = ImageDraw.Draw(image)
    left, top = LEFT * SCALE, TOP * SCALE
    right, bottom = (WIDTH - RIGHT) * SCALE, (HEIGHT - BOTTOM) * SCALE
    highest = max((max(values, default=0) for _, values in series), default=0)
    step = y_step(highest + 1)
    y_max = step * (highest // step + 1)  # headroom: the highest point stays off the frame

    def x_at(index: int) -> float:
        return left + (right - left) * index / max(1, len(days) - 1)

    def y_at(value: float) -> float:
        return bottom - (bottom - top) * value / y_max

    small = font(11)
    for value in range(0, y_max + 1, step):
        y = y_at(value)
        draw.line([(left, y), (right, y)], fill=GRID, width=SCALE)
        draw.text((left - 6 * SCALE, y), str(value), fill=INK, font=small, anchor="rm")
    for index in range(0, len(days), max(1, len(days) // MAX_X_LABELS)):
        x = x_at(index)
        draw.line([(x, top), (x, bottom)], fill=GRID, width=SCALE)
        label = days[index].strftime("%m-%d")
        draw.text((x, bottom + 6 * SCALE), label, fill=INK, font=small, anchor="ma")
    draw.rectangle([(left, top), (right, bottom)], outline=INK, width=SCALE)
    for (_, values), colour in zip(series, COLOURS, strict=False):
        points = [(x_at(i), y_at(v)) for i, v in enumerate(values)]
        draw.line(points, fill=colour, width=2 * SCALE, joint="curve")
        for x, y in points:
            r = 3 * SCALE
            draw.ellipse([(x - r, y - r), (x + r, y + r)], fill=colour)
    draw.text(((left + right) / 2, top / 2), title, fill=INK, font=font(15), anchor="mm")
    _legend(draw, [label for label, _ in series], small, (left + 10 * SCALE, top + 10 * SCALE))
    out = io.BytesIO()
    image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS).save(out, format="PNG")
    return out.getvalue()


def _legend(
    draw: ImageDraw.ImageDraw,
    labels: Sequence[str],
    font: ImageFont.FreeTypeFont,
    origin: tuple[int, int],
) -> None:
    """A boxed key in the plot's top-left corner: a short line of each colour, then its label."""
    x, y = origin
    line_height, sample, gap = 18 * SCALE, 20 * SCALE, 6 * SCALE
    widest = max(draw.textlength(label, font=font) for label in labels)
    box = (x, y, x + sample + 3 * gap + widest, y + line_height * len(labels) + gap)
    draw.rectangle(box, fill="white", outline=GRID, width=SCALE)
    for row, (label, colour) in enumerate(zip(labels, COLOURS, strict=False)):
        middle = y + gap / 2 + line_height * row + line_height / 2
        draw.line([(x + gap, middle), (x + gap + sample, middle)], fill=colour, width=2 * SCALE)
        draw.text((x + 2 * gap + sample, middle), label, fill=INK, font=font, anchor="lm")
