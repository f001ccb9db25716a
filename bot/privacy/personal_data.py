"""A person's rights over their data (PIPL arts. 44–47) and the retention sweep (art. 19).

``/mydata`` returns everything stored about the person, section by section, and a JSON
copy. ``/forget`` deletes what is only theirs and pseudonymises what the ledger needs (their
reports stay, reported by the "forgotten" label 已注销居民, with phone numbers masked in the
text); then the WAL is checkpointed so no old page image keeps the data (see
``storage.privacy.personal_data``). Both follow each feature's declaration, as does retention
(reporters of issues closed longer ago than ``privacy.retention_days`` are anonymised).
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from bot.config import Config
from bot.core.clock import Clock
from bot.privacy.service import mask_phones
from storage.db import Database
from storage.privacy.declare import Period
from storage.privacy.personal_data import PersonalDataRepo, ReportedText
from storage.registry.repo import RegistryRepo

_PHONE: Final = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")


@dataclass(frozen=True)
class MyData:
    """What /mydata found: ``sections`` by /mydata section key (see the storage
    declarations), each a list of rows; ``file`` is the JSON copy."""

    exported_at: datetime
    sections: dict[str, list[dict[str, Any]]]
    file: bytes


# A private report draft nobody touched for this long is cleared (its text may be personal).
DRAFT_DAYS: Final = 7
# Raw updates (what residents wrote, as received) are kept this long after being handled:
# enough to look into a problem, not a second archive of the group chats.
INBOX_DAYS: Final = 7


class PersonalDataService:
    def __init__(
        self,
        db: Database,
        repo: PersonalDataRepo,
        registry: RegistryRepo,
        clock: Clock,
        config: Config,
        forgotten_label: str,
    ) -> None:
        self.db = db
        self.repo = repo
        self.registry = registry
        self.clock = clock
        self.config = config
        self.label = forgotten_label
        self._checkpoints: set[asyncio.Task[None]] = set()

    async def my_data(self, user_id: int) -> MyData:
        """Everything stored about ``user_id``: the declared sections, and all of it as UTF-8
        JSON (the copy a person may take elsewhere, PIPL art. 45)."""
        now = self.clock.now()
        sections = await self.repo.export(user_id)
        data = {"user_id": user_id, "exported_at": now.isoformat(), **sections}
        file = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")
        return MyData(now, sections, file)

    async def forget(self, user_id: int) -> None:
        """Erase the person (see module docstring); the WAL is emptied after the commit."""
        names = await self.repo.display_names(user_id)
        texts = await self.repo.reported_texts(user_id)
        phones = {
            p
            for t in texts
            for p in _PHONE.findall(f"{t.description} {t.location} {t.result or ''}")
        }
        for link in await self.registry.links_of(user_id):
            household = await self.registry.household(link.household_id)
            if household and household.phone and link.relation == "owner":
                phones.add(household.phone)
        masked = [self._mask(t, names) for t in texts]
        async with self.db.transaction() as tx:
            await self.repo.forget(user_id, self.label, masked, sorted(names | phones))
            tx.after_commit(self._checkpoint_soon)

    async def retention_sweep(self) -> int:
        """Apply every declared retention rule; return how many closed issues had their
        reporters anonymised. Reporters of issues closed more than ``retention_days`` ago are
        anonymised, private report drafts abandoned for DRAFT_DAYS cleared, and raw updates
        handled more than INBOX_DAYS ago deleted."""
        now = self.clock.now()
        cutoffs = {
            Period.CLOSED: now - timedelta(days=self.config.privacy.retention_days),
            Period.DRAFT: now - timedelta(days=DRAFT_DAYS),
            Period.HANDLED: now - timedelta(days=INBOX_DAYS),
        }
        texts = await self.repo.closed_texts(cutoffs[Period.CLOSED], self.label)
        await self.repo.expire(cutoffs, self.label, [self._mask(t, set()) for t in texts])
        return len(texts)

    async def wait_checkpoints(self) -> None:
        """Wait for the checkpoints scheduled by erasures (tests and shutdown)."""
        if self._checkpoints:
            await asyncio.gather(*self._checkpoints)

    def _mask(self, text: ReportedText, names: set[str]) -> ReportedText:
        def masked(value: str | None) -> str | None:
            if value is None:
                return None
            value = mask_phones(value)
            for name in sorted(names, key=len, reverse=True):
                value = value.replace(name, self.label)
            return value

        description = masked(text.description) or ""
        return ReportedText(text.issue_id, description, masked(text.location), masked(text.result))

    def _checkpoint_soon(self) -> None:
        task = asyncio.get_running_loop().create_task(self.db.checkpoint())
        self._checkpoints.add(task)
        task.add_done_callback(self._checkpoints.discard)
