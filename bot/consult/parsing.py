"""Parsing what people type for 接龙 and meetings (issue #6): local dates and times, caps.

Pure functions, no I/O. Dates are written the way people write them in a group chat:
"11月28日18:00", "11月28日 18点", "2026-11-28 18:00", "11/28 18:00". Without a year the
next such moment from now is meant (a date already past this year is next year's).
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Final
from zoneinfo import ZoneInfo

_DATE: Final = r"(?:(\d{4})\s*[-/年.]\s*)?(\d{1,2})\s*[-/月.]\s*(\d{1,2})\s*[日号]?"
_CLOCK: Final = r"(\d{1,2})\s*(?:[:：点时]\s*(\d{1,2})?\s*分?)"
DATETIME: Final = re.compile(_DATE + r"\s*" + _CLOCK)
CLOCK: Final = re.compile(_CLOCK)
_CAP: Final = re.compile(r"(?:限|上限|名额|限额)\s*(\d{1,4})\s*(?:人|名|位)?")
_DEADLINE: Final = re.compile(r"(?:截止|截至|报名截止)\s*(?:时间)?\s*[:：]?\s*")


def _moment(match: re.Match[str], now: datetime, tz: ZoneInfo) -> datetime | None:
    year, month, day, hour, minute = match.groups()
    local_now = now.astimezone(tz)
    try:
        at = datetime(
            int(year or local_now.year),
            int(month),
            int(day),
            int(hour),
            int(minute or 0),
            tzinfo=tz,
        )
    except ValueError:
        return None
    if year is None and at < local_now.replace(second=0, microsecond=0):
        try:
            at = at.replace(year=at.year + 1)
        except ValueError:  # 29 February
            return None
    return at


def find_datetime(text: str, now: datetime, tz: ZoneInfo) -> tuple[datetime | None, str]:
    """The first local date-time in ``text`` and the text without it (None: no valid one)."""
    match = DATETIME.search(text)
    if match is None:
        return None, text
    at = _moment(match, now, tz)
    return at, (text[: match.start()] + text[match.end() :]).strip()


def parse_window(
    text: str, now: datetime, tz: ZoneInfo
) -> tuple[datetime, datetime | None] | None:
    """ "11月28日19:00-21:00" → (start, end); "11月28日19:00" → (start, None)."""
    start, rest = find_datetime(text, now, tz)
    if start is None:
        return None
    match = CLOCK.search(rest)
    if match is None:
        return start, None
    try:
        end_clock = time(int(match.group(1)), int(match.group(2) or 0))
    except ValueError:
        return None
    end = datetime.combine(start.date(), end_clock, tzinfo=tz)
    return start, end


def split_jielong(
    text: str, now: datetime, tz: ZoneInfo
) -> tuple[str, int | None, datetime | None]:
    """``"周六义务植树 限20人 截止11月28日18:00"`` → (topic, 20, that moment).

    A deadline that cannot be read stays in the topic, so nothing typed is lost.
    """
    cap = None
    match = _CAP.search(text)
    if match is not None:
        cap = int(match.group(1))
        text = text[: match.start()] + text[match.end() :]
    deadline = None
    marker = _DEADLINE.search(text)
    if marker is not None:
        found, rest = find_datetime(text[marker.end() :], now, tz)
        if found is not None:
            deadline = found
            text = text[: marker.start()] + " " + rest
    return " ".join(text.split()), cap, deadline
