"""Which grid a chat serves (bot.core.grids, issue #13 items 3 and 18): /bind over config, each
inherited by a group's supergroup, and each group named once by its current id."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.core.grids import ChatGrids
from storage.db import Database
from storage.registry.chats import ChatGridRepo
from storage.registry.repo import RegistryRepo
from storage.transport.outbox import OutboxRepo
from tests.support import factories as f

NOW = datetime(2026, 11, 18, 14, 0, tzinfo=f.SHANGHAI)
BOUND, SUPER_G1, SUPER_BOUND = -1009, -1001001, -1001009


async def test_grid_of_chat_follows_upgrades_and_a_later_bind_wins(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "g.sqlite3")
    try:
        chats = ChatGrids(f.make_config(), ChatGridRepo(db))
        await RegistryRepo(db).bind(BOUND, "g2", f.SECRETARY, NOW)
        await OutboxRepo(db).migrate_chat(f.G1_CHAT, SUPER_G1, NOW)
        await OutboxRepo(db).migrate_chat(BOUND, SUPER_BOUND, NOW)
        inherited = (await chats.key_of_chat(SUPER_G1), await chats.key_of_chat(SUPER_BOUND))
        pushed_before = await chats.chats_of_grids(["g1", "g2"])
        await RegistryRepo(db).bind(SUPER_G1, "g2", f.SECRETARY, NOW)  # rebound after upgrade
        rebound = await chats.key_of_chat(SUPER_G1)
        pushed_g1 = await chats.chats_of_grids(["g1"])
    finally:
        await db.close()

    assert inherited == ("g1", "g2")
    assert pushed_before == (SUPER_G1, f.G2_CHAT, SUPER_BOUND)  # current ids, once each
    assert rebound == "g2" and pushed_g1 == ()


async def test_community_of_chat_follows_the_grid_and_its_upgrades(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "g.sqlite3")
    try:
        chats = ChatGrids(f.make_two_communities(), ChatGridRepo(db))
        await RegistryRepo(db).bind(BOUND, "h1", f.SECRETARY_B, NOW)
        await OutboxRepo(db).migrate_chat(f.H1_CHAT, SUPER_G1, NOW)
        found = [
            await chats.community_of_chat(chat)
            for chat in (f.G2_CHAT, f.H1_CHAT, SUPER_G1, BOUND, -1999)
        ]
        one = await ChatGrids(f.make_config(), ChatGridRepo(db)).community_of_chat(f.G1_CHAT)
    finally:
        await db.close()

    assert found == ["yhw", "jsh", "jsh", "jsh", None]
    assert one == "default"


async def test_both_tables_in_one_query_equal_each_read_alone(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "g.sqlite3")
    try:
        repo = ChatGridRepo(db)
        await RegistryRepo(db).bind(BOUND, "g2", f.SECRETARY, NOW)
        await RegistryRepo(db).bind(-1010, "", f.SECRETARY, NOW)  # the whole community
        await OutboxRepo(db).migrate_chat(BOUND, SUPER_BOUND, NOW)
        together = await repo.tables()
        alone = (await repo.bindings(), await repo.migrations())
    finally:
        await db.close()
    assert together == alone == ({BOUND: "g2", -1010: ""}, {BOUND: SUPER_BOUND})
