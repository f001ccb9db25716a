"""The outbox repository: revisions of pending edits, chat migrations, delivery look-ups."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from storage.db import Database
from storage.transport.outbox import OutboxRepo

NOW = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)


async def test_outbox_edit_revised_in_flight_stays_pending_with_the_newer_text(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "g.sqlite3")
    try:
        repo = OutboxRepo(db)
        await repo.enqueue(-1, "editMessageText", {"text": "v1"}, NOW, ref="edit:x")
        [sending] = await repo.pending(100)
        row_id = sending.id
        assert await repo.revise_pending("edit:x", {"text": "v2"})
        # The sender delivered revision 0 (v1) while v2 was queued: v1 must not count.
        assert not await repo.mark_sent(row_id, 7, NOW, sending.revision)
        [again] = await repo.pending(100)
        assert (again.id, again.payload["text"], again.revision) == (row_id, "v2", 1)
        assert await repo.mark_sent(row_id, 7, NOW, again.revision)
        assert await repo.pending(100) == []
        assert not await repo.revise_pending("edit:x", {"text": "v3"})  # sent rows stay
    finally:
        await db.close()


async def test_outbox_rows_follow_a_migrated_chat_and_delivery_is_known(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "g.sqlite3")
    try:
        repo = OutboxRepo(db)
        await repo.enqueue(-5, "sendMessage", {"text": "a"}, NOW)
        await repo.migrate_chat(-5, -1005, NOW)
        await repo.enqueue(-5, "sendMessage", {"text": "b"}, NOW)  # queued after the upgrade
        rows = await db.fetchall("SELECT chat_id FROM outbox ORDER BY id")
        assert [r[0] for r in rows] == [-1005, -1005]
        assert not await repo.has_delivered_to(-1005)
        head, _ = await repo.pending(100)  # both rows, in queue order
        await repo.mark_sent(head.id, 1, NOW, head.revision)
        assert await repo.has_delivered_to(-1005)
    finally:
        await db.close()
