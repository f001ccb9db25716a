"""The issue loop (报事闭环, issue #3): triage by the grid worker, handling by the handler, and
the views of queues and timelines. Intake lives in ``issues_report``, feedback and rates in
``issues_feedback``, the transition table in ``issues_model``; :class:`IssueService` is the one
object handlers use.

Every action follows the same three steps inside one transaction: load the issue, check the
permission of the person who pressed the button (never the callback data), then let the
transition table decide (``IssueCore.act``); the change and its event commit together.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Final

from bot.core.errors import InvalidInput, NotPermitted
from bot.core.permissions import GridScope, may
from bot.core.workcal import Unit, parse_duration
from bot.issues.handling import HandlingService, required
from bot.issues.model import (
    Action,
    AlreadyDone,
    EventView,
    IssueView,
    NoticeKind,
    Outcome,
    State,
)
from bot.issues.reporting import IntakeService
from storage.clock import to_db
from storage.issues.repo import ReporterRecord

# The longest 改时限: a year (calendar.add walks working days one by one).
MAX_DEADLINE_DAYS: Final = 366
HALF_A_YEAR: Final = 183  # days back beyond which a date without a year means next year
# 改时限 to a date: 3月20日, 3月20号 18:00, 2026-03-20, 2026年3月20日 12:00, 3/20.
_DATE: Final = re.compile(
    r"^(?:(\d{4})[-/年])?(\d{1,2})[-/月](\d{1,2})[日号]?(?:\s*(\d{1,2})[:：](\d{2}))?$"
)


class QueueFilter(StrEnum):
    ALL = "all"
    OVERDUE = "overdue"
    UNASSIGNED = "unassigned"


class IssueService(IntakeService, HandlingService):
    # -- triage by the grid worker -------------------------------------------------------------

    async def accept(self, user_id: int, number: int) -> Outcome:
        """受理: the grid worker takes the report on."""
        async with self.repo.db.transaction():
            issue, role = await self.act(user_id, number, Action.ACCEPT)
            issue = await self.transition(
                issue,
                Action.ACCEPT,
                actor_id=user_id,
                role=role.value,
                changes={"accepted_at": self.now()},
            )
        return self.outcome(
            issue, self.to_reporters(issue, NoticeKind.STATUS_TO_REPORTER, action=Action.ACCEPT)
        )

    async def assign(
        self, user_id: int, number: int, handler_key: str, resolve_by: datetime | None = None
    ) -> Outcome:
        """交办: to a configured handler, due by the category's limit unless a date is given."""
        handler = self.config.handler_by_key(handler_key)
        if handler is None:
            raise InvalidInput("issues.errors.unknown_handler", handler=handler_key)
        now = self.now()
        if resolve_by is not None and resolve_by <= now:
            raise InvalidInput("issues.errors.deadline_past")
        async with self.repo.db.transaction():
            issue, role = await self.act(user_id, number, Action.ASSIGN)
            limit = self.limit_for(issue.category, issue.urgent)
            changes = {
                "handler": handler.key,
                "assigned_at": now,
                "reason": None,
                "contacted_at": None,
                "resolve_by": resolve_by or self.calendar.add(now, limit.resolve),
            }
            if issue.state is State.NEW:
                changes["accepted_at"] = now
            issue = await self.transition(
                issue,
                Action.ASSIGN,
                actor_id=user_id,
                role=role.value,
                note=handler.key,
                changes=changes,
            )
        notices = self.to_handler(issue, NoticeKind.HANDLER_ORDER, action=Action.ASSIGN)
        notices += self.to_reporters(issue, NoticeKind.STATUS_TO_REPORTER, action=Action.ASSIGN)
        return self.outcome(issue, notices)

    async def reject(self, user_id: int, number: int, reason: str) -> Outcome:
        """退回: not something the community handles; the reporters are told why."""
        reason = required(reason, "issues.errors.reason_required")
        async with self.repo.db.transaction():
            issue, role = await self.act(user_id, number, Action.REJECT)
            issue = await self.transition(
                issue,
                Action.REJECT,
                actor_id=user_id,
                role=role.value,
                note=reason,
                changes={"reason": reason, "closed_at": self.now()},
            )
        notices = self.to_reporters(
            issue, NoticeKind.STATUS_TO_REPORTER, action=Action.REJECT, note=reason
        )
        return self.outcome(issue, notices)

    async def merge(self, user_id: int, number: int, into: int) -> Outcome:
        """合并 a duplicate into ``into``: its reporters join the target and share its outcome."""
        if number == into:
            raise InvalidInput("issues.errors.merge_self")
        async with self.repo.db.transaction():
            issue, role = await self.act(user_id, number, Action.MERGE)
            target = await self.load(into)
            self.authorize(user_id, Action.MERGE, target)
            if target.state in (State.CLOSED, State.MERGED, State.REJECTED):
                raise InvalidInput("issues.errors.merge_target_finished", target=into)
            now = self.now()
            for reporter in await self._reporter_records(issue.number):
                await self.repo.add_reporter(target.id, reporter, now)
            await self.note_event(
                target, Action.MERGE, actor_id=user_id, role=role.value, note=f"#{issue.number}"
            )
            issue = await self.transition(
                issue,
                Action.MERGE,
                actor_id=user_id,
                role=role.value,
                note=f"#{into}",
                changes={"merged_into": target.id, "closed_at": now},
            )
        notices = self.to_reporters(
            issue, NoticeKind.STATUS_TO_REPORTER, action=Action.MERGE, related=(into,)
        )
        return self.outcome(issue, notices)

    async def _reporter_records(self, number: int) -> list[ReporterRecord]:
        """The issue's reporters, marked as having come from it (``via_issue``)."""
        record = await self.repo.by_number(number)
        assert record is not None
        return [replace(r, via_issue=record.id) for r in record.reporters]

    async def transfer(self, user_id: int, number: int, grid_key: str) -> Outcome:
        """转办 to another grid: it starts again as new there, with a fresh respond deadline."""
        if self.config.grid_by_key(grid_key) is None:
            raise InvalidInput("issues.errors.unknown_grid", grid=grid_key)
        async with self.repo.db.transaction():
            issue, role = await self.act(user_id, number, Action.TRANSFER)
            if issue.grid == grid_key:
                raise InvalidInput("issues.errors.same_grid")
            now = self.now()
            limit = self.limit_for(issue.category, issue.urgent)
            issue = await self.transition(
                issue,
                Action.TRANSFER,
                actor_id=user_id,
                role=role.value,
                note=grid_key,
                changes={
                    "grid": grid_key,
                    "respond_by": self.calendar.add(now, limit.respond),
                    "accepted_at": None,
                },
            )
        return self.outcome(
            issue, self.to_workers(issue, NoticeKind.WORKER_CARD, action=Action.TRANSFER)
        )

    async def recategorise(self, user_id: int, number: int, category_key: str) -> Outcome:
        """Change the category; deadlines already set are kept (they were promised)."""
        if self.config.category(category_key) is None:
            raise InvalidInput("issues.errors.unknown_category", category=category_key)
        async with self.repo.db.transaction():
            issue, role = await self.act(user_id, number, Action.RECATEGORISE)
            if issue.category == category_key:
                raise AlreadyDone()
            issue = await self.transition(
                issue,
                Action.RECATEGORISE,
                actor_id=user_id,
                role=role.value,
                note=f"{issue.category}→{category_key}",
                changes={"category": category_key},
            )
        return self.outcome(issue, [])

    async def change_deadline(self, user_id: int, number: int, limit: str) -> Outcome:
        """改时限: a new resolve-by, agreed with the handler: a limit from now (``eod``,
        ``3wd``, ``15d`` …) or a date (``3月20日``, ``3月20日 12:00``, ``2026-03-20``; by the
        end of the working day unless a time is given). The handler gets a new 交办单 and
        chasing starts again from it (the 催办 at 75% counts from now, as after 重办)."""
        now = self.now()
        resolve_by = self._deadline(limit.strip(), now)
        if resolve_by <= now:
            raise InvalidInput("issues.errors.deadline_past")
        if resolve_by - now > timedelta(days=MAX_DEADLINE_DAYS):
            raise InvalidInput("issues.errors.bad_deadline", limit=limit)
        async with self.repo.db.transaction():
            issue, role = await self.act(user_id, number, Action.SET_DEADLINE)
            if issue.resolve_by == resolve_by:
                raise AlreadyDone()
            issue = await self.transition(
                issue,
                Action.SET_DEADLINE,
                actor_id=user_id,
                role=role.value,
                note=to_db(resolve_by),
                changes={"resolve_by": resolve_by, "assigned_at": now},
            )
        notices = self.to_handler(issue, NoticeKind.HANDLER_ORDER, action=Action.SET_DEADLINE)
        return self.outcome(issue, notices)

    def _deadline(self, limit: str, now: datetime) -> datetime:
        """``limit`` as a moment: a date or a limit from now. A date without a year is this
        year's, or next year's when it lies more than half a year back (1月5日 written in
        December); a date a few days back is a mistake and refused as past."""
        date_match = _DATE.match(limit)
        if date_match is None:
            try:
                duration = parse_duration(limit)
            except ValueError:
                raise InvalidInput("issues.errors.bad_deadline", limit=limit) from None
            in_hours = duration.unit in (Unit.HOURS, Unit.WORKING_HOURS)
            if duration.amount > MAX_DEADLINE_DAYS * (24 if in_hours else 1):
                raise InvalidInput("issues.errors.bad_deadline", limit=limit)  # forged button
            return self.calendar.add(now, duration)
        year, month, day, hour, minute = date_match.groups()
        local = now.astimezone(self.config.timezone)
        try:
            at = self.config.calendar.work_end if hour is None else time(int(hour), int(minute))
            moment = datetime.combine(
                date(int(year or local.year), int(month), int(day)), at, self.config.timezone
            )
            if year is None and (local.date() - moment.date()).days > HALF_A_YEAR:
                moment = moment.replace(year=local.year + 1)
        except ValueError:
            raise InvalidInput("issues.errors.bad_deadline", limit=limit) from None
        return moment

    # -- views ---------------------------------------------------------------------------------

    async def get(self, number: int, viewer: int) -> IssueView:
        """One issue, if ``viewer`` may see it (own report, grid staff, assigned handler)."""
        issue = await self.load(number)
        self.authorize(viewer, Action.VIEW, issue)
        return issue

    async def timeline(self, number: int, viewer: int) -> tuple[EventView, ...]:
        """Every change of the issue, oldest first."""
        issue = await self.get(number, viewer)
        return tuple(EventView.from_record(e) for e in await self.repo.events(issue.id))

    async def worker_queue(
        self, user_id: int, queue: QueueFilter = QueueFilter.ALL, grid_key: str | None = None
    ) -> tuple[IssueView, ...]:
        """Open issues of the grids this person works in (or of ``grid_key``), urgent first."""
        grids = self._queue_grids(user_id, grid_key)
        records = await self.repo.queue(
            grids,
            unassigned=queue is QueueFilter.UNASSIGNED,
            overdue_at=self.now() if queue is QueueFilter.OVERDUE else None,
        )
        return tuple([await self.view(r) for r in records])

    def _queue_grids(self, user_id: int, grid_key: str | None) -> list[str]:
        if grid_key is not None:
            if self.config.grid_by_key(grid_key) is None:
                raise InvalidInput("issues.errors.unknown_grid", grid=grid_key)
            self.authorize(user_id, Action.QUEUE, GridScope(grid_key))
            return [grid_key]
        grids = [
            g.key
            for g in self.config.community.grids
            if may(
                user_id, Action.QUEUE, GridScope(g.key), self.config, grants=self.roles.of(user_id)
            )
        ]
        if not grids:
            raise NotPermitted("issues.errors.only_worker")
        return grids

    async def handler_queue(self, user_id: int) -> tuple[IssueView, ...]:
        """The open issues assigned to this handler, oldest first."""
        handler = self.config.handler_by_user(user_id)
        if handler is None:
            raise NotPermitted("issues.errors.only_handler")
        records = await self.repo.assigned_to(handler.key)
        return tuple([await self.view(r) for r in records])

    async def mine(self, user_id: int) -> tuple[IssueView, ...]:
        """The issues this person reported (newest first), merged ones included."""
        return tuple([await self.view(r) for r in await self.repo.by_reporter(user_id)])
