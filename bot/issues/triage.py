"""Triage (分拨) by the grid worker: 受理, 交办, 退回, 合并, 转办, 改类别 and 改时限.

Each action is one transaction: load the issue, check the permission of the person who pressed
the button (never the callback data), let the transition table decide, then write the change
and its event (``IssueCore.step``, or ``IssueCore.acting`` when the action checks the loaded
issue first).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Final

from bot.config import Config
from bot.core.errors import InvalidInput, IssueFinished
from bot.core.workcal import Unit, parse_duration
from bot.issues.core import IssueCore, required
from bot.issues.model import (
    FINISHED,
    Action,
    AlreadyDone,
    NoticeKind,
    Outcome,
    State,
    action_ref,
    state_ref,
)
from storage.clock import to_db
from storage.issues.repo import ReporterRecord

# The longest 改时限: a year (calendar.add walks working days one by one).
MAX_DEADLINE_DAYS: Final = 366
HALF_A_YEAR: Final = 183  # days back beyond which a date without a year means next year
# 改时限 to a date: 3月20日, 3月20号 18:00, 2026-03-20, 2026年3月20日 12:00, 3/20.
_DATE: Final = re.compile(
    r"^(?:(\d{4})[-/年])?(\d{1,2})[-/月](\d{1,2})[日号]?(?:\s*(\d{1,2})[:：](\d{2}))?$"
)


class TriageService:
    """The grid worker's decisions on a report."""

    def __init__(self, core: IssueCore) -> None:
        self.core = core

    async def accept(self, user_id: int, number: int) -> Outcome:
        """受理: the grid worker takes the report on."""
        core = self.core
        changes = {"accepted_at": core.now()}
        _, issue = await core.step(user_id, number, Action.ACCEPT, changes=changes)
        notices = core.to_reporters(issue, NoticeKind.STATUS_TO_REPORTER, action=Action.ACCEPT)
        return core.outcome(issue, notices)

    async def assign(
        self, user_id: int, number: int, handler_key: str, resolve_by: datetime | None = None
    ) -> Outcome:
        """交办: to a configured handler, due by the category's limit unless a date is given."""
        core = self.core
        handler = core.config.handler_by_key(handler_key)
        if handler is None:
            raise InvalidInput("issues.errors.unknown_handler", handler=handler_key)
        now = core.now()
        if resolve_by is not None and resolve_by <= now:
            raise InvalidInput("issues.errors.deadline_past")
        async with core.acting(user_id, number, Action.ASSIGN) as step:
            if not _same_community(core.config, step.issue.grid, handler.key):
                # a property company of another community is not this issue's (issue #15)
                raise InvalidInput("issues.errors.unknown_handler", handler=handler_key)
            limit = core.limit_for(step.issue.category, step.issue.urgent)
            changes = {
                "handler": handler.key,
                "assigned_at": now,
                "reason": None,
                "contacted_at": None,
                "resolve_by": resolve_by or core.calendar.add(now, limit.resolve),
            }
            if step.issue.state is State.NEW:
                changes["accepted_at"] = now
            issue = await step.apply(note=handler.key, changes=changes)
        notices = core.to_handler(issue, NoticeKind.HANDLER_ORDER, action=Action.ASSIGN)
        notices += core.to_reporters(issue, NoticeKind.STATUS_TO_REPORTER, action=Action.ASSIGN)
        return core.outcome(issue, notices)

    async def reject(self, user_id: int, number: int, reason: str) -> Outcome:
        """退回: not something the community handles; the reporters are told why."""
        reason = required(reason, "issues.errors.reason_required")
        core = self.core
        changes = {"reason": reason, "closed_at": core.now()}
        _, issue = await core.step(user_id, number, Action.REJECT, note=reason, changes=changes)
        notices = core.to_reporters(
            issue, NoticeKind.STATUS_TO_REPORTER, action=Action.REJECT, note=reason
        )
        return core.outcome(issue, notices)

    async def merge(self, user_id: int, number: int, into: int) -> Outcome:
        """合并 a duplicate into ``into``: its reporters join the target and share its outcome."""
        if number == into:
            raise InvalidInput("issues.errors.merge_self")
        core = self.core
        async with core.acting(user_id, number, Action.MERGE) as step:
            target = await core.load(into)
            core.authorize(user_id, Action.MERGE, target)
            if target.state in (State.CLOSED, State.MERGED, State.REJECTED):
                raise InvalidInput("issues.errors.merge_target_finished", target=into)
            now = core.now()
            for reporter in await self._reporter_records(number):
                await core.repo.add_reporter(target.id, reporter, now)
            await core.note_event(
                target, Action.MERGE, actor_id=user_id, role=step.role.value, note=f"#{number}"
            )
            changes = {"merged_into": target.id, "closed_at": now}
            issue = await step.apply(note=f"#{into}", changes=changes)
        notices = core.to_reporters(
            issue, NoticeKind.STATUS_TO_REPORTER, action=Action.MERGE, related=(into,)
        )
        return core.outcome(issue, notices)

    async def _reporter_records(self, number: int) -> list[ReporterRecord]:
        """The issue's reporters, marked as having come from it (``via_issue``)."""
        record = await self.core.repo.by_number(number)
        assert record is not None
        return [replace(r, via_issue=record.id) for r in record.reporters]

    async def transfer(self, user_id: int, number: int, grid_key: str) -> Outcome:
        """转办 to another grid: it starts again as new there, with a fresh respond deadline."""
        core = self.core
        if core.config.grid_by_key(grid_key) is None:
            raise InvalidInput("issues.errors.unknown_grid", grid=grid_key)
        async with core.acting(user_id, number, Action.TRANSFER) as step:
            if step.issue.grid == grid_key:
                raise InvalidInput("issues.errors.same_grid")
            if core.config.community_of_grid(step.issue.grid) != core.config.community_of_grid(
                grid_key
            ):  # 转办 stays inside the community; another community is another office
                raise InvalidInput("issues.errors.unknown_grid", grid=grid_key)
            limit = core.limit_for(step.issue.category, step.issue.urgent)
            respond_by = core.calendar.add(core.now(), limit.respond)
            changes = {"grid": grid_key, "respond_by": respond_by, "accepted_at": None}
            issue = await step.apply(note=grid_key, changes=changes)
        notices = core.to_workers(issue, NoticeKind.WORKER_CARD, action=Action.TRANSFER)
        return core.outcome(issue, notices)

    async def recategorise(self, user_id: int, number: int, category_key: str) -> Outcome:
        """Change the category; deadlines already set are kept (they were promised)."""
        core = self.core
        if core.config.category(category_key) is None:
            raise InvalidInput("issues.errors.unknown_category", category=category_key)
        async with core.acting(user_id, number, Action.RECATEGORISE) as step:
            if step.issue.category == category_key:
                raise AlreadyDone()
            note = f"{step.issue.category}→{category_key}"
            issue = await step.apply(note=note, changes={"category": category_key})
        return core.outcome(issue, [])

    async def summarise(self, user_id: int, number: int, text: str) -> Outcome:
        """The gist of a voice report, typed by a grid worker who listened to it: it becomes
        the issue's text (card, /issue, ledger); the voice note stays (issue #18 item 2)."""
        text = required(text, "issues.errors.note_required")
        core = self.core
        if len(text) > core.config.issues.max_report_chars:
            limit = core.config.issues.max_report_chars
            raise InvalidInput("issues.errors.too_long", limit=limit, length=len(text))
        async with core.repo.db.transaction():
            issue = await core.load(number)
            role = core.authorize(user_id, Action.SUMMARISE, issue)
            if issue.state in FINISHED:  # no state changes, so not in the transition table
                refs = {"state": state_ref(issue.state), "action": action_ref(Action.SUMMARISE)}
                raise IssueFinished(refs=refs)
            if issue.voice_file_id is None:
                raise InvalidInput("issues.errors.not_voice", number=number)
            if issue.description == text:
                raise AlreadyDone()
            await core.repo.update(issue.id, {"description": text}, core.now())
            await core.note_event(
                issue, Action.SUMMARISE, actor_id=user_id, role=role.value, note=text
            )
            issue = await core.load(number)
        return core.outcome(issue, [])

    async def change_deadline(self, user_id: int, number: int, limit: str) -> Outcome:
        """改时限: a new resolve-by, agreed with the handler: a limit from now (``eod``,
        ``3wd``, ``15d`` …) or a date (``3月20日``, ``3月20日 12:00``, ``2026-03-20``; by the
        end of the working day unless a time is given). The handler gets a new 交办单 and
        chasing starts again from it (the 催办 at 75% counts from now, as after 重办)."""
        core = self.core
        now = core.now()
        resolve_by = self._deadline(limit.strip(), now)
        if resolve_by <= now:
            raise InvalidInput("issues.errors.deadline_past")
        if resolve_by - now > timedelta(days=MAX_DEADLINE_DAYS):
            raise InvalidInput("issues.errors.bad_deadline", limit=limit)
        async with core.acting(user_id, number, Action.SET_DEADLINE) as step:
            if step.issue.resolve_by == resolve_by:
                raise AlreadyDone()
            changes = {"resolve_by": resolve_by, "assigned_at": now}
            issue = await step.apply(note=to_db(resolve_by), changes=changes)
        notices = core.to_handler(issue, NoticeKind.HANDLER_ORDER, action=Action.SET_DEADLINE)
        return core.outcome(issue, notices)

    def _deadline(self, limit: str, now: datetime) -> datetime:
        """``limit`` as a moment: a date or a limit from now. A date without a year is this
        year's, or next year's when it lies more than half a year back (1月5日 written in
        December); a date a few days back is a mistake and refused as past."""
        config = self.core.config
        date_match = _DATE.match(limit)
        if date_match is None:
            try:
                duration = parse_duration(limit)
            except ValueError:
                raise InvalidInput("issues.errors.bad_deadline", limit=limit) from None
            in_hours = duration.unit in (Unit.HOURS, Unit.WORKING_HOURS)
            if duration.amount > MAX_DEADLINE_DAYS * (24 if in_hours else 1):
                raise InvalidInput("issues.errors.bad_deadline", limit=limit)  # forged button
            return self.core.calendar.add(now, duration)
        year, month, day, hour, minute = date_match.groups()
        local = now.astimezone(config.timezone)
        try:
            at = config.calendar.work_end if hour is None else time(int(hour), int(minute))
            moment = datetime.combine(
                date(int(year or local.year), int(month), int(day)), at, config.timezone
            )
            if year is None and (local.date() - moment.date()).days > HALF_A_YEAR:
                moment = moment.replace(year=local.year + 1)
        except ValueError:
            raise InvalidInput("issues.errors.bad_deadline", limit=limit) from None
        return moment


def _same_community(config: Config, grid: str, handler: str) -> bool:
    """Whether ``handler`` serves the community of ``grid``."""
    community = config.community_of_handler(handler)
    return community is not None and community == config.community_of_grid(grid)
