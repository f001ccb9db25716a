"""``gridbot migrate-db``: copy a SQLite database into PostgreSQL, verified table by table.

Both ends are first brought to the newest schema by their own ``open`` (so the source's
migrations run as they would at the bot's start, and the target's are the translated ones).
Every table of the source is copied with its ids, in the order the migrations created the
tables (a row's references exist before it); a column referring to its own table
(``issues.merged_into``) is filled in a second pass. Identity sequences then continue after
the highest id, and each table is verified by its row count and a SHA-256 over its rows in
primary-key order, read back from PostgreSQL and compared with the source's values as
PostgreSQL's column types hold them (SQLite may keep the number 5 in a TEXT column; '5' is
what arrives, and what the checksum of both sides says).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storage.backends.postgres import PgDatabase, _coerce, connect
from storage.db import Database
from storage.transport.outbox import OutboxRepo
from storage.transport.sent_log import SentLog

BATCH = 1000
_SKIPPED = {"schema_migrations"}  # each side records its own migrations
# Filled by the migrations themselves (0023: the rollups' days and zone), so in every fresh
# target: replaced by the source's rows, never a reason to refuse the target.
_FILLED_BY_MIGRATIONS = {"rollup_days", "rollup_settings"}


class TargetNotEmpty(RuntimeError):
    def __init__(self, tables: Sequence[str]) -> None:
        super().__init__(", ".join(tables))
        self.tables = list(tables)


@dataclass(frozen=True)
class TableCopy:
    table: str
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def ok(self) -> bool:
        return (self.source_rows, self.source_checksum) == (
            self.target_rows,
            self.target_checksum,
        )


@dataclass(frozen=True)
class _Table:
    name: str
    columns: list[str]
    key: list[str]  # the order rows are compared in
    self_refs: list[str]  # columns referring to the table itself
    page: list[str]  # what the copy pages by: the primary key, else the rowid


async def migrate(source: Path, target_url: str, *, force: bool = False) -> list[TableCopy]:
    """Copy ``source`` into ``target_url``; raise TargetNotEmpty unless it is empty or
    ``force`` (which empties it first)."""
    src = await Database.open(source)
    try:
        await _fold_sent_marks(src)
        tables = await _tables(src)
        pg = await PgDatabase.open(target_url)  # migrates the target
        await pg.close()
        conn = await connect(target_url)
        try:
            types = await _column_types(conn)
            names = [t.name for t in tables if t.name in types]
            filled = [
                n
                for n in names
                if n not in _FILLED_BY_MIGRATIONS
                and await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {n})")
            ]
            if filled and not force:
                raise TargetNotEmpty(filled)
            async with conn.transaction():
                await conn.execute(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")
                # The source's rollups are copied as they are: the triggers that keep them
                # (0023) must not count the copied events a second time.
                if "issue_events" in types:
                    await conn.execute("ALTER TABLE issue_events DISABLE TRIGGER USER")
                for table in tables:
                    if table.name in types:
                        await _copy(src, conn, table, types[table.name])
                    await _restart_identity(conn, table.name)
                if "issue_events" in types:
                    await conn.execute("ALTER TABLE issue_events ENABLE TRIGGER USER")
            return [await _verify(src, conn, t, types[t.name]) for t in tables if t.name in types]
        finally:
            await conn.close()
    finally:
        await src.close()


async def _fold_sent_marks(db: Database) -> None:
    """Deliveries still marked only in the ``-sent`` side file go into the outbox first, as
    the bot's next start would do; otherwise they would be sent again from PostgreSQL."""
    log = await SentLog.open(db)
    try:
        marks = await log.marks()
        if marks:
            await OutboxRepo(db).mark_sent_many(marks, datetime.now(UTC))
            await log.forget([row_id for row_id, _, _ in marks])
    finally:
        await log.close()


async def _tables(db: Database) -> list[_Table]:
    found = []
    rows = await db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY rowid"
    )
    for (name,) in rows:
        if name in _SKIPPED:
            continue
        info = await db.fetchall(f"PRAGMA table_info({name})")
        columns = [r["name"] for r in info]
        primary = [r["name"] for r in sorted(info, key=lambda r: r["pk"]) if r["pk"]]
        key = primary or columns
        refs = await db.fetchall(f"PRAGMA foreign_key_list({name})")
        self_refs = [r["from"] for r in refs if r["table"] == name]
        found.append(_Table(name, columns, key, self_refs, primary or ["rowid"]))
    return found


