"""Feedback (回访): slips when an issue is resolved, answers that close or reopen it, the sweep
that reminds and expires, and the three rates over the slips.

Rules (issue #3, domain.md), in the words residents are told:

* Each reporter (merged issues' reporters included) gets one slip per resolution ("round").
* 未解决 or 不满意 reopens the issue (重办) to the same handler with the comment; the round's
  other unanswered slips are cancelled (superseded: counted neither as valid nor as missing).
* Otherwise the issue closes once every slip of the round is answered or expired.
* No answer after ``feedback_reminder_days``: one reminder. After ``feedback_expiry_days``: the
  slip expires as 未评价; it is not a valid slip and counts as missing in the rates.
* Rates count slips by the moment they were issued (the resolution), so a reopened issue has
  two valid slips, one in each round's period: the first (未解决) honestly lowers 解决率.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from bot.config import Config
from bot.core.errors import NotFound, NotPermitted, StaleSlip
from bot.core.permissions import Role
from bot.core.slices import write_in_slices
from bot.issues.core import SYSTEM, IssueCore, is_group
from bot.issues.model import Action, IssueView, Notice, NoticeKind, Outcome, State
from bot.issues.rates import (
    RateCounts,
    Rates,
    RateWeights,
    Satisfaction,
    Solved,
    rates_from_counts,
)
from storage.issues.repo import IssueRepo
from storage.issues.slips import SlipRecord

MAX_SLIPS_PER_SWEEP: Final = 200
# Slips written per transaction at most; fewer once the slice took its time (bot.core.slices).
SLIPS_PER_TRANSACTION: Final = 10
# Queues notices in the transaction that records them (the presenter's deliver_notices).
DeliverNotices = Callable[[Sequence[Notice]], Awaitable[None]]


class RateScope(StrEnum):
    COMMUNITY = "community"
    GRID = "grid"
    HANDLER = "handler"
    CATEGORY = "category"


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did; sweeping again at the same moment does nothing."""

    reminded: tuple[int, ...]  # slip ids
    expired: tuple[int, ...]  # slip ids
    closed: tuple[int, ...]  # issue numbers
    notices: tuple[Notice, ...]


_STALE_KEYS = {
    "answered": "issues.errors.slip_answered",
    "expired": "issues.errors.slip_expired",
    "cancelled": "issues.errors.slip_stale",
}


