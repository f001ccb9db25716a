"""Who may do what when several processes share one PostgreSQL database (storage.backends.locks).
On SQLite (the suite's first run) both locks always say yes: one process per file."""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage.backends.locks import hold_lease, lock_key, sweep_turn
from storage.db import Database
from tests.support import postgres as pg


async def test_the_second_holder_of_a_bots_intake_waits_until_the_first_lets_go(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    try:
        first = await hold_lease(db, "intake:42")
        if not pg.ACTIVE:
            assert first is None  # SQLite: nothing to share
            return
        assert first is not None
        refused = asyncio.Event()
        second = asyncio.create_task(hold_lease(db, "intake:42", poll=0.01, waiting=refused.set))
        await refused.wait()  # it asked and was told no: it stands by
        other_bot = await hold_lease(db, "intake:43")  # another bot's lock is its own
        assert not second.done()
        await first.release()
        taken = await second  # the standby takes over once the first lets go
        assert taken is not None and taken.key == lock_key("intake:42")
        await taken.release()
        assert other_bot is not None
        await other_bot.release()
    finally:
        await db.close()


async def test_one_process_sweeps_a_tick_the_others_skip_it(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    try:
        async with sweep_turn(db) as mine:
            assert mine
            async with sweep_turn(db) as theirs:
                assert theirs is not pg.ACTIVE  # PostgreSQL: taken; SQLite: one process
        async with sweep_turn(db) as next_tick:
            assert next_tick  # released at the end of the turn
    finally:
        await db.close()


def test_lock_keys_are_stable_signed_64_bit_and_distinct() -> None:
    assert lock_key("intake:1") == lock_key("intake:1")
    assert lock_key("intake:1") != lock_key("intake:2")
    assert all(-(2**63) <= lock_key(f"intake:{n}") < 2**63 for n in range(100))
