"""Where the event loop stalls (issue #15 item 6): every callback that holds the loop longer
than a threshold, with its thread CPU and, sampled meanwhile, the code it was running.

A message arriving while the loop runs one long callback waits for it, and so does one
arriving while the loop's thread waits for the GIL that another thread (aiosqlite's, turning
rows into Python objects) holds: wall time counts both, ``thread_time`` only the first. A
watchdog thread looks every millisecond; when the running callback has gone on longer than
``sample_after`` it records the loop thread's stack, so a stall is traced to a line, not only
to the task it belongs to. Only for measuring: it wraps ``asyncio.Handle._run``.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = str(Path(__file__).resolve().parents[1])


@dataclass
class Stall:
    started: float  # perf_counter
    wall: float
    cpu: float
    what: str
    phase: str
    sites: list[str] = field(default_factory=list)  # sampled project lines, innermost first


def _sites(frame: FrameType | None) -> list[str]:
    """The stack's frames in the project (bot/, storage/), innermost first, and the leaf."""
    out: list[str] = []
    leaf = None
    while frame is not None:
        code = frame.f_code
        if leaf is None:
            leaf = f"{Path(code.co_filename).name}:{code.co_name}:{frame.f_lineno}"
        if code.co_filename.startswith(ROOT) and "/bench/" not in code.co_filename:
            name = code.co_filename[len(ROOT) + 1 :]
            out.append(f"{name}:{code.co_name}:{frame.f_lineno}")
        frame = frame.f_back
    return ([f"leaf {leaf}"] if leaf else []) + out[:4]


class LoopWatch:
    """Install with :meth:`install` on the running loop's thread; read :attr:`stalls`."""

    def __init__(self, threshold: float = 0.001, sample_after: float = 0.002) -> None:
        self.threshold = threshold
        self.sample_after = sample_after
        self.stalls: list[Stall] = []
        self.phase = ""  # set by the caller around the work it wants told apart
        self.callbacks = 0
        self.loop_cpu = 0.0
        self._current_start: float | None = None
        self._samples: list[list[str]] = []
        self._thread_id = 0
        self._stop = threading.Event()
        self._original: Any = None
        self.gc_pauses: list[tuple[int, float]] = []  # (generation, seconds) on the loop thread
        self._gc_start = 0.0

    def install(self) -> None:
        self._thread_id = threading.get_ident()
        watch = self
        original = self._original = asyncio.events.Handle._run

        def _run(handle: asyncio.events.Handle) -> None:
            cpu0 = time.thread_time()
            start = watch._current_start = time.perf_counter()
            watch._samples = []
            try:
                original(handle)
            finally:
                wall = time.perf_counter() - start
                cpu = time.thread_time() - cpu0
                watch._current_start = None
                watch.callbacks += 1
                watch.loop_cpu += cpu
                if wall >= watch.threshold:
                    sites = [s for sample in watch._samples for s in sample]
                    watch.stalls.append(
                        Stall(start, wall, cpu, _describe(handle), watch.phase, sites)
                    )

        asyncio.events.Handle._run = _run  # type: ignore[method-assign]
        threading.Thread(target=self._watch, daemon=True, name="loopwatch").start()
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if threading.get_ident() != self._thread_id:
            return
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gc_pauses.append((info["generation"], time.perf_counter() - self._gc_start))

    def uninstall(self) -> None:
        self._stop.set()
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)
        if self._original is not None:
            asyncio.events.Handle._run = self._original  # type: ignore[method-assign]

    def _watch(self) -> None:
        while not self._stop.wait(0.001):
            start = self._current_start
            if start is None or time.perf_counter() - start < self.sample_after:
                continue
            frame = sys._current_frames().get(self._thread_id)
            if frame is not None and self._current_start == start:
                self._samples.append(_sites(frame))

    @contextmanager
    def phase_of(self, name: str) -> Iterator[None]:
        before, self.phase = self.phase, name
        try:
            yield
        finally:
            self.phase = before


def _describe(handle: asyncio.events.Handle) -> str:
    callback = getattr(handle, "_callback", None)
    task = getattr(callback, "__self__", None)
    if isinstance(task, asyncio.Task):
        coro = task.get_coro()
        return getattr(coro, "__qualname__", repr(coro))
    return getattr(callback, "__qualname__", repr(callback))


def summary(stalls: list[Stall], top: int = 12) -> str:
    """Counts and the sampled sites of the stalls, longest first."""
    lines = []
    by_phase: dict[str, list[Stall]] = {}
    for stall in stalls:
        by_phase.setdefault(stall.phase or "-", []).append(stall)
    for phase, group in sorted(by_phase.items()):
        walls = sorted((s.wall for s in group), reverse=True)
        lines.append(
            f"  {phase}: {len(group)} callbacks >= 1 ms, {sum(w >= 0.005 for w in walls)} >= 5 ms,"
            f" max {walls[0] * 1000:.1f} ms, wall {sum(walls) * 1000:.0f} ms,"
            f" cpu {sum(s.cpu for s in group) * 1000:.0f} ms"
        )
    sites: Counter[str] = Counter()
    for stall in stalls:
        for site in dict.fromkeys(stall.sites):
            sites[site] += 1
    lines.append("  sampled sites (stalls seen there):")
    lines += [f"    {n:4d} {site}" for site, n in sites.most_common(top)]
    lines.append("  longest:")
    for stall in sorted(stalls, key=lambda s: -s.wall)[:top]:
        lines.append(
            f"    {stall.wall * 1000:7.1f} ms wall {stall.cpu * 1000:6.1f} cpu"
            f" [{stall.phase}] {stall.what}: {' <- '.join(stall.sites[:3])}"
        )
    return "\n".join(lines)