async def _column_types(conn: Any) -> dict[str, dict[str, str]]:
    types: dict[str, dict[str, str]] = {}
    for r in await conn.fetch(
        "SELECT table_name, column_name, udt_name FROM information_schema.columns"
        " WHERE table_schema = current_schema()"
    ):
        types.setdefault(r["table_name"], {})[r["column_name"]] = r["udt_name"]
    return types


def _typed(row: Iterable[Any], columns: Sequence[str], types: dict[str, str]) -> tuple[Any, ...]:
    return tuple(_coerce(v, types[c]) for v, c in zip(row, columns, strict=True))


async def _copy(src: Database, conn: Any, table: _Table, types: dict[str, str]) -> None:
    columns = table.columns
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    insert = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"
    deferred = [columns.index(c) for c in table.self_refs]
    later: list[tuple[Any, ...]] = []
    # Page by the key, each page after the last one's key (an index search), not by OFFSET,
    # which reads and skips every earlier row again: 26 minutes for the 1M-issue database.
    # The primary key, not the rowid, where there is one: the rollups' tables are WITHOUT
    # ROWID (0023); a table without one (no two rows need differ) pages by its rowid.
    page = ", ".join(table.page)
    select = f"SELECT {', '.join(columns)}, {page} FROM {table.name}"
    after = f" WHERE ({page}) > ({', '.join('?' for _ in table.page)})"
    last: tuple[Any, ...] | None = None
    while True:
        rows = await src.fetchall(
            f"{select}{'' if last is None else after} ORDER BY {page} LIMIT ?",
            (*(last or ()), BATCH),
        )
        if not rows:
            break
        last = tuple(rows[-1])[len(columns) :]
        batch = [list(_typed(tuple(r)[: len(columns)], columns, types)) for r in rows]
        for values in batch:
            if any(values[i] is not None for i in deferred):
                later.append(tuple(values))
                for i in deferred:
                    values[i] = None
        await conn.executemany(insert, [tuple(v) for v in batch])
    key = table.key
    for row in later:
        sets = ", ".join(f"{columns[i]} = ${n}" for n, i in enumerate(deferred, 1))
        where = " AND ".join(f"{k} = ${len(deferred) + n}" for n, k in enumerate(key, 1))
        await conn.execute(
            f"UPDATE {table.name} SET {sets} WHERE {where}",
            *(row[i] for i in deferred),
            *(row[columns.index(k)] for k in key),
        )


async def _restart_identity(conn: Any, table: str) -> None:
    """An identity continues after the highest copied id (the copy gave ids explicitly)."""
    for r in await conn.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_schema ="
        " current_schema() AND table_name = $1 AND is_identity = 'YES'"
        " AND identity_generation = 'BY DEFAULT'",
        table,
    ):
        column = r["column_name"]
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
            f" COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
        )


def _digest(rows: Iterable[Sequence[Any]]) -> tuple[int, str]:
    sha, count = hashlib.sha256(), 0
    for row in rows:
        count += 1
        sha.update(repr(tuple(_canonical(v) for v in row)).encode())
    return count, sha.hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


async def _verify(src: Database, conn: Any, table: _Table, types: dict[str, str]) -> TableCopy:
    columns, order = ", ".join(table.columns), ", ".join(table.key)
    source = [
        _typed(r, table.columns, types)
        for r in await src.fetchall(f"SELECT {columns} FROM {table.name} ORDER BY {order}")
    ]
    # COLLATE "C": the same byte order as SQLite's BINARY comparison, whatever the database's.
    pg_order = ", ".join(
        f'{k} COLLATE "C"' if types[k] in ("text", "varchar") else k for k in table.key
    )
    target = [
        tuple(r)
        for r in await conn.fetch(f"SELECT {columns} FROM {table.name} ORDER BY {pg_order}")
    ]
    source_rows, source_sum = _digest(source)
    target_rows, target_sum = _digest(target)
    return TableCopy(table.name, source_rows, target_rows, source_sum, target_sum)
