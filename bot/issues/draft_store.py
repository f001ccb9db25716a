"""Where a private guided report in progress is kept between messages: the database, written
with the update's other effects, so a restart does not lose a half-filled draft (migration 0010).
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from bot.core.clock import Clock
from bot.issues.draft import Draft
from storage.issues.drafts import DraftRepo

log = logging.getLogger(__name__)


class DraftStore:
    def __init__(self, repo: DraftRepo, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock

    async def load(self, user_id: int) -> tuple[int, Draft | None]:
        """(the number of the resident's last draft message, their draft in progress or None);
        a draft stored by an older version that no longer fits is dropped."""
        seq, fields = await self.repo.get(user_id)
        if fields is None:
            return seq, None
        if "buildings" in fields:  # JSON keeps the pairs as lists
            fields["buildings"] = tuple(tuple(pair) for pair in fields["buildings"])
        try:
            return seq, Draft(**fields)
        except TypeError:
            log.warning("dropped an unreadable report draft of user %s", user_id)
            return seq, None

    async def save(self, user_id: int, seq: int, draft: Draft | None) -> None:
        """Keep ``draft`` (None: submitted or cancelled; the message number is kept)."""
        fields = None if draft is None else asdict(draft)
        await self.repo.put(user_id, seq, fields, self.clock.now())
