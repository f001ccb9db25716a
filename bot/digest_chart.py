"""The digest's 30-day trend as a PNG, with Chinese labels that really render.

matplotlib draws with a CJK font found on the machine (WenQuanYi Micro Hei or Noto CJK from
the distribution's font packages; ``.ci/run`` installs one). Without such a font the labels
would come out as empty boxes, so then no chart is drawn at all and the digest goes out as
text alone, with one warning in the log.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from datetime import date
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)


@cache
def cjk_font() -> Path | None:
    """The first installed font that has Chinese glyphs, or None."""
    for candidate in CJK_FONTS:
        path = Path(candidate)
        if path.is_file() and missing_glyphs(path, "新增办结") == "":
            return path
    log.warning("no CJK font installed (e.g. Debian fonts-wqy-microhei): no digest chart")
    return None


def missing_glyphs(font: Path, text: str) -> str:
    """The characters of ``text`` that ``font`` has no glyph for (spaces ignored)."""
    from fontTools.ttLib import TTFont

    with TTFont(font, fontNumber=0, lazy=True) as ttf:
        cmap = ttf.getBestCmap()
    return "".join(ch for ch in text if not ch.isspace() and ord(ch) not in cmap)


def trend_png(
    days: Sequence[date],
    series: Sequence[tuple[str, Sequence[int]]],
    title: str,
) -> bytes | None:
    """A line chart of daily counts (one line per labelled series); None without a CJK font."""
    font = cjk_font()
    if font is None or not days:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    prop = font_manager.FontProperties(fname=str(font))
    figure, axes = plt.subplots(figsize=(8, 3.6), dpi=110)
    try:
        for label, values in series:
            axes.plot(range(len(days)), list(values), marker="o", markersize=3, label=label)
        axes.set_title(title, fontproperties=prop)
        axes.legend(prop=prop, loc="upper left")
        axes.grid(alpha=0.3)
        axes.set_ylim(bottom=0)
        ticks = range(0, len(days), max(1, len(days) // 8))
        axes.set_xticks(list(ticks), [days[i].strftime("%m-%d") for i in ticks])
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(figure)
