"""The digest as an .xlsx attachment, for digests too long for one Telegram message (issue #5).

One sheet, one line of the rendered digest per row (HTML tags removed, entities unescaped), so
the attachment says exactly what the message would have said.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from bot.core import xlsx

_TAG = re.compile(r"<[^>]+>")


def digest_workbook(text_of: Callable[..., str], rendered: str) -> bytes:
    """An .xlsx file holding ``rendered`` (Telegram HTML), one line per row."""
    book, sheet = xlsx.new_sheet(text_of("schedule.digest.sheet"))
    for line in rendered.splitlines():
        plain = html.unescape(_TAG.sub("", line)).strip()
        if plain:
            sheet.append([plain])
    xlsx.set_widths(sheet, (100,))
    return xlsx.to_bytes(book)
