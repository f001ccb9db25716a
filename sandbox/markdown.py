"""Telegram's MarkdownV2 and legacy Markdown parse modes (offsets in UTF-16 units)."""

from __future__ import annotations

from sandbox.entities import Entity, EntityParseError, _byte_offset, sort_entities, utf16_len

_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"
_MDV2_NAMES = {
    "*": "bold",
    "_": "italic",
    "__": "underline",
    "~": "strikethrough",
    "||": "spoiler",
    "`": "code",
    "```": "pre",
    "[": "text_link",
}
_MD_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
}


def parse_markdown_v2(source: str) -> tuple[str, list[Entity]]:
    out: list[str] = []
    pos16 = 0
    stack: list[tuple[str, int, int]] = []  # (marker, utf16 start, source index)
    entities: list[Entity] = []
    i, n = 0, len(source)

    def emit(text: str) -> None:
        nonlocal pos16
        out.append(text)
        pos16 += utf16_len(text)

    while i < n:
        c = source[i]
        in_code = bool(stack) and stack[-1][0] in ("`", "```")
        if c == "\\" and i + 1 < n and 0 < ord(source[i + 1]) < 127:
            emit(source[i + 1])
            i += 2
            continue
        if in_code and c != "`":
            emit(c)
            i += 1
            continue
        marker = c
        if source.startswith("```", i):
            marker = "```"
        elif source.startswith("__", i) or source.startswith("||", i):
            marker = source[i : i + 2]
        if stack and marker == stack[-1][0] and marker != "[":
            m, start16, _ = stack.pop()
            if pos16 > start16:
                ent: Entity = {
                    "type": _MDV2_NAMES[m],
                    "offset": start16,
                    "length": pos16 - start16,
                }
                entities.append(ent)
            i += len(marker)
            continue
        if marker == "```":
            end_line = source.find("\n", i + 3)
            lang = source[i + 3 : end_line].strip() if end_line >= 0 else ""
            stack.append(("```", pos16, i))
            i = end_line + 1 if end_line >= 0 and lang.isidentifier() else i + 3
            if lang.isidentifier():
                entities.append({"type": "_lang", "offset": pos16, "length": 0, "language": lang})
            continue
        if marker in ("*", "_", "__", "~", "||", "`", "["):
            stack.append((marker, pos16, i))
            i += len(marker)
            continue
        if c == "]" and stack and stack[-1][0] == "[":
            _, start16, _ = stack.pop()
            close = source.find(")", i)
            if not source.startswith("(", i + 1) or close < 0:
                raise EntityParseError(
                    f"Can't find end of TextUrl entity at byte offset {_byte_offset(source, i)}"
                )
            url = source[i + 2 : close].replace("\\)", ")").replace("\\\\", "\\")
            if pos16 > start16:
                entities.append(
                    {"type": "text_link", "offset": start16, "length": pos16 - start16, "url": url}
                )
            i = close + 1
            continue
        if c in _MDV2_RESERVED:
            raise EntityParseError(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        emit(c)
        i += 1
    if stack:
        m, _, idx = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MD_NAMES[_MDV2_NAMES[m]]} entity at byte offset "
            f"{_byte_offset(source, idx)}"
        )
    return "".join(out), _attach_languages(entities)


def _attach_languages(entities: list[Entity]) -> list[Entity]:
    langs = {e["offset"]: e["language"] for e in entities if e["type"] == "_lang"}
    result = []
    for ent in entities:
        if ent["type"] == "_lang":
            continue
        if ent["type"] == "pre" and ent["offset"] in langs:
            ent = {**ent, "language": langs[ent["offset"]]}
        result.append(ent)
    return sort_entities(result)


def parse_markdown(source: str) -> tuple[str, list[Entity]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url)."""
    out: list[str] = []
    pos16 = 0
    entities: list[Entity] = []
    i, n = 0, len(source)
    names = {"*": "bold", "_": "italic", "`": "code", "```": "pre"}
    while i < n:
        c = source[i]
        if c == "\\" and i + 1 < n and source[i + 1] in "*_`[":
            out.append(source[i + 1])
            pos16 += 1
            i += 2
            continue
        marker = "```" if source.startswith("```", i) else c
        if marker in names or c == "[":
            end_marker = "]" if c == "[" else marker
            close = source.find(end_marker, i + len(marker))
            if close < 0:
                raise EntityParseError(
                    "Can't find end of the entity starting at byte offset "
                    f"{_byte_offset(source, i)}"
                )
            inner = source[i + len(marker) : close]
            ent: Entity = {
                "type": names.get(marker, "text_link"),
                "offset": pos16,
                "length": utf16_len(inner),
            }
            nxt = close + len(end_marker)
            if c == "[":
                url_end = source.find(")", nxt)
                if not source.startswith("(", nxt) or url_end < 0:
                    out.append(source[i])
                    pos16 += 1
                    i += 1
                    continue
                ent["url"] = source[nxt + 1 : url_end]
                nxt = url_end + 1
            out.append(inner)
            pos16 += ent["length"]
            if ent["length"]:
                entities.append(ent)
            i = nxt
            continue
        out.append(c)
        pos16 += utf16_len(c)
        i += 1
    return "".join(out), sort_entities(entities)
