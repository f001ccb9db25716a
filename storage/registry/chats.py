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

    async def tables(self) -> tuple[dict[int, str], dict[int, int]]:
        """``bindings()`` and ``migrations()`` in one query: every report asks for both, and
        each query is a hop to the database thread (issue #15 item 6)."""
        rows = await self.db.fetchall(
            "SELECT 'b' AS kind, chat_id AS chat, grid AS target FROM group_bindings"
            # CAST: PostgreSQL requires one type per column of a UNION (SQLite does not care)
            " UNION ALL SELECT 'm', old_chat_id, CAST(new_chat_id AS TEXT) FROM chat_migrations"
        )
        bindings = {int(r["chat"]): str(r["target"]) for r in rows if r["kind"] == "b"}
        migrations = {int(r["chat"]): int(r["target"]) for r in rows if r["kind"] == "m"}
        return bindings, migrations
