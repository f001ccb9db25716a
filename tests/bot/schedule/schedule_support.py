"""A real database, the issue service and the schedule services on a fake clock (issue #5)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.app import schedule_features
from bot.config import Config
from bot.schedule.checkin import CheckinService
from bot.schedule.model import NoticeKind, ScheduleNotice
from bot.schedule.service import ScheduleService, SweepResult
from tests.support.factories import IssueWorld, issue_world


@dataclass
class ScheduleWorld:
    issues: IssueWorld
    schedule: ScheduleService
    checkin: CheckinService

    def restart(self) -> None:
        """New service objects over the same database: nothing survives but the tables."""
        self.schedule, self.checkin = schedule_features(
            self.issues.db, self.issues.clock, self.issues.config, self.issues.service
        )

    async def sweep_at(self, moment: datetime) -> SweepResult:
        self.issues.clock.set(moment)
        return await self.schedule.sweep(moment)

    async def run(
        self, start: datetime, end: datetime, step: timedelta
    ) -> list[tuple[datetime, ScheduleNotice]]:
        """Sweep every ``step`` from ``start`` to ``end``; every notice with its sweep time."""
        sent = []
        moment = start
        while moment <= end:
            result = await self.sweep_at(moment)
            sent += [(moment, notice) for notice in result.notices]
            moment += step
        return sent


def of_kind(
    sent: Iterable[tuple[datetime, ScheduleNotice]], kind: NoticeKind
) -> list[tuple[datetime, ScheduleNotice]]:
    return [(at, n) for at, n in sent if n.kind is kind]


@asynccontextmanager
async def schedule_world(
    tmp_path: Path, config: Config | None = None
) -> AsyncIterator[ScheduleWorld]:
    async with issue_world(tmp_path, config) as issues:
        world = ScheduleWorld(issues, None, None)  # type: ignore[arg-type]
        world.restart()
        yield world
