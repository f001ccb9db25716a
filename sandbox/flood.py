"""Sliding-window flood control modelled on Telegram's documented bot limits."""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

# Methods that count as "sending" for flood control purposes.
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendPoll",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
        "stopPoll",
    }
)


@dataclass(frozen=True)
class FloodLimits:
    global_per_second: int = 30
    group_per_minute: int = 20
    private_per_second: int = 1

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _count_in(times: list[float], start: float, end: float) -> int:
    """Number of timestamps t with start < t <= end (times sorted)."""
    return bisect.bisect_right(times, end) - bisect.bisect_right(times, start)


def _max_window(times: list[float], seconds: float) -> int:
    """Largest number of timestamps inside any half-open window of ``seconds`` length."""
    best = 0
    lo = 0
    for hi, t in enumerate(times):
        while times[lo] <= t - seconds:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


class FloodControl:
    """Records every accepted send and decides whether a new one must get a 429."""

    def __init__(self) -> None:
        self.limits: FloodLimits | None = None
        self.per_chat: dict[int, list[float]] = defaultdict(list)
        self.all_sends: list[float] = []

    def retry_after(self, chat_id: int, chat_type: str, now: float) -> int | None:
        """Whole seconds to wait if a send to ``chat_id`` at ``now`` would break a limit."""
        limits = self.limits
        if limits is None:
            return None
        waits: list[float] = []
        checks: list[tuple[list[float], int, float]] = [
            (self.all_sends, limits.global_per_second, 1.0)
        ]
        if chat_type == "private":
            checks.append((self.per_chat[chat_id], limits.private_per_second, 1.0))
        else:
            checks.append((self.per_chat[chat_id], limits.group_per_minute, 60.0))
        for times, limit, window in checks:
            if limit <= 0:
                continue
            if _count_in(times, now - window, now) >= limit:
                # the window frees once the oldest send that is still inside it expires
                inside = times[bisect.bisect_right(times, now - window) :]
                oldest = inside[-limit]
                waits.append(oldest + window - now)
        if not waits:
            return None
        return max(1, math.ceil(max(waits)))

    def record(self, chat_id: int, now: float) -> None:
        bisect.insort(self.per_chat[chat_id], now)
        bisect.insort(self.all_sends, now)

    def max_in_window(self, chat_id: int, seconds: float) -> int:
        return _max_window(self.per_chat.get(chat_id, []), seconds)

    def max_in_window_global(self, seconds: float) -> int:
        return _max_window(self.all_sends, seconds)
