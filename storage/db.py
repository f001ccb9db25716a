"""The database: one SQLite file, one writer, numbered migrations.

Why this shape:
- WAL lets readers run beside the single writer; ``synchronous=FULL`` makes every commit
  durable across a power cut, because a resident's report must not vanish (issue #2).
- All writes go through :meth:`Database.transaction`, serialised by an asyncio lock, so two
  coroutines can never interleave statements of different transactions on the one connection.
- Transactions nest: an inner ``transaction()`` in the same task becomes a SAVEPOINT. The intake
  loop opens the outer one around a whole update, so a handler's state changes, the outbox rows
  it queues and the inbox "done" mark commit together (architecture.md, invariant 2).
  Repository methods use ``writing()``, which joins the current transaction without a
  savepoint: a savepoint costs two statements on every call (issue #7's profile).
- Reads outside a transaction use a second connection and never wait for the writer; small
  indexed reads on the hot path (the sender's) a third one on the event loop's thread
  (:meth:`Database.fetchall_now`), which skips the hop to a worker thread.
- The WAL is copied back into the file by a connection of its own every CHECKPOINT_EVERY
  commits, beside the writer, never inside one of its commits (``Database._count_commit``).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]
Row = aiosqlite.Row

_T = TypeVar("_T")
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@lru_cache(maxsize=1024)
def _writes(sql: str) -> bool:
    """Whether a query writes (``RETURNING``): the same few hundred statements come back
    on every update, so the answer is looked up, not searched for each time."""
    return _RETURNING.search(sql) is not None


class SchemaTooNew(RuntimeError):
    """The database was written by a newer gridbot; refuse to touch it."""


class Transaction:
    """Statements inside one (possibly nested) write transaction.

    A hop to aiosqlite's worker thread and back costs some 100–250 µs of CPU on the machines
    measured, a hundred times a statement (two thread wake-ups, a GIL hand-over and a
    self-pipe write; issue #7, ``bench/README.md``). So the statements of a write transaction
    run on the event loop's own thread, in the call (issue #15 item 6): the transaction holds
    the writer (Database's lock), so nothing else uses the connection meanwhile, and one
    indexed statement takes microseconds. Only what waits on the disk or on another process
    goes to the thread: BEGIN IMMEDIATE when another process holds the write lock (its busy
    wait), COMMIT (the fsync) and ROLLBACK. Besides:

    - writes reuse one cursor, whose rowcount and lastrowid are read at once, and reads fetch
      all their rows in the call;
    - savepoint control statements (SAVEPOINT, RELEASE, ROLLBACK TO) and deferred writes are
      queued and run just before the next statement, consecutive deferred writes with the
      same SQL as one ``executemany``.

    A statement never yields to the event loop, so a caller that runs many in a row without
    another await holds the loop meanwhile; intake yields between updates for that reason.
    """

    def __init__(self, conn: aiosqlite.Connection, cursor: aiosqlite.Cursor) -> None:
        self._conn = conn
        self._cursor = cursor
        # Tasks started inside a transaction share it; the lock keeps one statement's
        # rowcount from being read after another task's statement replaced it.
        self._cursor_lock = asyncio.Lock()
        self._after_commit: list[Callable[[], None]] = []
        self._on_rollback: list[Callable[[], None]] = []
        self._savepoints: list[_Savepoint] = []  # innermost last
        # Owed before the next statement: savepoint control (rows None) and deferred writes.
        self._queued: list[tuple[str, list[Params] | None]] = []

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        cursor = _raw_cursor(self._cursor)
        async with self._cursor_lock:
            return await self._send(lambda: cursor.execute(sql, params).rowcount, write=True)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """Run one statement per row in one hop; return the rows changed in all."""
        cursor = _raw_cursor(self._cursor)
        async with self._cursor_lock:
            return await self._send(lambda: cursor.executemany(sql, rows).rowcount, write=True)

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT and return the new row's id."""
        cursor = _raw_cursor(self._cursor)
        async with self._cursor_lock:
            rowid = await self._send(lambda: cursor.execute(sql, params).lastrowid, write=True)
        assert rowid is not None
        return rowid

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        return next(iter(await self.fetchall(sql, params)), None)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Rows of a query; with ``RETURNING``, also of an INSERT or UPDATE (then a write)."""
        write = _writes(sql)
        conn = _raw_connection(self._conn)
        async with self._cursor_lock:
            rows = await self._send(lambda: conn.execute(sql, params).fetchall(), write=write)
        return cast(list[Row], rows)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the outermost transaction has committed (never on rollback,
        nor when the savepoint it was registered in rolled back)."""
        self._after_commit.append(callback)

    def on_rollback(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` if the writes made so far in the current scope are undone: when
        the savepoint it was registered in rolls back, or the whole transaction does. For
        caches of rows that follow this transaction's writes before they commit."""
        self._on_rollback.append(callback)

    def defer(self, sql: str, params: Params) -> None:
        """A write whose result nobody reads (an outbox row): it is sent with the next
        statement, and consecutive ones with the same SQL as one ``executemany``.

        It runs before anything that could see it: every later statement of this
        transaction, the end of the update's savepoint and the commit flush it first. A
        failure is raised there, so the update it belongs to still rolls back.
        """
        self._open_savepoints()
        last = self._queued[-1] if self._queued else None
        if last is not None and last[0] == sql and last[1] is not None:
            last[1].append(params)
        else:
            self._queued.append((sql, [params]))

    async def flush(self) -> None:
        """Run what is queued (deferred writes, savepoint control) now."""
        if self._queued:
            async with self._cursor_lock:
                await self._send(lambda: None, write=False)

    def _queue(self, sql: str) -> None:
        self._queued.append((sql, None))

    def _rolled_back(self, start: int) -> None:
        """The writes of the scope whose on_rollback callbacks begin at ``start`` are undone."""
        undone, self._on_rollback[start:] = self._on_rollback[start:], []
        for callback in undone:
            callback()

    def _open_savepoints(self) -> None:
        """Queue the SAVEPOINTs that no write has needed yet (see _Nested).

        Savepoints opened at the same moment (a handler's transaction inside the update's,
        with no write in between) mark the same state, so one SAVEPOINT serves them all:
        rolling the inner one back is rolling back to that shared name.
        """
        opened_now: str | None = None
        for savepoint in self._savepoints:
            if savepoint.opened:
                continue
            if opened_now is None:
                opened_now = savepoint.name
                self._queue(f"SAVEPOINT {opened_now}")
            savepoint.name = opened_now
            savepoint.opened = True

    async def _send(
        self, statement: Callable[[], _T], *, write: bool, in_thread: bool = False
    ) -> _T:
        """Run the queued statements, then ``statement``: here, or with ``in_thread`` in one
        hop to aiosqlite's thread (for what waits on the disk: COMMIT's fsync).

        The first one that fails raises, and the ones after it do not run; the update they
        belong to rolls back anyway.
        """
        if write:
            self._open_savepoints()
        queued, self._queued = self._queued, []
        if not queued:
            if in_thread:
                return await _in_thread(self._conn, statement)
            return statement()
        conn, cursor = _raw_connection(self._conn), _raw_cursor(self._cursor)

        def queued_then_statement() -> _T:
            for sql, rows in queued:
                if rows is None:
                    conn.execute(sql)
                else:
                    cursor.executemany(sql, rows)
            return statement()

        if in_thread:
            return await _in_thread(self._conn, queued_then_statement)
        return queued_then_statement()

    async def _control(self, sql: str) -> None:
        """Run a control statement in aiosqlite's thread, after any queued ones (COMMIT)."""
        conn = _raw_connection(self._conn)
        async with self._cursor_lock:
            await self._send(lambda: conn.execute(sql), write=False, in_thread=True)

    async def _begin(self) -> None:
        """BEGIN IMMEDIATE here when the write lock is free (the usual case: one process),
        else in aiosqlite's thread, whose busy wait (busy_timeout) must not hold the loop."""
        conn = _raw_connection(self._conn)
        conn.execute("PRAGMA busy_timeout=0")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            pass  # another process writes: wait for it below, off the loop
        else:
            return
        finally:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await self._control("BEGIN IMMEDIATE")


# aiosqlite runs every call in the connection's worker thread; these three reach past its
# public API (one hop per call) to run a transaction's statements here, or several in one
# call there. The writer is opened with check_same_thread=False for that (_connect).
def _raw_connection(conn: aiosqlite.Connection) -> sqlite3.Connection:
    return conn._conn


def _raw_cursor(cursor: aiosqlite.Cursor) -> sqlite3.Cursor:
    return cursor._cursor


async def _in_thread(conn: aiosqlite.Connection, work: Callable[[], _T]) -> _T:
    return cast(_T, await conn._execute(work))  # type: ignore[no-untyped-call]


class _Savepoint:
    __slots__ = ("name", "opened")

    def __init__(self, name: str) -> None:
        self.name = name
        self.opened = False


class _Nested:
    """A nested transaction, at the cost of as few statements as possible (issue #7).

    The SAVEPOINT is issued lazily, before the first write inside it: a scope that only
    reads (most updates are chatter nobody acts on) costs nothing. On success only the
    outermost savepoint is RELEASEd, which releases every savepoint opened after it, so
    an inner one costs one statement instead of two. On failure ROLLBACK TO undoes
    exactly the scope's writes, as before. None of these is a round trip of its own:
    they go with the next statement (Transaction._send).
    """

    __slots__ = ("_callbacks", "_db", "_outermost", "_savepoint", "_tx", "_undone")

    def __init__(self, db: Database, tx: Transaction) -> None:
        self._db = db
        self._tx = tx

    async def __aenter__(self) -> Transaction:
        db, tx = self._db, self._tx
        db._savepoints += 1
        self._savepoint = _Savepoint(f"sp{db._savepoints}")
        self._outermost = not tx._savepoints
        tx._savepoints.append(self._savepoint)
        self._callbacks = len(tx._after_commit)
        self._undone = len(tx._on_rollback)
        return tx

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        tx, savepoint = self._tx, self._savepoint
        if kind is None:
            if self._outermost:  # an update's deferred writes fail inside the update
                try:
                    await tx.flush()
                except BaseException:
                    self._failed()
                    raise
            tx._savepoints.remove(savepoint)
            if savepoint.opened and self._outermost:
                tx._queue(f"RELEASE {savepoint.name}")
            return
        self._failed()  # the exception goes on

    def _failed(self) -> None:
        tx, savepoint = self._tx, self._savepoint
        del tx._after_commit[self._callbacks :]  # what it was to follow never happened
        tx._rolled_back(self._undone)
        tx._savepoints.remove(savepoint)
        if savepoint.opened:
            tx._queue(f"ROLLBACK TO {savepoint.name}")
            if self._outermost:
                tx._queue(f"RELEASE {savepoint.name}")


class _Joined:
    """The caller's transaction, joined as it is (Database.writing)."""

    __slots__ = ("_tx",)

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def __aenter__(self) -> Transaction:
        return self._tx

    async def __aexit__(self, *_: object) -> None:
        return None


_current: contextvars.ContextVar[Transaction | None] = contextvars.ContextVar(
    "gridbot_transaction", default=None
)
# The connection holding this task's read snapshot (Database.snapshot), if any.
_snapshot: contextvars.ContextVar[aiosqlite.Connection | None] = contextvars.ContextVar(
    "gridbot_snapshot", default=None
)


class Database:
    """An open gridbot database. Create with :meth:`open`, end with :meth:`close`."""

    # Which engine: the few places that differ (backups, the sent log, locks, issue numbers)
    # ask this; storage.backends.postgres.PgDatabase says "postgresql".
    backend = "sqlite"

    def __init__(
        self,
        path: Path,
        writer: aiosqlite.Connection,
        cursor: aiosqlite.Cursor,
        reader: aiosqlite.Connection,
    ):
        self.path = path
        self._writer = writer
        self._cursor = cursor  # the writer's one cursor (see Transaction)
        self._reader = reader
        self._lock = asyncio.Lock()
        self._savepoints = 0
        self._closed = False
        # Connections whose snapshot ended, kept for the next one (see snapshot()).
        self._idle_snapshots: list[aiosqlite.Connection] = []
        # Snapshots whose BEGIN waits for their first read (see fetchall).
        self._unbegun: set[aiosqlite.Connection] = set()
        # Small reads on the event loop's thread (fetchall_now), opened at the first one.
        self._quick: sqlite3.Connection | None = None
        # Durable commits so far (each one an fsync): tests count them to hold intake's
        # "one commit per quick update" (issue #15 item 4) without measuring time.
        self.commits = 0
        # The WAL's checkpoints: a connection of their own, in its own thread (see
        # _count_commit); the one running, if any; commits since the last one began.
        self._checkpointer: aiosqlite.Connection | None = None
        self._checkpointing: asyncio.Task[None] | None = None
        self._uncheckpointed = 0
        self.checkpoints = 0  # begun so far (tests)

    @classmethod
    async def open(cls, path: Path | str, *, migrations: Traversable | None = None) -> Database:
        """Open (creating if needed) the database at ``path`` and apply pending migrations."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = await _connect(path)
        try:
            # The writer's commits never checkpoint (Database._count_commit does, off the
            # event loop's path); migrations first, so a long upgrade's WAL is copied back
            # by SQLite as before.
            await apply_migrations(writer, migrations)
            await writer.execute("PRAGMA wal_autocheckpoint=0")
            cursor = await writer.cursor()
            reader = await _connect(path)
        except BaseException:
            await writer.close()
            raise
        return cls(path, writer, cursor, reader)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.wait_checkpoint()
        if self._checkpointer is not None:
            await self._checkpointer.close()
        idle, self._idle_snapshots = self._idle_snapshots, []
        for conn in idle:
            await conn.close()
        if self._quick is not None:
            self._quick.close()
        await self._cursor.close()
        await self._reader.close()
        await self._writer.close()

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A write transaction; nested calls in the same task become savepoints."""
        self._check_open()
        outer = _current.get()
        if outer is not None:
            # A class, not a generator: a handler's nested transaction is the common case
            # (several per update), and two generator-based context managers per savepoint
            # cost more than its SQL (issue #15 item 6).
            return _Nested(self, outer)
        return self._outermost()

    @asynccontextmanager
    async def _outermost(self) -> AsyncIterator[Transaction]:
        async with self._lock:
            tx = Transaction(self._writer, self._cursor)
            token = _current.set(tx)
            await tx._begin()
            try:
                yield tx
                await tx.flush()  # a deferred write that fails must roll back, not commit
            except BaseException:
                tx._queued.clear()  # everything is undone anyway
                tx._rolled_back(0)
                await self._writer.rollback()
                raise
            finally:
                _current.reset(token)
            try:
                await tx._control("COMMIT")
            except BaseException:
                tx._rolled_back(0)  # whatever state the file is left in, forget what we saw
                raise
            self._count_commit()
        for callback in tx._after_commit:
            callback()

    def _count_commit(self) -> None:
        """Copy the WAL back into the database file every CHECKPOINT_EVERY commits, beside
        the writer instead of inside one of its commits.

        SQLite's own (automatic) checkpoint runs in the COMMIT that takes the WAL past 1,000
        pages: that commit writes every page changed since the last one into the file and
        fsyncs it too, and every update waiting for the writer waits for it (about one commit
        a second at 100 messages a second; 2-7 ms each against 0.8 ms, more under load,
        bench.report_cost; issue #15 item 6). A PASSIVE checkpoint on a connection of its own
        neither waits for the writer nor holds it: commits go on appending to the WAL while
        it copies what was committed before it began.
        """
        self.commits += 1
        self._uncheckpointed += 1
        if self._uncheckpointed < CHECKPOINT_EVERY or self._checkpointing is not None:
            return
        self._uncheckpointed = 0
        self.checkpoints += 1
        task = asyncio.get_running_loop().create_task(self._checkpoint_passive())
        self._checkpointing = task

    async def _checkpoint_passive(self) -> None:
        try:
            if self._checkpointer is None:
                self._checkpointer = await _connect(self.path)
            await self._checkpointer.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # the next one copies what this one did not; nothing is lost
            log.warning("WAL checkpoint failed; retried after the next commits", exc_info=True)
        finally:
            self._checkpointing = None

    async def wait_checkpoint(self) -> None:
        """Wait for the checkpoint under way, if any (close, tests)."""
        if self._checkpointing is not None:
            await asyncio.gather(self._checkpointing, return_exceptions=True)

    def writing(self) -> AbstractAsyncContextManager[Transaction]:
        """For repository methods: join the caller's transaction without a savepoint, or
        open one. A savepoint costs two statements, and a repository call that fails
        raises through the caller's own transaction or savepoint, which rolls it back."""
        current = _current.get()
        if current is not None:
            return _Joined(current)  # a class, not a generator: see transaction()
        return self.transaction()

    async def checkpoint(self) -> None:
        """Copy the WAL into the database file and truncate the WAL to zero bytes.

        Run after an erasure (``/forget``) so old page images do not linger in the ``-wal``.
        """
        self._check_open()
        async with self._lock:
            # Its row read to the end: a statement left open on the writer would make the
            # next COMMIT fail ("SQL statements in progress").
            await self._writer.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[None]:
        """This task's reads outside a transaction see one moment of the database until the
        block ends, so the queries that make up one report (a digest's totals) agree with each
        other while updates keep committing. A connection of its own holds the read
        transaction: on the shared reader it would freeze what intake and the sender see.

        The connection is kept for the next snapshot once its read transaction has ended:
        opening one (a thread, the pragmas, SQLite reading the schema on its first query)
        was nine tenths of a snapshot's cost, paid by every sweep (issue #12 item 6)."""
        self._check_open()
        conn = self._idle_snapshots.pop() if self._idle_snapshots else await _connect(self.path)
        token = _snapshot.set(conn)
        # BEGIN is sent with the first read, one thread hop fewer: SQLite's (deferred) BEGIN
        # takes no snapshot until that read anyway.
        self._unbegun.add(conn)
        try:
            yield
        finally:
            _snapshot.reset(token)
            self._unbegun.discard(conn)
            await self._end_snapshot(conn)

    async def _end_snapshot(self, conn: aiosqlite.Connection) -> None:
        """End the snapshot's read transaction, whatever happened; keep the connection for
        the next one unless the database closed meanwhile or enough are kept already."""
        try:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")  # it only read
        except BaseException:
            await conn.close()  # in a state nobody should inherit
            raise
        if self._closed or len(self._idle_snapshots) >= IDLE_SNAPSHOTS:
            await conn.close()
        else:
            self._idle_snapshots.append(conn)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """Read one row: inside a transaction from it, else from the reader connection."""
        return next(iter(await self.fetchall(sql, params)), None)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        tx = _current.get()
        if tx is not None:
            return await tx.fetchall(sql, params)
        self._check_open()
        snapshot = _snapshot.get()
        if snapshot is None:
            return list(await self._reader.execute_fetchall(sql, params))
        if snapshot in self._unbegun:
            self._unbegun.discard(snapshot)
            raw = _raw_connection(snapshot)

            def begin_then_read() -> list[Row]:
                raw.execute("BEGIN")
                return cast(list[Row], raw.execute(sql, params).fetchall())

            return await _in_thread(snapshot, begin_then_read)
        return list(await snapshot.execute_fetchall(sql, params))

    async def fetchall_now(self, sql: str, params: Params = ()) -> list[Row]:
        """A small read by an index (a few rows, as the sender's next rows of a chat) on the
        event loop's thread: no hop to the reader's thread, which costs some 100 µs of CPU
        and, while the loop is busy, milliseconds of waiting for the GIL (issue #15 item 6).
        Never for a scan: the loop waits while it runs. In a transaction or a snapshot it
        reads there, as :meth:`fetchall` does; when the file is busy (a writer of another
        process recovering it) it waits in the reader's thread instead of on the loop."""
        if _current.get() is not None or _snapshot.get() is not None:
            return await self.fetchall(sql, params)
        self._check_open()
        if self._quick is None:
            self._quick = sqlite3.connect(self.path, isolation_level=None)
            self._quick.row_factory = sqlite3.Row
            self._quick.execute("PRAGMA busy_timeout=0")
        try:
            return self._quick.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
        return await self.fetchall(sql, params)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the database is closed")


def placeholders(count: int) -> str:
    """``?, ?, ?`` for an ``IN (…)`` list of ``count`` values."""
    return ", ".join("?" * count)


def in_transaction() -> bool:
    """True inside a write transaction in this task (the intake's, or a service's own)."""
    return _current.get() is not None


def current_transaction() -> Transaction | None:
    """The write transaction of this task, if any: what ``Database.writing`` would join, for
    a caller on the hot path that only defers writes (an async context manager's generator
    and its event-loop hooks cost more than the write: issue #15 item 6)."""
    return _current.get()


# Commits between two checkpoints of the WAL (Database._count_commit): at the ~10 pages a
# quick update writes, about the 1,000 pages of SQLite's own automatic checkpoint.
CHECKPOINT_EVERY = 100

# Snapshot connections kept between snapshots: a sweep and a digest build may each hold one.
IDLE_SNAPSHOTS = 2

# Every commit is on the disk before it returns (issue #2). The test suite lowers this to
# NORMAL (tests/conftest.py): in WAL mode a commit still survives a killed process, and the
# suite never cuts the power, while each fsync waited on a disk the whole machine shares.
SYNCHRONOUS = "FULL"


# How long a statement waits for another process's write lock (a CLI tool, `gridbot dead
# retry`) before failing with "database is locked".
BUSY_TIMEOUT_MS = 5000


async def _connect(path: Path) -> aiosqlite.Connection:
    # check_same_thread=False: the writer's transactions run on the event loop's thread
    # (Transaction), its COMMITs in aiosqlite's; the Database's lock keeps them apart.
    conn = await aiosqlite.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = aiosqlite.Row
    for pragma in (
        "PRAGMA journal_mode=WAL",
        f"PRAGMA synchronous={SYNCHRONOUS}",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
        # Deleted personal data is overwritten, not left in free pages (storage.privacy).
        "PRAGMA secure_delete=ON",
    ):
        await conn.execute(pragma)
    return conn


def _load_migrations(folder: Traversable) -> list[tuple[int, str, Traversable]]:
    """The migrations by number; each file is read only when it is applied, so a start on an
    up-to-date database reads none of them (issue #15 item 5)."""
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry))
    return sorted(found, key=lambda migration: migration[0])


async def apply_migrations(conn: aiosqlite.Connection, folder: Traversable | None = None) -> int:
    """Apply every migration newer than the recorded version; return the resulting version."""
    migrations = _load_migrations(folder or resources.files("storage") / "migrations")
    numbers = [number for number, _, _ in migrations]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 0001, 0002, … without gaps: {numbers}")
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    async with conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") as cur:
        row = await cur.fetchone()
    current = int(row[0]) if row else 0
    if current > len(migrations):
        raise SchemaTooNew(
            f"database schema version {current} is newer than this gridbot knows "
            f"({len(migrations)}); upgrade gridbot instead of downgrading the database"
        )
    pending = migrations[current:]
    if not pending:
        return len(migrations)
    # All pending migrations in one transaction: one fsync instead of one per migration (a
    # first start applied 26 and waited ~0.3-0.8 s on the disk for ~0.1 s of work, issue #15
    # item 5), and an upgrade is all or nothing: a failing migration leaves the database at
    # the version it had, never half-way. And in one call into aiosqlite's thread, not one
    # per statement (~180 at a first start, each a thread hop: see Transaction).
    raw = _raw_connection(conn)

    def apply_pending() -> None:
        raw.execute("BEGIN IMMEDIATE")
        try:
            for number, name, entry in pending:
                log.info("applying migration %s", name)
                for statement in _statements(entry.read_text(encoding="utf-8")):
                    raw.execute(statement)
                raw.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at)"
                    " VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                    (number, name),
                )
        except BaseException:
            raw.rollback()
            raise
        raw.commit()

    await _in_thread(conn, apply_pending)
    return len(migrations)


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (migrations keep ';' out of string literals); a
    trigger's body, whose statements end in ';' too, stays whole until its END (SQLite says
    when a statement is complete)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    statements, pending = [], ""
    for part in "\n".join(lines).split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n\t;"):
                statements.append(pending.strip())
            pending = ""
    if pending.strip(" \n\t;"):
        statements.append(pending.strip())
    return statements
