"""Telegram's sending limits as sliding windows, checked before each send.

Defaults (config ``[outbox]``): 30 messages a second overall, 20 a minute per group,
1 a second per private chat. A 429 from Telegram pauses the chat (or everything) for
``retry_after`` on top of this.

Times are the sender's Clock in seconds (issue #12). A clock set back (a test moving its
fake clock to another day, or the system clock corrected) must not stall a chat until the
old time comes round again: sends counted "in the future" count as now.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    global_per_second: float = 30.0
    group_per_minute: int = 20
    private_per_second: float = 1.0


class _Window:
    """At most ``count`` events in any ``seconds``-long window."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count = max(1, count)
        self.seconds = seconds
        self.events: deque[float] = deque()

    def wait(self, now: float) -> float:
        if self.events and self.events[-1] > now:  # the clock went back
            self.events = deque(min(event, now) for event in self.events)
        while self.events and self.events[0] <= now - self.seconds:
            self.events.popleft()
        if len(self.events) < self.count:
            return 0.0
        return self.events[0] + self.seconds - now

    def record(self, now: float) -> None:
        self.events.append(now)

    def move(self, started: float, finished: float) -> None:
        for i in range(len(self.events) - 1, -1, -1):
            if self.events[i] == started:
                self.events[i] = finished
                return


class RateLimiter:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._global = _Window(int(limits.global_per_second), 1.0)
        self._chats: dict[int, _Window] = {}
        self._paused_until: dict[int | None, float] = {}  # None: every chat
        self._paused_for: dict[int | None, float] = {}  # the length of that pause

    def wait(self, chat_id: int, now: float) -> float:
        """Seconds until a message to ``chat_id`` may go (0 if now)."""
        for key, until in list(self._paused_until.items()):
            if until - now > self._paused_for.get(key, 0.0):  # the clock went back
                self._paused_until[key] = now + self._paused_for[key]
        paused = max(self._paused_until.get(chat_id, 0.0), self._paused_until.get(None, 0.0))
        return max(paused - now, self._global.wait(now), self._window(chat_id).wait(now), 0.0)

    def record(self, chat_id: int, now: float) -> None:
        self._global.record(now)
        self._window(chat_id).record(now)

    def settle(self, chat_id: int, started: float, finished: float) -> None:
        """Count a send at the moment its answer came back, which is no earlier than the
        moment Telegram counted it, so our windows never run ahead of Telegram's."""
        self._global.move(started, finished)
        self._window(chat_id).move(started, finished)

    def pause(self, chat_id: int | None, until: float, now: float) -> None:
        if until > self._paused_until.get(chat_id, 0.0):
            self._paused_until[chat_id] = until
            self._paused_for[chat_id] = max(until - now, 0.0)

    def _window(self, chat_id: int) -> _Window:
        window = self._chats.get(chat_id)
        if window is None:
            if chat_id < 0:  # groups and channels have negative ids
                window = _Window(self.limits.group_per_minute, 60.0)
            else:
                window = _Window(1, 1.0 / self.limits.private_per_second)
            self._chats[chat_id] = window
        return window
