"""Deadline chasing (催办 / 督办, issue #5), derived from each issue's deadline on every sweep.

For an issue a handler is working on (已交办 / 处理中) with a resolve-by deadline:

* ``remind``: at ``remind_fraction`` (75%) of the time from assignment to the deadline (or the
  next working moment after it), 催办 to the handler;
* ``overdue``: once the deadline has passed, 督办 to the handler and the grid's workers;
* ``escalate<i>``: once the deadline is ``after_working_days`` working days behind (China's
  official calendar: weekends and holidays do not count, make-up days do), 升级督办 to the
  grid's leaders or the community's secretaries.

Each step is recorded under a key holding the deadline, so a reopened issue (new deadline)
walks the ladder again, and an issue resolved, returned, rejected or closed is never chased.
After downtime only the latest step that is due is sent; earlier ones it overtook are recorded
as skipped, so nobody receives a 催办 and a 督办 for the same issue in one burst.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import Config
from bot.services.issues import IssueService
from bot.services.issues_core import SYSTEM
from bot.services.issues_model import Action
from bot.services.schedule_model import NoticeKind, ScheduleNotice
from bot.services.workcal import WorkCalendar
from storage.clock import to_db
from storage.issue_stats import ChaseCandidate, IssueStats
from storage.schedules import ScheduleRepo


@dataclass(frozen=True)
class Step:
    name: str  # "remind", "overdue", "escalate1" …
    at: datetime
    action: Action
    audience: tuple[str, ...]  # "handler", "workers", "leaders", "secretaries"


def ladder(candidate: ChaseCandidate, config: Config, calendar: WorkCalendar) -> list[Step]:
    """The chase steps of one issue, earliest first."""
    chase = config.schedule.chase
    span = candidate.resolve_by - candidate.assigned_at
    # Nobody is chased at 04:00: a reminder falling outside working time waits for it.
    remind_at = calendar.next_working_moment(candidate.assigned_at + span * chase.remind_fraction)
    steps = [
        Step("remind", remind_at, Action.CHASE, ("handler",)),
        Step("overdue", candidate.resolve_by, Action.SUPERVISE, ("handler", "workers")),
    ]  # fmt: skip
    for index, rung in enumerate(chase.ladder, start=1):
        at = calendar.add_working_days(candidate.resolve_by, rung.after_working_days)
        steps.append(Step(f"escalate{index}", at, Action.ESCALATE, (rung.to,)))
    return sorted(steps, key=lambda step: step.at)


class Chaser:
    def __init__(
        self,
        issues: IssueService,
        stats: IssueStats,
        runs: ScheduleRepo,
        calendar: WorkCalendar,
    ) -> None:
        self.issues = issues
        self.stats = stats
        self.runs = runs
        self.calendar = calendar
        self.config = issues.config

    async def sweep(self, now: datetime) -> list[ScheduleNotice]:
        """Send the latest due, unrecorded step of every chased issue (inside a transaction).

        Every tick looks at every chased issue, but writes only for a step that fell due since
        the last one: the latest due steps already recorded are read in one query (most ticks
        find nothing new, and a statement per issue per minute kept the writer busy).
        """
        pending: list[tuple[ChaseCandidate, list[Step], str]] = []
        for candidate in await self.stats.chase_candidates():
            due = [s for s in ladder(candidate, self.config, self.calendar) if s.at < now]
            if due:
                key = f"chase:{candidate.number}:{to_db(candidate.resolve_by)}:"
                pending.append((candidate, due, key))
        recorded = await self.runs.recorded_among([key + due[-1].name for _, due, key in pending])
        notices: list[ScheduleNotice] = []
        for candidate, due, key in pending:
            *overtaken, latest = due
            if key + latest.name in recorded:
                continue  # its earlier steps were recorded with it or before it
            for step in overtaken:
                await self.runs.record(key + step.name, "chase", step.at, "skipped", now)
            if await self.runs.record(key + latest.name, "chase", latest.at, "sent", now):
                notices += await self._send(candidate, latest)
        return notices

    async def _send(self, candidate: ChaseCandidate, step: Step) -> list[ScheduleNotice]:
        issue = await self.issues.load(candidate.number)
        await self.issues.note_event(issue, step.action, actor_id=None, role=SYSTEM)
        values = {"step": step.name, "action": step.action.value}
        return [
            ScheduleNotice(NoticeKind.CHASE, person, template=step.action.value,
                           values=values, issue_no=candidate.number)
            for person in self._people(candidate, step.audience)
        ]  # fmt: skip

    def _people(self, candidate: ChaseCandidate, audience: tuple[str, ...]) -> list[int]:
        grid = self.config.grid_by_key(candidate.grid)
        handler = self.config.handler_by_key(candidate.handler or "")
        groups = {
            "handler": (handler.user_id,) if handler else (),
            "workers": grid.workers if grid else (),
            "leaders": grid.leaders if grid else (),
            "secretaries": self.config.community.secretaries,
        }
        people: list[int] = []
        for name in audience:
            people += [p for p in groups[name] if p not in people]
        return people
