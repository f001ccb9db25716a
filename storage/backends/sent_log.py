"""The sender's delivery marks on PostgreSQL (see storage.transport.sent_log for why they
exist): a ``sent_marks`` table written on a connection of its own, so a mark is committed the
moment Telegram answers, beside whatever transaction the writer holds. Several processes
share the table; folding another process's marks is harmless (same row, same message id)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import cast

import asyncpg

from storage.db import Database
from storage.transport.sent_log import Mark, SentLog


class PgSentLog(SentLog):
    def __init__(self, conn: asyncpg.Connection) -> None:  # not SentLog's: no aiosqlite
        self._pg = conn
        # The sender delivers to several chats at once; one connection runs one statement.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, db: Database) -> PgSentLog:
        from storage.backends.postgres import PgDatabase

        return cls(await cast(PgDatabase, db).fresh_connection())

    async def close(self) -> None:
        async with self._lock:
            await self._pg.close()

    async def record(self, row_id: int, message_id: int | None, revision: int) -> None:
        async with self._lock:
            await self._pg.execute(
                "INSERT INTO sent_marks (outbox_id, message_id, revision) VALUES ($1, $2, $3)"
                " ON CONFLICT (outbox_id) DO UPDATE SET message_id = excluded.message_id,"
                " revision = excluded.revision",
                row_id,
                message_id,
                revision,
            )

    async def marks(self) -> list[Mark]:
        async with self._lock:
            rows = await self._pg.fetch(
                "SELECT outbox_id, message_id, revision FROM sent_marks ORDER BY outbox_id"
            )
        return [(int(r[0]), r[1], int(r[2])) for r in rows]

    async def forget(self, row_ids: Sequence[int]) -> None:
        if row_ids:
            async with self._lock:
                await self._pg.execute(
                    "DELETE FROM sent_marks WHERE outbox_id = ANY($1::bigint[])", list(row_ids)
                )
