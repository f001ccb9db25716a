"""Message text handling: UTF-16 offsets, automatic entities, HTML/Markdown parse modes.

All entity offsets/lengths are in UTF-16 code units, exactly like Telegram.
"""

from __future__ import annotations

import re
from typing import Any

Entity = dict[str, Any]


class EntityParseError(ValueError):
    """Raised for malformed formatted text; the message mimics Telegram's wording."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


# --------------------------------------------------------------------------- auto entities

_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_AUTO_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("url", re.compile(rf"(?<![\w@])(?:https?://|www\.){_URL_CHARS}+", re.ASCII)),
    ("email", re.compile(r"(?<![\w.+@-])[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")),
    (
        "bot_command",
        re.compile(
            r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?"
            r"(?![A-Za-z0-9_@/])"
        ),
    ),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,32}(?![A-Za-z0-9_@])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w{1,256}")),
    ("cashtag", re.compile(r"(?<![\w$])\$[A-Z]{1,8}(?![\w$])")),
)
_TRAILING_URL_PUNCT = ".,;:!?'\")]"


def derive_entities(text: str) -> list[Entity]:
    """Entities Telegram detects automatically (urls, mentions, #hashtags, /commands...)."""
    spans: list[tuple[int, int, str]] = []
    for kind, pattern in _AUTO_PATTERNS:
        for m in pattern.finditer(text):
            start, end = m.start(), m.end()
            if kind == "url":
                while end > start and text[end - 1] in _TRAILING_URL_PUNCT:
                    if text[end - 1] == ")" and text[start:end].count("(") >= text[
                        start:end
                    ].count(")"):
                        break
                    end -= 1
            if kind == "hashtag" and text[start + 1 : end].isdigit():
                continue
            if any(s < end and start < e for s, e, _ in spans):
                continue
            spans.append((start, end, kind))
    spans.sort()
    return [_span_entity(text, s, e, kind) for s, e, kind in spans]


def _span_entity(text: str, start: int, end: int, kind: str) -> Entity:
    return {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(text[start:end])}


def merge_auto_entities(text: str, entities: list[Entity]) -> list[Entity]:
    """Add auto-detected entities that don't collide with code/pre/link entities."""
    blocking = {
        "code",
        "pre",
        "text_link",
        "url",
        "email",
        "mention",
        "hashtag",
        "bot_command",
        "cashtag",
        "text_mention",
        "custom_emoji",
    }
    taken = [(e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] in blocking]
    merged = list(entities)
    for auto in derive_entities(text):
        s, e = auto["offset"], auto["offset"] + auto["length"]
        if not any(a < e and s < b for a, b in taken):
            merged.append(auto)
    return sort_entities(merged)


def sort_entities(entities: list[Entity]) -> list[Entity]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def strip_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Trim leading/trailing whitespace like Telegram and clip entities accordingly."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    out: list[Entity] = []
    for ent in entities:
        start = max(ent["offset"] - lead, 0)
        end = min(ent["offset"] + ent["length"] - lead, total)
        if end > start:
            out.append({**ent, "offset": start, "length": end - start})
    return stripped, out


# --------------------------------------------------------------------------- HTML

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'", "nbsp": "\xa0"}
_TAG_NAME = re.compile(r"[A-Za-z0-9-]*")
_ATTR = re.compile(r"\s*([A-Za-z-]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']*))?")


def parse_html(source: str) -> tuple[str, list[Entity]]:
    out: list[str] = []
    pos16 = 0
    stack: list[tuple[str, dict[str, str], int]] = []  # (tag, attrs, utf16 start)
    entities: list[Entity] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c == "&":
            text, i = _read_html_entity(source, i)
            out.append(text)
            pos16 += utf16_len(text)
            continue
        if c != "<":
            out.append(c)
            pos16 += utf16_len(c)
            i += 1
            continue
        begin = i
        if i + 1 < n and source[i + 1] == "/":
            close = source.find(">", i)
            if close < 0:
                raise EntityParseError(
                    f"Unclosed end tag at byte offset {_byte_offset(source, begin)}"
                )
            name = source[i + 2 : close].strip().lower()
            if not stack:
                raise EntityParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(source, begin)}"
                )
            tag, tag_attrs, start16 = stack.pop()
            if name != tag:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(source, begin)}, "
                    f'expected "</{tag}>", found "</{name}>"'
                )
            ent = _html_entity(tag, tag_attrs, start16, pos16 - start16, stack, entities)
            if ent is not None:
                entities.append(ent)
            i = close + 1
            continue
        m = _TAG_NAME.match(source, i + 1)
        assert m is not None
        name = m.group(0).lower()
        if name not in _SIMPLE_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, begin)}'
            )
        j = m.end()
        attrs: dict[str, str] = {}
        while True:
            while j < n and source[j].isspace():
                j += 1
            if j >= n:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(source, begin)}"
                )
            if source[j] == ">":
                break
            am = _ATTR.match(source, j)
            if am is None or not am.group(1):
                raise EntityParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset '
                    f"{_byte_offset(source, j)}"
                )
            value = am.group(2) or ""
            if value[:1] in "\"'" and len(value) >= 2:
                value = value[1:-1]
            attrs[am.group(1).lower()] = _unescape(value)
            j = am.end()
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset '
                f"{_byte_offset(source, begin)}"
            )
        stack.append((name, attrs, pos16))
        i = j + 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), sort_entities(entities)


