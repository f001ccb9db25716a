"""Which grid each group chat serves, as stored: ``/bind`` bindings and supergroup upgrades
(issue #13 item 3). ``bot.core.grids.ChatGrids`` owns the rule that combines them with the
config; this module only reads the two tables.

Both tables hold one row per group the bot has ever been bound in or seen upgraded: a handful
of rows, read whole.
"""

from __future__ import annotations

from storage.db import Database


class ChatGridRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def bindings(self) -> dict[int, str]:
        """Every group bound with /bind: chat id → grid key ('' = the whole community)."""
        rows = await self.db.fetchall("SELECT chat_id, grid FROM group_bindings")
        return {int(r["chat_id"]): str(r["grid"]) for r in rows}

    async def migrations(self) -> dict[int, int]:
        """Every basic group upgraded to a supergroup: old chat id → new chat id."""
        rows = await self.db.fetchall("SELECT old_chat_id, new_chat_id FROM chat_migrations")
        return {int(r["old_chat_id"]): int(r["new_chat_id"]) for r in rows}
