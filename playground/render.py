"""Telegram messages as the page shows them: text and entities back to safe HTML.

The sandbox stores what the bot sent as Telegram does, plain text plus entities (offsets in
UTF-16 code units). Only the tags Telegram itself allows come back (b i u s code pre a), every
other character is escaped, and links keep only http(s) and tg: addresses.
"""

from __future__ import annotations

import html
from typing import Any

TAGS = {
    "bold": "b",
    "italic": "i",
    "underline": "u",
    "strikethrough": "s",
    "code": "code",
    "pre": "pre",
    "text_link": "a",
    "url": "a",
}
SAFE_SCHEMES = ("http://", "https://", "tg://")


def _safe_href(url: str) -> str | None:
    return url if url.lower().startswith(SAFE_SCHEMES) else None


def entities_html(text: str, entities: list[dict[str, Any]] | None) -> str:
    """``text`` with its formatting entities as HTML; everything else escaped."""
    units = text.encode("utf-16-le")
    length = len(units) // 2
    opens: dict[int, list[tuple[int, str]]] = {}
    for entity in entities or []:
        kind = TAGS.get(str(entity.get("type")))
        start, size = int(entity.get("offset", 0)), int(entity.get("length", 0))
        if kind is None or size <= 0 or start < 0 or start + size > length:
            continue
        open_tag = f"<{kind}>"
        if kind == "a":
            target = entity.get("url") if entity["type"] == "text_link" else None
            if target is None:
                target = units[start * 2 : (start + size) * 2].decode("utf-16-le")
            href = _safe_href(str(target))
            if href is None:
                continue
            open_tag = f'<a href="{html.escape(href)}" target="_blank" rel="noopener">'
        opens.setdefault(start, []).append((start + size, open_tag))
    out: list[str] = []
    stack: list[tuple[int, str]] = []
    index = 0
    while index <= length:
        # Close what ends here (innermost first), then open what starts here (outermost first).
        while stack and stack[-1][0] <= index:
            out.append(stack.pop()[1])
        for end, tag in sorted(opens.get(index, []), key=lambda item: -item[0]):
            name = tag[1:].split(">")[0].split(" ")[0]
            out.append(tag)
            stack.append((end, f"</{name}>"))
        if index == length:
            break
        unit = units[index * 2 : index * 2 + 2]
        code = int.from_bytes(unit, "little")
        if 0xD800 <= code < 0xDC00 and index + 1 < length:  # a surrogate pair is one character
            out.append(html.escape(units[index * 2 : index * 2 + 4].decode("utf-16-le")))
            index += 2
        else:
            out.append(html.escape(unit.decode("utf-16-le", errors="replace")))
            index += 1
    while stack:
        out.append(stack.pop()[1])
    return "".join(out)
