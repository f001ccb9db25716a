"""The PostgreSQL backend: :class:`storage.db.Database`'s interface over asyncpg.

Why it is shaped like the SQLite one (storage/db.py), and where it differs:

- Writes of this process go through one connection, serialised by an asyncio lock, exactly
  as on SQLite: a transaction is one task's (the intake's update, a sweep's slice), nested
  ``transaction()`` calls are SAVEPOINTs, ``writing()`` joins the current transaction, and
  after-commit callbacks run once the outermost one committed. Other processes write beside
  it; PostgreSQL's row locks, ``FOR UPDATE SKIP LOCKED`` and advisory locks
  (storage.backends.locks) keep them apart.
- Reads outside a transaction come from a small pool, so they never wait for the writer;
  ``snapshot()`` holds one REPEATABLE READ transaction on a pooled connection.
- Savepoints are opened eagerly and deferred writes run at once: SQLite's batching of them
  saves a thread hop per statement (issue #7), which has no counterpart in a network round
  trip here worth the complexity before it is measured.
- Every statement is SQLite's SQL translated once (storage.backends.dialect); SQLite's loose
  typing is met by coercing a parameter to the type PostgreSQL inferred when the driver
  refuses it (an int compared with a text column, a bool stored in an integer column).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, cast

import asyncpg

from storage.backends import dialect as sqlite_dialect
from storage.backends.dialect import Dialect, Schema, Statement
from storage.db import (
    Database,
    Params,
    Row,
    SchemaTooNew,
    Transaction,
    _current,
    _load_migrations,
    _statements,
)

log = logging.getLogger(__name__)

# Held while migrating, so two processes starting at once never apply a migration twice.
MIGRATION_LOCK = 0x67726964_0001  # "grid" · 1

# What SQLite gives for free and PostgreSQL needs declared; idempotent, run at every open.
_BOOTSTRAP = (
    # SUM(state = 'open') counts matching rows in SQLite, whose booleans are integers.
    "CREATE OR REPLACE FUNCTION gridbot_bool_sum(bigint, boolean) RETURNS bigint"
    " LANGUAGE sql IMMUTABLE AS"
    " 'SELECT CASE WHEN $2 IS NULL THEN $1 ELSE COALESCE($1, 0) + $2::int END'",
    "CREATE OR REPLACE AGGREGATE sum(boolean) (SFUNC = gridbot_bool_sum, STYPE = bigint)",
    # SQLite's date(moment, modifier, ...) on gridbot's stored UTC text ('…T…Z'), for the
    # modifiers gridbot writes ('+480 minutes', '-8 hours', '+3 days'): the day as text.
    "CREATE OR REPLACE FUNCTION date(moment text, VARIADIC modifiers text[] DEFAULT '{}')"
    " RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$"
    " DECLARE m timestamp; x text;"
    " BEGIN"
    "  IF moment IS NULL THEN RETURN NULL; END IF;"
    "  m := replace(replace(moment, 'T', ' '), 'Z', '')::timestamp;"
    "  FOREACH x IN ARRAY modifiers LOOP"
    "   IF x IS NULL THEN RETURN NULL; END IF;"
    "   IF x !~ '^[+-]?[0-9]+ (minute|hour|day)s?$' THEN"
    "    RAISE EXCEPTION 'date(): modifier % is not translated', x;"
    "   END IF;"
    "   m := m + x::interval;"
    "  END LOOP;"
    "  RETURN to_char(m, 'YYYY-MM-DD');"
    " END $$",
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    # The sender's delivery marks (storage.transport.sent_log): on SQLite a file of their own
    # so they never wait for the writer; here any connection writes beside the others.
    "CREATE TABLE IF NOT EXISTS sent_marks (outbox_id BIGINT PRIMARY KEY,"
    " message_id BIGINT, revision BIGINT NOT NULL)",
)

READ_POOL_SIZE = 4
# Set in the task whose pooled connection ran only plain statements (``fetchall``), which
# leave no session state behind: its release skips the reset round trip (``_reset``).
_PLAIN_READ: ContextVar[bool] = ContextVar("gridbot_plain_read", default=False)


async def _reset(conn: asyncpg.Connection) -> None:
    """The pool's reset on release, after asyncpg's own cleanup (which rolls back a
    transaction left open). asyncpg's default runs ``SELECT pg_advisory_unlock_all(); CLOSE
    ALL; UNLISTEN *; RESET ALL`` on every release: a second round trip for every read outside
    a transaction, half of a digest's time on 1,000,000 issues (26 reads a digest, bench
    .digest_scale --postgres). A connection lent out for anything else (advisory locks,
    snapshots, the sent marks) is still reset in full."""
    if _PLAIN_READ.get():
        return
    query = conn.get_reset_query()
    if query:
        await conn.execute(query)


def _number(text: str) -> int | float:
    """numeric (SUM of integers, AVG) as SQLite returns it: an int when whole, else a float."""
    return float(text) if any(c in text for c in ".eEN") else int(text)


async def _setup(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "numeric", encoder=str, decoder=_number, schema="pg_catalog", format="text"
    )


async def connect(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url, statement_cache_size=1024)
    await _setup(conn)
    return conn


def _coerce(value: Any, type_name: str) -> Any:
    if value is None:
        return None
    if type_name in ("text", "varchar", "bpchar", "name"):
        return value if isinstance(value, str) else str(value)
    if type_name in ("int8", "int4", "int2"):
        return int(value)
    if type_name in ("float8", "float4", "numeric"):
        return float(value) if type_name != "numeric" else value
    if type_name == "bool":
        return bool(value)
    if type_name == "bytea" and isinstance(value, str):
        return value.encode()
    return value


def _rowcount(status: str | None) -> int:
    """``UPDATE 3`` / ``INSERT 0 1`` / ``DELETE 2`` → the rows changed."""
    if not status:
        return 0
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


async def _run(
    conn: asyncpg.Connection, statement: Statement, params: Params, *, rows: bool = True
) -> tuple[list[asyncpg.Record], int]:
    """Run one translated statement; return its rows (``rows``) or the number of rows it
    changed. asyncpg prepares and caches the statement per connection."""
    args = statement.arguments(params)
    try:
        return await _send(conn, statement.sql, args, rows)
    except (asyncpg.DataError, TypeError):
        # Encoding failed on the client: nothing was sent, the transaction is intact.
        prepared = await conn.prepare(statement.sql)
        types = [t.name for t in prepared.get_parameters()]
        coerced = tuple(_coerce(v, t) for v, t in zip(args, types, strict=True))
        return await _send(conn, statement.sql, coerced, rows)


async def _send(
    conn: asyncpg.Connection, sql: str, args: Sequence[Any], rows: bool
) -> tuple[list[asyncpg.Record], int]:
    if rows:
        return await conn.fetch(sql, *args), 0
    return [], _rowcount(await conn.execute(sql, *args))


class PgTransaction(Transaction):
    """Statements inside one (possibly nested) write transaction on PostgreSQL."""

    def __init__(self, db: PgDatabase, conn: asyncpg.Connection) -> None:
        # Not Transaction.__init__: there is no aiosqlite cursor; the shared fields are set here.
        self._db = db
        self._pg = conn
        self._cursor_lock = asyncio.Lock()  # tasks sharing a transaction share its connection
        self._after_commit: list[Callable[[], None]] = []
        self._on_rollback: list[Callable[[], None]] = []
        self._deferred: list[tuple[str, Params]] = []
        self._depth = 0

    async def _do(
        self, sql: str, params: Params, *, returning_id: bool = False, rows: bool = True
    ) -> tuple[list[asyncpg.Record], int]:
        statement = self._db.dialect.statement(sql, returning_id=returning_id)
        async with self._cursor_lock:
            await self._flush_locked()
            return await _run(self._pg, statement, params, rows=rows)

    async def execute(self, sql: str, params: Params = ()) -> int:
        return (await self._do(sql, params, rows=False))[1]

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        statement = self._db.dialect.statement(sql)
        async with self._cursor_lock:
            await self._flush_locked()
            total = 0
            for params in rows:
                total += (await _run(self._pg, statement, params, rows=False))[1]
            return total

    async def insert(self, sql: str, params: Params = ()) -> int:
        rows, _ = await self._do(sql, params, returning_id=True)
        return int(rows[0][0])

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        return next(iter(await self.fetchall(sql, params)), None)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        rows, _ = await self._do(sql, params)
        return cast(list[Row], rows)

    def defer(self, sql: str, params: Params) -> None:
        self._deferred.append((sql, params))

    async def flush(self) -> None:
        async with self._cursor_lock:
            await self._flush_locked()

    async def _flush_locked(self) -> None:
        while self._deferred:
            sql, params = self._deferred.pop(0)
            await _run(self._pg, self._db.dialect.statement(sql), params, rows=False)

    async def _command(self, sql: str) -> None:
        async with self._cursor_lock:
            await self._pg.execute(sql)


class PgDatabase(Database):
    """An open PostgreSQL gridbot database. Create with :meth:`open`, end with :meth:`close`.

    A :class:`Database` to the repositories (they are typed against it); nothing of the SQLite
    implementation is used.
    """

    backend = "postgresql"

    def __init__(
        self, url: str, writer: asyncpg.Connection, pool: asyncpg.Pool, dialect: Dialect
    ) -> None:
        # Not Database.__init__: no SQLite connections. ``path`` names the database for logs.
        self.url = url
        self.path = Path(url.rsplit("/", 1)[-1] or "postgresql")
        self.dialect = dialect
        self._pg_writer = writer
        self._pool = pool
        self._lock = asyncio.Lock()
        self._savepoints = 0
        self._closed = False
        # Commits so far, as storage.db.Database counts them (tests hold intake's quick path
        # to one per update)
        self.commits = 0
        self._snapshot_conn: dict[int, asyncpg.Connection] = {}

    @classmethod
    async def open(cls, path: Path | str, *, migrations: Traversable | None = None) -> PgDatabase:
        url = str(path)
        writer = await connect(url)
        try:
            await apply_migrations(writer, migrations)
            dialect = Dialect(await read_schema(writer))
            pool = await asyncpg.create_pool(
                url,
                min_size=1,
                max_size=READ_POOL_SIZE,
                init=_setup,
                reset=_reset,
                statement_cache_size=1024,
            )
        except BaseException:
            await writer.close()
            raise
        return cls(url, writer, pool, dialect)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._pool.close()
        await self._pg_writer.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        self._check_open()
        outer = _current.get()
        if outer is not None:
            assert isinstance(outer, PgTransaction)
            async with self._pg_savepoint(outer):
                yield outer
            return
        async with self._lock:
            tx = PgTransaction(self, self._pg_writer)
            token = _current.set(tx)
            try:
                # Inside the try: a connection the server dropped since the last transaction
                # fails here, and _abort replaces it for the next one.
                await tx._command("BEGIN")
                yield tx
                await tx.flush()
            except BaseException:
                tx._deferred.clear()
                tx._rolled_back(0)
                await self._abort()
                raise
            finally:
                _current.reset(token)
            try:
                await tx._command("COMMIT")
            except BaseException:
                tx._rolled_back(0)
                await self._abort()
                raise
            self.commits += 1
        for callback in tx._after_commit:
            callback()

    async def _abort(self) -> None:
        """Roll back; if the connection itself failed, replace it so the next one can work."""
        try:
            await self._pg_writer.execute("ROLLBACK")
        except Exception:  # the connection is gone; a new one replaces it
            log.warning("the database connection failed; reconnecting", exc_info=True)
            self._pg_writer.terminate()
            self._pg_writer = await connect(self.url)

    @asynccontextmanager
    async def _pg_savepoint(self, tx: PgTransaction) -> AsyncIterator[None]:
        self._savepoints += 1
        name = f"sp{self._savepoints}"
        callbacks = len(tx._after_commit)
        undone = len(tx._on_rollback)
        await tx.flush()
        await tx._command(f"SAVEPOINT {name}")
        try:
            yield
            await tx.flush()
        except BaseException:
            tx._deferred.clear()
            del tx._after_commit[callbacks:]
            tx._rolled_back(undone)
            await tx._command(f"ROLLBACK TO SAVEPOINT {name}")
            await tx._command(f"RELEASE SAVEPOINT {name}")
            raise
        await tx._command(f"RELEASE SAVEPOINT {name}")

    async def checkpoint(self) -> None:
        """After an erasure: VACUUM so the erased rows' old versions become free space
        promptly rather than at autovacuum's leisure (it does not scrub the bytes; PostgreSQL
        has no secure_delete)."""
        self._check_open()
        async with self._lock:
            await self._pg_writer.execute("VACUUM")

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[None]:
        self._check_open()
        async with self._pool.acquire() as conn:
            # Not READ ONLY: a check computes into temporary tables (rollups.differences),
            # which PostgreSQL refuses there. Always rolled back instead, so nothing it wrote
            # outlives the block and the pooled connection comes back without those tables.
            transaction = conn.transaction(isolation="repeatable_read")
            await transaction.start()
            task = id(asyncio.current_task())
            self._snapshot_conn[task] = conn
            try:
                yield
            finally:
                del self._snapshot_conn[task]
                await transaction.rollback()

    async def fetchall_now(self, sql: str, params: Params = ()) -> list[Row]:
        """No reader thread to skip here: a query is a round trip to the server anyway."""
        return await self.fetchall(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        tx = _current.get()
        if tx is not None:
            return await tx.fetchall(sql, params)
        self._check_open()
        statement = self.dialect.statement(sql)
        held = self._snapshot_conn.get(id(asyncio.current_task()))
        if held is not None:
            rows, _ = await _run(held, statement, params)
        else:
            plain = _PLAIN_READ.set(False)
            try:
                async with self._pool.acquire() as conn:
                    rows, _ = await _run(conn, statement, params)
                    _PLAIN_READ.set(True)  # ran to the end: nothing to reset at release
            finally:
                _PLAIN_READ.reset(plain)
        return cast(list[Row], rows)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection of its own (advisory locks, the sent marks), outside the
        writer's transactions."""
        async with self._pool.acquire() as conn:
            yield conn

    async def fresh_connection(self) -> asyncpg.Connection:
        """A connection outside the pool, for a session-level lock held for the process's life."""
        return await connect(self.url)


