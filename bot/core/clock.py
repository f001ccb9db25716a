"""The one source of "now" for services, so tests can move time by hand."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class RunningClock:
    """``base`` plus the real seconds since this clock was made (``speed`` times faster).

    For the sender when the services' clock only moves when told (tests, ``gridbot play``):
    the sender's sends are real round trips paced by rate windows, so its time must run on
    by itself; a jump of the base clock (a trainer's "+1 小时") still carries it along.
    """

    def __init__(self, base: Clock, speed: float = 1.0) -> None:
        self.base = base
        self.speed = speed
        self._started = time.monotonic()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._started) * self.speed
        return self.base.now() + timedelta(seconds=elapsed)

    def seconds(self) -> float:
        """``now()`` as a Unix timestamp (a sandbox given it counts the same time)."""
        return self.now().timestamp()
