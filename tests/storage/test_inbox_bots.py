"""Two bots on one database (issue #16, migration 0025): the same update id is each bot's own."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from storage.db import Database
from storage.transport.inbox import InboxRepo

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


async def test_the_quick_path_stores_an_update_id_once_per_bot(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    try:
        update = {"update_id": 7, "message": {"text": "#报事 路灯坏了"}}
        first, second = InboxRepo(db, bot="111"), InboxRepo(db, bot="222")
        async with db.transaction():
            assert await first.store_new([update], NOW) == {7}
            assert await second.store_new([update], NOW) == {7}  # another bot's update 7
            assert await first.store_new([update], NOW) == set()  # Telegram sent it again
        counts = (await first.counts(), await second.counts())
    finally:
        await db.close()
    assert counts == ({"pending": 1}, {"pending": 1})
