"""Outbox: every message a person must receive, as a row before it is sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage import jsontext
from storage.clock import to_db
from storage.db import Database, Row, Transaction, placeholders
from storage.transport.inbox import bot_filter


@dataclass(frozen=True)
class OutboxRow:
    id: int
    chat_id: int
    method: str
    payload: dict[str, Any]
    attachment: bytes | None
    attachment_name: str | None
    ref: str | None
    attempts: int
    not_before: float
    revision: int

    @classmethod
    def _from_row(cls, row: Row) -> OutboxRow:
        return cls(
            id=row["id"],
            chat_id=row["chat_id"],
            method=row["method"],
            payload=jsontext.loads(row["payload"]),
            attachment=row["attachment"],
            attachment_name=row["attachment_name"],
            ref=row["ref"],
            attempts=row["attempts"],
            not_before=row["not_before"],
            revision=row["revision"],
        )


# A group upgraded to a supergroup is followed in the same statement.
_ENQUEUE = (
    "INSERT INTO outbox (chat_id, method, payload, attachment, attachment_name, ref, not_before,"
    " created_at, bot) VALUES (COALESCE((SELECT new_chat_id FROM chat_migrations"
    " WHERE old_chat_id = ?), ?), ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _row(
    chat_id: int,
    method: str,
    payload: dict[str, Any],
    now: datetime,
    ref: str | None,
    attachment: bytes | None,
    attachment_name: str | None,
) -> tuple[Any, ...]:
    payload_json = jsontext.dumps(payload)
    return (
        chat_id,
        chat_id,
        method,
        payload_json,
        attachment,
        attachment_name,
        ref,
        0.0,
        to_db(now),
    )


class OutboxRepo:
    """The outbox of one bot (``bot``: its key, migration 0025; only its token may send its
    rows), or of every bot when None (tests and tools; rows it queues are adopted by the bot
    at start, storage.transport.inbox.adopt_unowned)."""

    def __init__(self, db: Database, bot: str | None = None) -> None:
        self.db = db
        self.bot = bot
        self._only, self._mine = bot_filter(bot)

    async def enqueue(
        self,
        chat_id: int,
        method: str,
        payload: dict[str, Any],
        now: datetime,
        *,
        ref: str | None = None,
        attachment: bytes | None = None,
        attachment_name: str | None = None,
    ) -> None:
        """Queue one call in the caller's transaction (or a new one).

        A deferred write (see Transaction.defer): the row goes with the transaction's next
        statement, so the several messages one update sends cost one round trip to the
        database thread, not one each (issue #7)."""
        async with self.db.writing() as tx:
            self.enqueue_in(
                tx,
                chat_id,
                method,
                payload,
                now,
                ref=ref,
                attachment=attachment,
                attachment_name=attachment_name,
            )

    def enqueue_in(
        self,
        tx: Transaction,
        chat_id: int,
        method: str,
        payload: dict[str, Any],
        now: datetime,
        *,
        ref: str | None = None,
        attachment: bytes | None = None,
        attachment_name: str | None = None,
    ) -> None:
        """``enqueue`` in the given (current) transaction, without awaiting anything."""
        params = (
            *_row(chat_id, method, payload, now, ref, attachment, attachment_name),
            self.bot or "",
        )
        tx.defer(_ENQUEUE, params)

    async def pending(
        self, limit: int, exclude: Sequence[int] = (), per_chat: int | None = None
    ) -> list[OutboxRow]:
        """Pending rows in queue order, at most ``limit`` and at most ``per_chat`` of each
        chat, leaving out ``exclude`` (delivered rows whose mark is not written yet)."""
        skip = _not_in("id", exclude)
        if per_chat is None:
            sql = (
                f"SELECT * FROM outbox WHERE state = 'pending'{self._only}{skip}"
                " ORDER BY id LIMIT ?"
            )
            params: tuple[Any, ...] = (*self._mine, *exclude, limit)
        else:
            sql = (
                "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY chat_id ORDER BY id)"
                f" AS place FROM outbox WHERE state = 'pending'{self._only}{skip})"
                " AS queued WHERE place <= ? ORDER BY id LIMIT ?"
            )
            params = (*self._mine, *exclude, per_chat, limit)
        rows = await self.db.fetchall(sql, params)
        return [OutboxRow._from_row(row) for row in rows]

    async def pending_in_chat(
        self, chat_id: int, limit: int, exclude: Sequence[int] = ()
    ) -> list[OutboxRow]:
        """The first ``limit`` pending rows to ``chat_id`` in queue order, leaving out
        ``exclude`` (delivered rows whose mark is not written yet)."""
        return await self._first_pending(
            " AND chat_id = ?" + _not_in("id", exclude), (chat_id, *exclude), limit
        )

    async def last_id(self) -> int:
        """The highest outbox id there is (the end of the rowid index: no scan)."""
        row = next(iter(await self.db.fetchall_now("SELECT MAX(id) FROM outbox")), None)
        return 0 if row is None or row[0] is None else int(row[0])

    async def pending_after(
        self, after: int, limit: int, skip_chats: Sequence[int] = ()
    ) -> list[OutboxRow]:
        """Pending rows with an id above ``after``, in queue order, at most ``limit``, none
        of ``skip_chats``: what was queued since the sender last looked (a range of the
        primary key, where ``pending`` ranks every pending row)."""
        return await self._first_pending(
            " AND id > ?" + _not_in("chat_id", skip_chats), (after, *skip_chats), limit
        )

    async def _first_pending(
        self, where: str, params: tuple[Any, ...], limit: int
    ) -> list[OutboxRow]:
        """The sender's small indexed reads: the first ``limit`` pending rows matching
        ``where`` (`` AND …``), in queue order, on the event loop's thread (fetchall_now)."""
        rows = await self.db.fetchall_now(
            f"SELECT * FROM outbox WHERE state = 'pending'{self._only}{where} ORDER BY id LIMIT ?",
            (*self._mine, *params, limit),
        )
        return [OutboxRow._from_row(row) for row in rows]

    async def next_due(self) -> float | None:
        row = await self.db.fetchone(
            f"SELECT MIN(not_before) FROM outbox WHERE state = 'pending'{self._only}", self._mine
        )
        return None if row is None or row[0] is None else float(row[0])

    async def mark_sent(
        self, row_id: int, message_id: int | None, now: datetime, revision: int = 0
    ) -> bool:
        """Mark delivered, unless the row was revised while in flight (then it stays pending
        and goes out again with the newer payload). Return whether it was marked."""
        async with self.db.writing() as tx:
            return (
                await tx.execute(
                    "UPDATE outbox SET state = 'sent', sent_at = ?, message_id = ?, error = NULL"
                    " WHERE id = ? AND revision = ?",
                    (to_db(now), message_id, row_id, revision),
                )
                == 1
            )

    async def mark_sent_many(
        self, marks: Sequence[tuple[int, int | None, int]], now: datetime
    ) -> list[int]:
        """Mark (id, message_id, revision) rows sent in one transaction; return the ids left
        pending because they were revised while in flight."""
        if not marks:
            return []
        stamp = to_db(now)
        async with self.db.writing() as tx:
            changed = await tx.executemany(
                "UPDATE outbox SET state = 'sent', sent_at = ?, message_id = ?, error = NULL"
                " WHERE id = ? AND revision = ?",
                [(stamp, message_id, row_id, revision) for row_id, message_id, revision in marks],
            )
            if changed == len(marks):  # the usual case: one statement, one round trip
                return []
            ids = [row_id for row_id, _, _ in marks]
            rows = await tx.fetchall(
                "SELECT id FROM outbox WHERE state = 'pending'"
                f" AND id IN ({placeholders(len(ids))})",
                ids,
            )
        return [int(row[0]) for row in rows]

    async def revise_pending(self, ref: str, payload: dict[str, Any]) -> bool:
        """Replace the payload of the pending row queued under ``ref``; False if none."""
        async with self.db.writing() as tx:
            changed = await tx.execute(
                "UPDATE outbox SET payload = ?, revision = revision + 1"
                " WHERE ref = ? AND state = 'pending'",
                (jsontext.dumps(payload), ref),
            )
        return changed > 0

    async def postpone(self, row_id: int, not_before: float, error: str, *, count: bool) -> int:
        """Try again later; ``count`` says whether this was a failed attempt. Return attempts."""
        async with self.db.writing() as tx:
            await tx.execute(
                "UPDATE outbox SET not_before = ?, error = ?,"
                " attempts = attempts + ? WHERE id = ?",
                (not_before, error, 1 if count else 0, row_id),
            )
            row = await tx.fetchone("SELECT attempts FROM outbox WHERE id = ?", (row_id,))
        return int(row[0]) if row else 0

    async def mark_dead(self, row_id: int, error: str) -> None:
        async with self.db.writing() as tx:
            await tx.execute(
                "UPDATE outbox SET state = 'dead', error = ?, attempts = attempts + 1"
                " WHERE id = ?",
                (error, row_id),
            )

    async def mark_unreachable(self, chat_id: int, reason: str, now: datetime) -> int:
        """Record that ``chat_id`` refuses the bot and stop every pending row to it."""
        async with self.db.writing() as tx:
            await tx.execute(
                "INSERT INTO unreachable_chats (bot, chat_id, reason, since) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (bot, chat_id) DO UPDATE SET reason = excluded.reason",
                (self.bot or "", chat_id, reason, to_db(now)),
            )
            return await tx.execute(
                "UPDATE outbox SET state = 'unreachable', error = ?"
                f" WHERE chat_id = ? AND state = 'pending'{self._only}",
                (reason, chat_id, *self._mine),
            )

    async def mark_reachable(self, chat_id: int) -> bool:
        async with self.db.writing() as tx:
            return (
                await tx.execute(
                    f"DELETE FROM unreachable_chats WHERE chat_id = ?{self._only}",
                    (chat_id, *self._mine),
                )
                >= 1
            )

    async def unreachable_chats(self) -> set[int]:
        rows = await self.db.fetchall(
            f"SELECT chat_id FROM unreachable_chats WHERE true{self._only}", self._mine
        )
        return {int(row[0]) for row in rows}

    async def migrate_chat(self, old_chat_id: int, new_chat_id: int, now: datetime) -> None:
        """A group became a supergroup: redirect its pending rows and remember the new id."""
        if old_chat_id == new_chat_id:
            return
        async with self.db.writing() as tx:
            await tx.execute(
                "INSERT INTO chat_migrations (old_chat_id, new_chat_id, migrated_at)"
                " VALUES (?, ?, ?) ON CONFLICT (old_chat_id) DO NOTHING",
                (old_chat_id, new_chat_id, to_db(now)),
            )
            await tx.execute(
                "UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND state = 'pending'",
                (new_chat_id, old_chat_id),
            )

    async def message_id_for(self, ref: str) -> tuple[int, int] | None:
        """(chat_id, message_id) of the newest sent message queued under ``ref``."""
        row = await self.db.fetchone(
            "SELECT chat_id, message_id FROM outbox WHERE ref = ? AND state = 'sent'"
            " AND message_id IS NOT NULL ORDER BY id DESC LIMIT 1",
            (ref,),
        )
        return None if row is None else (int(row[0]), int(row[1]))

    async def sent_refs(self, refs: Sequence[str]) -> set[str]:
        """Those of ``refs`` under which a message was delivered (one query, not one each)."""
        if not refs:
            return set()
        rows = await self.db.fetchall(
            f"SELECT DISTINCT ref FROM outbox WHERE ref IN ({placeholders(len(refs))})"
            " AND state = 'sent' AND message_id IS NOT NULL",
            tuple(refs),
        )
        return {str(row[0]) for row in rows}

    async def has_delivered_to(self, chat_id: int) -> bool:
        row = await self.db.fetchone(
            f"SELECT 1 FROM outbox WHERE chat_id = ? AND state = 'sent'{self._only} LIMIT 1",
            (chat_id, *self._mine),
        )
        return row is not None

    async def counts(self) -> dict[str, int]:
        rows = await self.db.fetchall(
            f"SELECT state, COUNT(*) FROM outbox WHERE true{self._only} GROUP BY state", self._mine
        )
        return {row[0]: int(row[1]) for row in rows}


def _not_in(column: str, values: Sequence[int]) -> str:
    """`` AND column NOT IN (?, …)`` for ``values`` (their parameters follow), or nothing."""
    return f" AND {column} NOT IN ({placeholders(len(values))})" if values else ""
