"""Parsing what people and buttons send: numbers and a leading /command.

One owner for these rules: a forged button or an odd keyboard must not fail an update, so every
number that comes from outside goes through :func:`parse_id`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Ids (issue numbers, rows, Telegram ids) fit SQLite's signed 64-bit integer with room to
# spare; a longer run of digits is a forged button or a typo, never a real id.
MAX_ID_DIGITS = 15


def parse_id(text: str) -> int | None:
    """A positive id written in ASCII digits, or None (too long, ², ³, signs, spaces)."""
    if not is_number(text):
        return None
    return int(text)


def is_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts ² or ³, which int() then refuses (a
    forged button or an odd keyboard would otherwise fail the whole update), and at most
    ``MAX_ID_DIGITS`` of them: a longer number overflows SQLite's integer."""
    return text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS


# A command at the start of a text or caption; Chinese may follow without a space (/report漏水).
_COMMAND = re.compile(r"^/([A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?(?![A-Za-z0-9_@])")


@dataclass(frozen=True)
class Command:
    name: str  # lower-cased, without the slash and the @bot
    rest: str  # what follows it, stripped
    ours: bool  # not addressed to another bot (/done@otherbot)


def leading_command(text: str, username: str) -> Command | None:
    """The command ``text`` starts with, if any. PTB's CommandHandler parses texts; captions
    (a photo captioned /done 12 … or /report …) need this."""
    match = _COMMAND.match(text)
    if match is None:
        return None
    ours = match[2] is None or match[2].lower() == username.lower()
    return Command(match[1].lower(), text[match.end() :].strip(), ours)
