"""What each write transaction of the bot costs, statement by statement (issue #15 item 6).

Only for measuring (``BENCH_STATEMENTS=FILE`` in ``bench.gridbot_proc``; read by
``bench.report_cost``). Every statement the writer runs (``storage.db.Transaction``: on the
event loop's thread, and the queued ones sent with the next) is timed with its thread CPU and
the read system calls it made: SQLite asks the OS for each page its own cache lacks, so
``reads`` counts pages missed (from the kernel's cache or the disk), a figure the machine's
load does not move. COMMIT is timed apart (its fsync, and the WAL checkpoint when one lands
on it). One JSON line per outer transaction: its statements, begin→commit wall and CPU.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import storage.db as storage_db

_LOCAL = threading.local()
WRITERS: set[int] = set()  # id() of the writer's sqlite3 connection


def _syscr() -> int:
    """Read system calls of the calling thread so far (0 where /proc says nothing)."""
    fd = getattr(_LOCAL, "fd", None)
    if fd is None:
        try:
            fd = _LOCAL.fd = os.open("/proc/thread-self/io", os.O_RDONLY)
        except OSError:
            fd = _LOCAL.fd = -1
    if fd < 0:
        return 0
    for line in os.pread(fd, 512, 0).split(b"\n"):
        if line.startswith(b"syscr:"):
            return int(line[6:])
    return 0


def _process_writes() -> int:
    with open("/proc/self/io", "rb") as file:
        for line in file.read().split(b"\n"):
            if line.startswith(b"syscw:"):
                return int(line[6:])
    return 0


class _Recorder:
    def __init__(self) -> None:
        self.current: list[list[Any]] | None = None

    def add(self, sql: str, wall: float, cpu: float, reads: int, rows: int = 1) -> None:
        if self.current is not None:
            self.current.append([" ".join(sql.split())[:90], wall, cpu, reads, rows])


RECORDER = _Recorder()


class _TimedCursor:
    """What ``conn.execute`` returned, with its ``fetchall`` timed into the statement."""

    def __init__(self, cursor: sqlite3.Cursor, entry: list[Any] | None) -> None:
        self._cursor = cursor
        self._entry = entry

    def fetchall(self) -> list[Any]:
        wall, cpu, reads = time.perf_counter(), time.thread_time(), _syscr()
        rows = self._cursor.fetchall()
        if self._entry is not None:
            self._entry[1] += time.perf_counter() - wall
            self._entry[2] += time.thread_time() - cpu
            self._entry[3] += _syscr() - reads
        return rows

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def _timed(call: Any, sql: str, *args: Any) -> tuple[Any, list[Any] | None]:
    wall, cpu, reads = time.perf_counter(), time.thread_time(), _syscr()
    result = call(sql, *args)
    RECORDER.add(sql, time.perf_counter() - wall, time.thread_time() - cpu, _syscr() - reads)
    entry = RECORDER.current[-1] if RECORDER.current else None
    return result, entry


class _Conn:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, *args: Any) -> Any:
        cursor, entry = _timed(self._conn.execute, sql, *args)
        return _TimedCursor(cursor, entry)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class _Cursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, *args: Any) -> Any:
        return _timed(self._cursor.execute, sql, *args)[0]

    def executemany(self, sql: str, rows: Any) -> Any:
        rows = list(rows)
        result, entry = _timed(self._cursor.executemany, sql, rows)
        if entry is not None:
            entry[4] = len(rows)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def install(path: Path) -> None:
    """Trace every outer write transaction into ``path`` (JSON lines), from now on."""
    out = path.open("w", encoding="utf-8")
    raw_connection, raw_cursor = storage_db._raw_connection, storage_db._raw_cursor

    def traced_connection(conn: Any) -> Any:
        raw = raw_connection(conn)
        return _Conn(raw) if id(raw) in WRITERS else raw

    storage_db._raw_connection = traced_connection  # type: ignore[assignment]
    storage_db._raw_cursor = lambda cursor: _Cursor(raw_cursor(cursor))  # type: ignore[assignment,return-value]
    transaction = storage_db.Database.transaction
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def traced(self: storage_db.Database) -> Any:
        if storage_db._current.get() is not None:
            async with transaction(self) as tx:
                yield tx
            return
        statements: list[list[Any]] = []
        started: list[float] = []
        cpu0 = time.thread_time()
        control = storage_db.Transaction._control

        WRITERS.add(id(raw_connection(self._writer)))
        async with transaction(self) as tx:
            RECORDER.current = statements
            started.append(time.perf_counter())

            async def timed_control(sql: str) -> None:
                # the process's writes: a COMMIT that checkpoints the WAL writes its pages
                wall, writes = time.perf_counter(), _process_writes()
                await control(tx, sql)
                wrote = _process_writes() - writes
                statements.append([sql, time.perf_counter() - wall, 0.0, wrote, 1])

            tx._control = timed_control  # type: ignore[method-assign]
            try:
                yield tx
            finally:
                RECORDER.current = None
        # the commit ran (in aiosqlite's thread) when the block above ended
        record = {
            "t": time.time() - (time.perf_counter() - started[0] if started else 0.0),
            "wall": time.perf_counter() - (started[0] if started else 0.0),
            "cpu": time.thread_time() - cpu0,
            "statements": statements,
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()

    storage_db.Database.transaction = traced  # type: ignore[method-assign]
