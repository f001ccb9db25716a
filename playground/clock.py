"""The trainer's clock: it stands still until a button moves it (the bot and the sandbox
share it, so reminders, digests and message times follow the simulated day)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.workcal import WorkCalendar

JUMPS = ("hour", "workday", "morning", "eight")


class PlayClock:
    """A ``bot.core.clock.Clock`` that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the play clock needs a timezone-aware start")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def timestamp(self) -> float:
        """Unix time, for the sandbox (message dates)."""
        return self._now.timestamp()

    def set(self, moment: datetime) -> None:
        self._now = moment


def jump_target(now: datetime, jump: str, tz: ZoneInfo, calendar: WorkCalendar) -> datetime:
    """Where a clock button takes ``now``: one hour on, the same time on the next working day,
    or the next 07:30 / 08:00 (local time) strictly after ``now``."""
    if jump == "hour":
        return now + timedelta(hours=1)
    if jump == "workday":
        return calendar.add_working_days(now, 1)
    if jump in ("morning", "eight"):
        wall = time(7, 30) if jump == "morning" else time(8, 0)
        local = now.astimezone(tz)
        target = datetime.combine(local.date(), wall, tzinfo=tz)
        if target <= local:
            target = datetime.combine(local.date() + timedelta(days=1), wall, tzinfo=tz)
        return target
    raise ValueError(f"unknown clock jump {jump!r} (one of {', '.join(JUMPS)})")
