"""Two bots on one database (issue #16, migration 0025): each bot's updates, queues and dead
letters are its own."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from storage.db import Database
from storage.ops.repo import OpsRepo
from storage.transport.inbox import InboxRepo
from storage.transport.outbox import OutboxRepo

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


async def test_an_operator_sees_and_retries_only_their_own_bots_rows(tmp_path: Path) -> None:
    """`gridbot status` and `dead retry N` read OpsRepo of the config's bot: on a database
    shared by two street offices, update 7 of one bot is not the other's update 7."""
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    try:
        update = {"update_id": 7, "message": {"text": "boom"}}
        for key in ("111", "222"):
            inbox = InboxRepo(db, bot=key)
            async with db.transaction():
                await inbox.store_new([update], NOW)
            await inbox.mark_dead(7, f"bug in {key}", NOW)
        await OutboxRepo(db, bot="222").enqueue(-100, "sendMessage", {"text": "x"}, NOW)
        await OutboxRepo(db, bot="222").mark_unreachable(42, "blocked", NOW)
        mine, theirs = OpsRepo(db, "111"), OpsRepo(db, "222")
        mine_dead, mine_queues = await mine.inbox.dead(), await mine.queues()
        theirs_queues = await theirs.queues()
        assert await mine.inbox.retry(7)
        after = (await mine.inbox.counts(), await theirs.inbox.counts())
    finally:
        await db.close()
    assert [d.error for d in mine_dead] == ["bug in 111"]
    assert mine_queues.outbox == {} and mine_queues.oldest_pending is None
    assert mine_queues.unreachable_chats == 0
    assert theirs_queues.outbox == {"pending": 1} and theirs_queues.unreachable_chats == 1
    assert after == ({"pending": 1}, {"dead": 1})