def _read_html_entity(source: str, i: int) -> tuple[str, int]:
    m = re.match(r"&(#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6}|[A-Za-z]{2,8});", source[i : i + 12])
    if m is None:
        return "&", i + 1
    body = m.group(1)
    if body.startswith("#x"):
        code = int(body[2:], 16)
    elif body.startswith("#"):
        code = int(body[1:])
    elif body in _HTML_ENTITIES:
        return _HTML_ENTITIES[body], i + m.end()
    else:
        return "&", i + 1
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "&", i + 1
    return chr(code), i + m.end()


def _unescape(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "&":
            text, i = _read_html_entity(value, i)
            out.append(text)
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _html_entity(
    tag: str,
    attrs: dict[str, str],
    offset: int,
    length: int,
    stack: list[tuple[str, dict[str, str], int]],
    done: list[Entity],
) -> Entity | None:
    kind = _SIMPLE_TAGS[tag]
    if tag == "code" and stack and stack[-1][0] == "pre":
        lang = attrs.get("class", "")
        if lang.startswith("language-") and len(lang) > 9:
            stack[-1][1]["language"] = lang[9:]
            return None
    if length <= 0:
        return None
    ent: Entity = {"type": kind, "offset": offset, "length": length}
    if tag == "a":
        href = attrs.get("href", "")
        if not href:
            return None
        uid = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if uid:
            ent = {
                "type": "text_mention",
                "offset": offset,
                "length": length,
                "user": {"id": int(uid.group(1)), "is_bot": False, "first_name": "User"},
            }
        else:
            ent["url"] = href
    elif tag == "pre" and attrs.get("language"):
        ent["language"] = attrs["language"]
    elif tag == "blockquote" and "expandable" in attrs:
        ent["type"] = "expandable_blockquote"
    elif tag == "tg-emoji":
        ent["custom_emoji_id"] = attrs.get("emoji-id", "")
    return ent


def format_text(
    text: str, parse_mode: str | None, entities: list[Entity] | None
) -> tuple[str, list[Entity]]:
    """Apply ``parse_mode``/explicit ``entities``, add auto entities and trim whitespace."""
    if entities:
        parsed_text, parsed = text, sort_entities([dict(e) for e in entities])
    elif parse_mode:
        mode = parse_mode.lower()
        if mode == "html":
            parsed_text, parsed = parse_html(text)
        elif mode in ("markdownv2", "markdown"):
            from sandbox.markdown import parse_markdown, parse_markdown_v2

            parser = parse_markdown_v2 if mode == "markdownv2" else parse_markdown
            parsed_text, parsed = parser(text)
        else:
            raise ValueError(f"unsupported parse_mode {parse_mode!r}")
    else:
        parsed_text, parsed = text, []
    stripped, ents = strip_text(parsed_text, parsed)
    return stripped, merge_auto_entities(stripped, ents)
