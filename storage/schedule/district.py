"""A district's street offices and their communities (issue #16, migration 0027).

Each bot knows only its own config; the district's roll-up names every street office's
communities, so each bot writes its own here at start (``keep_current``) and whichever bot
sends the roll-up reads them all (``communities``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.clock import to_db
from storage.db import Database, placeholders


@dataclass(frozen=True)
class DistrictCommunity:
    community: str  # the community's key
    name: str
    office: str  # the street office's name
    bot: str


class DistrictRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def keep_current(
        self,
        bot: str,
        office: str,
        communities: Sequence[tuple[str, str]],
        now: datetime,
    ) -> list[DistrictCommunity]:
        """Record ``bot``'s ``communities`` ((key, name), as its config has them) under
        ``office``, and forget those it no longer serves. Returns the rows another bot had
        written for one of these keys: two configs claiming one community, which the caller
        reports (the newest start wins, as the data cannot say whose it is)."""
        keys = [key for key, _ in communities]
        async with self.db.writing() as tx:
            taken = []
            if keys:
                rows = await tx.fetchall(
                    "SELECT community, name, office, bot FROM district_communities"
                    f" WHERE community IN ({placeholders(len(keys))}) AND bot <> ?",
                    (*keys, bot),
                )
                taken = [DistrictCommunity(*row) for row in rows]
            await tx.execute(
                "DELETE FROM district_communities WHERE bot = ?"
                + (f" AND community NOT IN ({placeholders(len(keys))})" if keys else ""),
                (bot, *keys),
            )
            for key, name in communities:
                await tx.execute(
                    "INSERT INTO district_communities (community, name, office, bot, updated_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (community) DO UPDATE SET"
                    " name = excluded.name, office = excluded.office, bot = excluded.bot,"
                    " updated_at = excluded.updated_at",
                    (key, name, office, bot, to_db(now)),
                )
        return taken

    async def communities(self) -> list[DistrictCommunity]:
        """Every street office's communities, by office, then community key."""
        rows = await self.db.fetchall(
            "SELECT community, name, office, bot FROM district_communities"
            " ORDER BY office, community"
        )
        return [DistrictCommunity(*row) for row in rows]
