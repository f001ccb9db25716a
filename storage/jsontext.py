"""JSON for the rows every message writes and reads: raw updates, outbox payloads, Bot API bodies.

Why orjson: a message that is answered is encoded or decoded about ten times on its way
(its raw update into the inbox and out again, each reply into the outbox, out again, as the
HTTP body and Telegram's answer), at 3–10 µs each with the standard library: some 5% of the
bot's CPU in the ingest benchmark (issue #15 item 6); orjson does each in a fraction of that.
The text differs only in spacing (``{"a":1}``), which every reader of these columns parses.
What orjson refuses (a key that is not a string, an integer beyond 64 bits) goes through the
standard library as before.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> str:
    """``value`` as JSON text, non-ASCII characters as they are (as ``ensure_ascii=False``)."""
    return dump_bytes(value).decode()


def dump_bytes(value: Any) -> bytes:
    """``value`` as UTF-8 JSON."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, ensure_ascii=False).encode()


def loads(text: str | bytes) -> Any:
    """Parse JSON text; a ValueError (orjson.JSONDecodeError is one) when it is not JSON."""
    return orjson.loads(text)
