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
from tests.support import factories as f
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


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2026 in Shanghai (Tuesday 3 March: the reports)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=f.SHANGHAI)


async def report(world: ScheduleWorld, chat: int, text: str) -> int:
    outcome = await world.issues.service.report(
        chat_id=chat, user_id=f.RESIDENT, display_name="王阿姨", text=text
    )
    return outcome.issue.number


async def seed_two_communities(world: ScheduleWorld) -> None:
    """阅海湾: two reports on Tuesday 3 March, both assigned, one resolved on time.
    金沙湖: one report the same day that nobody accepted (overdue by the digest)."""
    service = world.issues.service
    world.issues.clock.set(at(3, 9))
    lamp = await report(world, f.G1_CHAT, "#报事 3号楼路灯坏了")
    lift = await report(world, f.G2_CHAT, "#报事 5号楼电梯停运")
    await report(world, f.H1_CHAT, "#报事 8号楼门禁坏了")
    await service.assign(f.WORKER_G1, lamp, "property", resolve_by=at(4, 18))
    await service.assign(f.WORKER_G2, lift, "city", resolve_by=at(6, 18))
    world.issues.clock.set(at(3, 15))
    await service.handler_resolve(f.PROPERTY_USER, lamp, "已更换灯泡")
