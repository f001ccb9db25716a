"""Due work of consultation (issue #6) for the one-minute sweep: meeting reminders to invitees
(``[meetings] reminder_hours`` before the start), the convenor's reminder when the minutes are
missing ``close_reminder_days`` after the end, the end of the publicity window (the
resolutions become final), and 接龙 deadlines.

Each meeting occurrence is claimed in ``schedule_runs`` under ``meeting:<n>:<what>`` in the
caller's transaction, like the calendar rules (architecture.md, invariant 5): a restart
never repeats or loses it. A reminder whose moment passed more than the grace period ago
(the bot was down, or the meeting was created later than that) is recorded and not sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.config import Config
from bot.consult.jielong import JielongService, JielongView
from bot.consult.meetings import MeetingService
from bot.consult.meetings_model import MeetingView
from storage.consult.meetings import MeetingRecord
from storage.schedule.runs import ScheduleRepo

KIND = "meeting"


class ConsultKind(StrEnum):
    REMIND = "remind"  # to each invitee, privately
    OVERDUE = "overdue"  # to the convenor: minutes not published yet
    FINAL = "final"  # to the meeting's groups and the convenor: resolutions in force
    JIELONG_CLOSED = "jielong_closed"  # the list's message shows it closed


@dataclass(frozen=True)
class ConsultNotice:
    kind: ConsultKind
    meeting: MeetingView | None = None
    jielong: JielongView | None = None
    hours: int = 0  # REMIND: how long before the start


class ConsultSweep:
    def __init__(
        self,
        meetings: MeetingService,
        jielongs: JielongService,
        runs: ScheduleRepo,
        config: Config,
    ) -> None:
        self.meetings = meetings
        self.jielongs = jielongs
        self.runs = runs
        self.config = config

    async def sweep(self, now: datetime) -> list[ConsultNotice]:
        notices: list[ConsultNotice] = []
        async with self.runs.db.transaction():
            for record in await self.meetings.repo.open_meetings():
                notices += await self._reminders(record, now)
                notices += await self._overdue(record, now)
            for record in await self.meetings.repo.publicity_over(now):
                if await self.meetings.repo.finalise(record.id, now):
                    await self.runs.record(
                        f"{KIND}:{record.id}:final",
                        KIND,
                        record.publicity_until or now,
                        "sent",
                        now,
                    )
                    notices.append(ConsultNotice(ConsultKind.FINAL, await self._view(record)))
            for closed in await self.jielongs.sweep(now):
                notices.append(ConsultNotice(ConsultKind.JIELONG_CLOSED, jielong=closed))
        return notices

    async def _reminders(self, record: MeetingRecord, now: datetime) -> list[ConsultNotice]:
        grace = timedelta(minutes=self.config.schedule.grace_minutes)
        notices = []
        for hours in self.config.meetings.reminder_hours:
            at = record.starts_at - timedelta(hours=hours)
            key = f"{KIND}:{record.id}:remind:{hours}h"
            if at > now or await self.runs.recorded(key):
                continue
            late = now - at > grace or at < record.created_at or now >= record.starts_at
            await self.runs.record(key, KIND, at, "missed" if late else "sent", now)
            if not late:
                view = await self._view(record)
                notices.append(ConsultNotice(ConsultKind.REMIND, view, hours=hours))
        return notices

    async def _overdue(self, record: MeetingRecord, now: datetime) -> list[ConsultNotice]:
        at = record.ends_at + timedelta(days=self.config.meetings.close_reminder_days)
        key = f"{KIND}:{record.id}:overdue"
        if at > now or not await self.runs.record(key, KIND, at, "sent", now):
            return []
        return [ConsultNotice(ConsultKind.OVERDUE, await self._view(record))]

    async def _view(self, record: MeetingRecord) -> MeetingView:
        return await self.meetings.view(record.id)
