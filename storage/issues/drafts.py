"""Private guided reports in progress (migration 0010): the resident's draft, as JSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage.clock import to_db
from storage.db import Database


class DraftRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> tuple[int, dict[str, Any] | None]:
        """(the last draft message's number, the draft's fields or None); (0, None) if none."""
        row = await self.db.fetchone(
            "SELECT seq, draft FROM issue_drafts WHERE user_id = ?", (user_id,)
        )
        if row is None:
            return 0, None
        return int(row[0]), None if row[1] is None else json.loads(row[1])

    async def put(
        self, user_id: int, seq: int, draft: dict[str, Any] | None, now: datetime
    ) -> None:
        """Store the draft (None: submitted or cancelled; the message number is kept)."""
        async with self.db.writing() as tx:
            await tx.execute(
                "INSERT INTO issue_drafts (user_id, seq, draft, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET seq = excluded.seq,"
                " draft = excluded.draft, updated_at = excluded.updated_at",
                (
                    user_id,
                    seq,
                    None if draft is None else json.dumps(draft, ensure_ascii=False),
                    to_db(now),
                ),
            )
