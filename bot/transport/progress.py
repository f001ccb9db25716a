"""A signal that the pipeline moved: an update stored or dispatched, a send settled.

``GridBot.wait_idle`` (tests, the demo) waits on it between looks at the inbox and outbox
instead of polling on a timer, which cost every test step up to a poll interval of nothing
happening (issue #12 item 6).
"""

from __future__ import annotations

import asyncio


class Progress:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    def clear(self) -> None:
        """Forget earlier signals: call before looking, so a change while looking counts."""
        self._event.clear()

    async def wait(self, timeout: float) -> None:  # noqa: ASYNC109
        """Until the next signal, or ``timeout`` seconds for a change nobody signals."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            pass