class FeedbackService:
    """Slips, their answers and sweep, and the rates; handling issues the slips on 已办结."""

    def __init__(self, core: IssueCore) -> None:
        self.core = core

    @property
    def config(self) -> Config:
        return self.core.config

    @property
    def repo(self) -> IssueRepo:
        return self.core.repo

    async def issue_slips(self, issue: IssueView) -> list[Notice]:
        """One slip per reporter for the issue's current round (call inside the resolve)."""
        notices = []
        for reporter in issue.reporters:
            slip_id = await self.core.repo.slips.create(
                issue.id,
                issue.round,
                reporter.user_id,
                grid=issue.grid,
                handler=issue.handler,
                category=issue.category,
                now=self.core.now(),
            )
            fallback = reporter.chat_id if is_group(reporter.chat_id) else None
            notices.append(
                Notice(
                    NoticeKind.FEEDBACK_SLIP,
                    reporter.user_id,
                    issue.number,
                    state=issue.state,
                    slip_id=slip_id,
                    fallback_chat_id=fallback,
                )
            )
        return notices

    def to_group_status(self, issue: IssueView) -> list[Notice]:
        """The group's ack of a group report becomes its status line: what was done, or that
        it is being redone (issue #13 item 12). Private issues never reach a group."""
        if not is_group(issue.source_chat_id):
            return []
        reply_to = issue.source_message_id
        kind = NoticeKind.GROUP_STATUS
        return [Notice(kind, issue.source_chat_id, issue.number, reply_to_message_id=reply_to)]

    async def answer_slip(
        self,
        slip_id: int,
        user_id: int,
        *,
        contacted: bool,
        solved: Solved,
        satisfaction: Satisfaction,
        comment: str | None = None,
    ) -> Outcome:
        """A reporter answers the three questions; the issue closes, reopens or waits."""
        comment = (comment or "").strip() or None
        async with self.core.repo.db.transaction():
            slip = await self._open_slip(slip_id, user_id)
            await self.core.repo.slips.answer(
                slip_id,
                contacted=contacted,
                solved=solved.value,
                satisfaction=satisfaction.value,
                comment=comment,
                now=self.core.now(),
            )
            issue = await self._issue(slip.issue_id)
            role = Role.RESIDENT.value
            await self.core.note_event(
                issue, Action.ANSWER_SLIP, actor_id=user_id, role=role, note=comment
            )
            unhappy = solved is Solved.NOT_SOLVED or satisfaction is Satisfaction.UNSATISFIED
            if unhappy and issue.state is State.RESOLVED and slip.round == issue.round:
                return await self._reopen(issue, user_id, comment)
            if unhappy:  # reopened by another reporter already: the worker still hears it
                notices = self.core.to_workers(
                    issue, NoticeKind.WORKER_UPDATE, action=Action.ANSWER_SLIP, note=comment
                )
                return self.core.outcome(issue, notices)
            return await self._close_if_done(issue, user_id, role)

    async def open_slips(self, user_id: int) -> list[tuple[int, IssueView]]:
        """(slip id, issue) of every slip still waiting for this resident (issue #18 item 5)."""
        found = []
        for slip in await self.repo.slips.open_of(user_id):
            found.append((slip.id, await self._issue(slip.issue_id)))
        return found

    async def open_slip_of(self, number: int, user_id: int) -> int | None:
        """The user's unanswered slip for the issue's current round, to hand over again to a
        resident the bot could not write to when it was issued (issue #13 item 13)."""
        issue = await self.core.load(number)
        for slip in await self.core.repo.slips.of_issue(issue.id):
            if (slip.user_id, slip.state, slip.round) == (user_id, "open", issue.round):
                return slip.id
        return None

    async def slip(self, slip_id: int) -> tuple[int, IssueView] | None:
        """(owner, issue) of a feedback slip, whatever its state; None for an unknown id."""
        slip = await self.core.repo.slips.get(slip_id)
        if slip is None:
            return None
        return slip.user_id, await self._issue(slip.issue_id)

    async def _open_slip(self, slip_id: int, user_id: int) -> SlipRecord:
        """The slip if this user may still answer it (buttons can be stale or forged)."""
        slip = await self.core.repo.slips.get(slip_id)
        if slip is None:
            raise NotFound("issues.errors.slip_not_found", slip=slip_id)
        if slip.user_id != user_id:
            raise NotPermitted("issues.errors.not_your_slip")
        if slip.state != "open":
            raise StaleSlip(_STALE_KEYS.get(slip.state))
        return slip

    async def _issue(self, issue_id: int) -> IssueView:
        return await self.core.load(await self.core.repo.number_of(issue_id))

    async def _reopen(self, issue: IssueView, user_id: int, comment: str | None) -> Outcome:
        """重办: back to the same handler with a fresh resolve deadline and the comment."""
        core = self.core
        now = core.now()
        limit = core.limit_for(issue.category, issue.urgent)
        issue = await core.transition(
            issue,
            Action.REOPEN,
            actor_id=user_id,
            role=Role.RESIDENT.value,
            note=comment,
            changes={
                "resolve_by": core.calendar.add(now, limit.resolve),
                "assigned_at": now,
                "resolved_at": None,
                "result": None,
                "contacted_at": None,
            },
        )
        await core.repo.slips.cancel_open(issue.id)
        fields = {"action": Action.REOPEN, "note": comment}
        notices = core.to_handler(issue, NoticeKind.HANDLER_ORDER, **fields)
        notices += core.to_workers(issue, NoticeKind.WORKER_UPDATE, **fields)
        notices += core.to_reporters(issue, NoticeKind.STATUS_TO_REPORTER, action=Action.REOPEN)
        notices += self.to_group_status(issue)
        return core.outcome(issue, notices)

    async def _close_if_done(self, issue: IssueView, actor_id: int | None, role: str) -> Outcome:
        """Close a resolved issue whose slips are all answered or expired."""
        core = self.core
        if issue.state is not State.RESOLVED or await core.repo.slips.open_count(issue.id):
            return core.outcome(issue, [])
        changes = {"closed_at": core.now()}
        issue = await core.transition(
            issue, Action.CLOSE, actor_id=actor_id, role=role, changes=changes
        )
        notices = core.to_workers(issue, NoticeKind.WORKER_UPDATE, action=Action.CLOSE)
        return core.outcome(issue, notices)

    async def sweep_feedback(
        self, now: datetime | None = None, deliver: DeliverNotices | None = None
    ) -> SweepResult:
        """Expire overdue slips (closing issues left with none open), then remind once.

        Idempotent: each slip is reminded and expired at most once, recorded on its row. At
        most MAX_SLIPS_PER_SWEEP of each, oldest first: a backlog (after an outage) goes out
        over a few ticks. The slips due are read outside any transaction, then written in
        short transactions (bot.core.slices), each write conditional on the slip being still
        open (issue #15 item 3): a resident answering meanwhile wins, and nothing is sent twice.
        ``deliver`` queues a slice's notices in the transaction that records them.
        """
        now = now or self.core.now()
        settings = self.core.config.issues
        expire_before = now - timedelta(days=settings.feedback_expiry_days)
        remind_before = now - timedelta(days=settings.feedback_reminder_days)
        slips = self.core.repo.slips
        limit = MAX_SLIPS_PER_SWEEP
        async with self.core.repo.db.snapshot():  # not on the reader the sender shares
            to_expire = await slips.to_expire(expire_before, limit)
            to_remind = await slips.to_remind(remind_before, expire_before, limit)
        expired: list[int] = []
        closed: list[int] = []
        reminded: list[int] = []
        notices: list[Notice] = []
        transaction = self.core.repo.db.transaction
        notices += await write_in_slices(
            transaction,
            to_expire,
            lambda part: self._expire(list(part), now, expired, closed),
            deliver,
            most=SLIPS_PER_TRANSACTION,
        )
        notices += await write_in_slices(
            transaction,
            to_remind,
            lambda part: self._remind(list(part), now, reminded),
            deliver,
            most=SLIPS_PER_TRANSACTION,
        )
        return SweepResult(tuple(reminded), tuple(expired), tuple(closed), tuple(notices))

    async def _remind(
        self, slips: list[SlipRecord], now: datetime, reminded: list[int]
    ) -> list[Notice]:
        notices = []
        for slip in slips:
            if await self.core.repo.slips.mark_reminded(slip.id, now):
                reminded.append(slip.id)
                number = await self.core.repo.number_of(slip.issue_id)
                notices.append(
                    Notice(NoticeKind.FEEDBACK_REMINDER, slip.user_id, number, slip_id=slip.id)
                )
        return notices

    async def _expire(
        self, slips: list[SlipRecord], now: datetime, expired: list[int], closed: list[int]
    ) -> list[Notice]:
        touched: dict[int, None] = {}
        for slip in slips:
            if await self.core.repo.slips.mark_expired(slip.id, now):
                expired.append(slip.id)
                touched[slip.issue_id] = None
                issue = await self._issue(slip.issue_id)
                await self.core.note_event(issue, Action.SLIP_EXPIRED, actor_id=None, role=SYSTEM)
        notices: list[Notice] = []
        for issue_id in touched:
            outcome = await self._close_if_done(await self._issue(issue_id), None, SYSTEM)
            if outcome.issue.state is State.CLOSED:
                closed.append(outcome.issue.number)
                notices += outcome.notices
        return notices

    async def rates(
        self,
        scope: RateScope,
        key: str | None,
        start: datetime,
        end: datetime,
        *,
        community: str | None = None,
    ) -> Rates:
        """The three rates over slips issued in ``[start, end)`` for a scope, from the rollups;
        ``community`` None counts every community (the street office's roll-up)."""
        column = None if scope is RateScope.COMMUNITY else scope.value
        counts = await self.core.repo.slips.rate_counts(
            column, key, start, end, community=community
        )
        return rates_from_counts(RateCounts(**counts), self.weights())

    def weights(self) -> RateWeights:
        rates = self.core.config.rates
        return RateWeights(
            response=rates.response_weight,
            resolution=rates.resolution_weight,
            satisfaction=rates.satisfaction_weight,
            basic_satisfied=rates.basic_satisfied_weight,
        )
