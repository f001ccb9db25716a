"""A sweep's writes in short transactions, cut by the time they take (issue #15 item 6).

A write transaction's statements run on the event loop's thread (storage.db.Transaction), and
while one is open every resident's update waits for the writer. A sweep wrote ten items (chase
steps, feedback slips) per transaction: 0.5–1 ms of statements each, so a slice held the loop
and the writer 5–20 ms, the tail of the latency bench. Now a slice ends as soon as its work
has taken ``SLICE_SECONDS`` (one item at least, ``most`` at most), then commits and lets the
waiting updates in. Each item still commits with the notices it queued, in the same
transaction, so a crash loses nothing and repeats nothing.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Final, TypeVar

# Work per write transaction before it commits: an update arriving meanwhile waits about this
# (plus the commit), well under the few milliseconds of a reply's own path.
SLICE_SECONDS: Final = 0.001

Item = TypeVar("Item")
Out = TypeVar("Out")


async def write_in_slices(
    transaction: Callable[[], AbstractAsyncContextManager[Any]],
    items: Sequence[Item],
    work: Callable[[Sequence[Item]], Awaitable[list[Out]]],
    deliver: Callable[[list[Out]], Awaitable[None]] | None,
    *,
    most: int,
) -> list[Out]:
    """``work`` on each item in turn, inside ``transaction()``s of at most ``most`` items that
    end once ``SLICE_SECONDS`` of work is done; ``deliver`` gets each transaction's outputs
    inside it (the outbox rows of what it recorded). Returns every output."""
    done: list[Out] = []
    at = 0
    while at < len(items):
        async with transaction():
            started = time.perf_counter()
            part: list[Out] = []
            end = min(at + most, len(items))
            while at < end:
                part += await work(items[at : at + 1])
                at += 1
                if time.perf_counter() - started >= SLICE_SECONDS:
                    break
            if deliver is not None:
                await deliver(part)
        done += part
    return done
