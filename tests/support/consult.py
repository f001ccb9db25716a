"""接龙 and meeting services (issue #6) on a real database with the registry imported, on a
fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.app import build_features
from bot.consult.jielong import JielongService
from bot.consult.meetings import MeetingService
from bot.consult.sweep import ConsultSweep
from bot.core.rendering import Renderer
from bot.registry.service import RegistryService
from storage.db import Database
from tests.support import factories as f
from tests.support.registry import as_csv, sample_rows


@dataclass
class ConsultWorld:
    db: Database
    clock: f.FakeClock
    registry: RegistryService
    jielong: JielongService
    meetings: MeetingService
    sweep: ConsultSweep

    async def verify(self, user_id: int, name: str, room: str) -> None:
        """``user_id`` becomes a verified resident of ``room`` ("1-2-301")."""
        await self.registry.consent(user_id, name)
        household = await self.registry.find_room(room)
        await self.registry.claim(user_id, household.id, "owner")
        await self.registry.decide(f.WORKER_G1, user_id, household.id, approve=True)


@asynccontextmanager
async def consult_world(tmp_path: Path) -> AsyncIterator[ConsultWorld]:
    config = f.make_config()
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    clock = f.FakeClock()
    try:
        found = await build_features(db, clock, config, Renderer())
        registry: RegistryService = found.registry
        # As CSV: only the households matter here, and the .xlsx reader has its own tests.
        await registry.import_sheet(as_csv(sample_rows()), "households.csv", None)
        yield ConsultWorld(db, clock, registry, found.jielong, found.meetings, found.consult_sweep)
    finally:
        await db.close()