async def read_schema(conn: asyncpg.Connection) -> Schema:
    """Each table's columns in order and its primary key, for the statement translation."""
    columns: dict[str, list[str]] = {}
    for r in await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ):
        columns.setdefault(r["table_name"], []).append(r["column_name"])
    keys: dict[str, list[str]] = {}
    for r in await conn.fetch(
        "SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc"
        " JOIN information_schema.key_column_usage kcu"
        " ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema"
        " WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema()"
        " ORDER BY tc.table_name, kcu.ordinal_position"
    ):
        keys.setdefault(r["table_name"], []).append(r["column_name"])
    return Schema(columns=columns, primary_keys=keys)


def _overrides() -> Traversable:
    return resources.files("storage.backends") / "pg_overrides"


def migration_statements(name: str, sql: str, overrides: Traversable | None = None) -> list[str]:
    """A SQLite migration's statements for PostgreSQL: a file of the same name in
    ``pg_overrides/`` replaces it where the translation cannot do (0020's table rebuild),
    else each statement is translated (storage.backends.dialect.migration)."""
    override = (overrides or _overrides()) / name
    if override.is_file():
        return _override_statements(override.read_text(encoding="utf-8"))
    return [
        sqlite_dialect.migration(_bare(statement))
        for statement in _statements(sql)
        # SQLite's own settings (defer_foreign_keys around a table rebuild) mean nothing here.
        if not statement.lstrip().upper().startswith("PRAGMA")
    ]


