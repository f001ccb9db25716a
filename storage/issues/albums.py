"""Album parts (migration 0016): the photos of one Telegram album, kept as they arrive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.clock import to_db
from storage.db import Database


@dataclass(frozen=True)
class AlbumPart:
    chat_id: int
    media_group_id: str
    message_id: int
    user_id: int
    file_id: str


class AlbumRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_part(self, part: AlbumPart, now: datetime) -> bool:
        """Keep one part (a redelivered part is kept once); return whether it is new."""
        async with self.db.writing() as tx:
            added = await tx.execute(
                "INSERT OR IGNORE INTO album_parts (chat_id, media_group_id, message_id,"
                " user_id, file_id, received_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    part.chat_id,
                    part.media_group_id,
                    part.message_id,
                    part.user_id,
                    part.file_id,
                    to_db(now),
                ),
            )
        return added == 1

    async def file_ids(self, chat_id: int, media_group_id: str) -> list[str]:
        """The album's photos so far, in the order Telegram numbered them."""
        rows = await self.db.fetchall(
            "SELECT file_id FROM album_parts WHERE chat_id = ? AND media_group_id = ?"
            " ORDER BY message_id",
            (chat_id, media_group_id),
        )
        return [str(row[0]) for row in rows]

    async def issue_of(self, chat_id: int, media_group_id: str) -> int | None:
        """The id of the issue the album became, if its report has arrived."""
        row = await self.db.fetchone(
            "SELECT issue_id FROM album_parts WHERE chat_id = ? AND media_group_id = ?"
            " AND issue_id IS NOT NULL LIMIT 1",
            (chat_id, media_group_id),
        )
        return None if row is None else int(row[0])

    async def link(self, chat_id: int, media_group_id: str, issue_id: int) -> None:
        """The album became ``issue_id``: its parts so far say so (a later one, on arrival)."""
        async with self.db.writing() as tx:
            await tx.execute(
                "UPDATE album_parts SET issue_id = ? WHERE chat_id = ? AND media_group_id = ?",
                (issue_id, chat_id, media_group_id),
            )