def _override_statements(sql: str) -> list[str]:
    """An override's statements: PostgreSQL's own SQL, so split at a ';' ending a line outside
    a $$-quoted function body (SQLite's splitter knows nothing of dollar quoting)."""
    statements, pending, quoted = [], [], False
    for line in sql.splitlines():
        if not quoted and line.strip().startswith("--"):
            continue
        pending.append(line)
        quoted ^= line.count("$$") % 2 == 1
        if not quoted and line.rstrip().endswith(";"):
            statement = _bare("\n".join(pending)).strip()
            if statement:
                statements.append(statement)
            pending = []
    rest = _bare("\n".join(pending)).strip()
    return statements + ([rest] if rest else [])


def _bare(statement: str) -> str:
    """A statement without the ';' SQLite's splitter leaves on it (storage.db._statements)."""
    return statement.rstrip().removesuffix(";").rstrip()


async def apply_migrations(conn: asyncpg.Connection, folder: Traversable | None = None) -> int:
    """Apply every SQLite migration newer than the recorded version, translated; return the
    resulting version. The numbering rules are SQLite's (storage.db.apply_migrations)."""
    migrations = _load_migrations(folder or resources.files("storage") / "migrations")
    numbers = [number for number, _, _ in migrations]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 0001, 0002, … without gaps: {numbers}")
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        for statement in _BOOTSTRAP:
            try:
                await conn.execute(statement)
            except asyncpg.UniqueViolationError:
                pass  # another database in the cluster created it at the same moment
        current = await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        if current > len(migrations):
            raise SchemaTooNew(
                f"database schema version {current} is newer than this gridbot knows "
                f"({len(migrations)}); upgrade gridbot instead of downgrading the database"
            )
        # One transaction for all pending ones, as on SQLite: an upgrade is all or nothing.
        async with conn.transaction():
            for number, name, sql in migrations[current:]:
                log.info("applying migration %s (PostgreSQL)", name)
                for statement in migration_statements(name, sql.read_text(encoding="utf-8")):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at)"
                    " VALUES ($1, $2, to_char(now() AT TIME ZONE 'UTC',"
                    ' \'YYYY-MM-DD"T"HH24:MI:SS"Z"\'))',
                    number,
                    name,
                )
        return len(migrations)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
