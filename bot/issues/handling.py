"""Handling (经办): what the assigned handler does with a 交办单, and the grid worker's decision
on a return request (退单). An issue is never silently reassigned (接诉即办条例 art. 12): a
handler who thinks it is not theirs asks, and a grid worker approves or refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.issues.core import IssueCore, is_group, required
from bot.issues.feedback import FeedbackService
from bot.issues.model import Action, AlreadyDone, NoticeKind, Outcome


class HandlingService:
    """The handler's buttons and the return decision; 已办结 hands out the feedback slips."""

    def __init__(self, core: IssueCore, feedback: FeedbackService) -> None:
        self.core = core
        self.feedback = feedback

    async def handler_contacted(self, user_id: int, number: int) -> Outcome:
        """已联系居民: the handler has reached the resident; work is under way. Once per
        assignment: a second press records nothing and tells nobody (AlreadyDone)."""
        core = self.core
        async with core.acting(user_id, number, Action.CONTACTED) as step:
            if step.issue.contacted_at is not None:
                raise AlreadyDone()
            issue = await step.apply(changes={"contacted_at": core.now()})
        notices = core.to_workers(issue, NoticeKind.WORKER_UPDATE, action=Action.CONTACTED)
        return core.outcome(issue, notices)

    async def handler_progress(self, user_id: int, number: int, note: str) -> Outcome:
        """处理中 with a note, passed on to the grid workers and the reporters. The same note
        again right after it (a double send, a retried client) is AlreadyDone."""
        note = required(note, "issues.errors.note_required")
        core = self.core
        async with core.acting(user_id, number, Action.PROGRESS) as step:
            events = await core.repo.events(step.issue.id)
            last = events[-1] if events else None
            if last is not None and (last.action, last.note) == (Action.PROGRESS.value, note):
                raise AlreadyDone()
            issue = await step.apply(note=note)
        fields = {"action": Action.PROGRESS, "note": note}
        notices = core.to_workers(issue, NoticeKind.WORKER_UPDATE, **fields)
        notices += core.to_reporters(issue, NoticeKind.STATUS_TO_REPORTER, **fields)
        return core.outcome(issue, notices)

    async def handler_resolve(
        self, user_id: int, number: int, note: str, photos: Sequence[str] = ()
    ) -> Outcome:
        """已办结 with a note and optional photos: every reporter gets a feedback slip."""
        note = required(note, "issues.errors.note_required")
        core = self.core
        async with core.acting(user_id, number, Action.RESOLVE) as step:
            now = core.now()
            await core.repo.add_photos(step.issue.id, photos, "resolution", now)
            changes = {"resolved_at": now, "round": step.issue.round + 1, "result": note}
            issue = await step.apply(note=note, changes=changes)
            notices = core.to_workers(
                issue, NoticeKind.WORKER_UPDATE, action=Action.RESOLVE, note=note
            )
            notices += self.feedback.to_group_status(issue)
            notices += await self.feedback.issue_slips(issue)
        # The workers and each reporter (privately, before the slip) see the photos; the
        # group's status line does not.
        shown = [n if is_group(n.chat_id) else replace(n, photos=tuple(photos)) for n in notices]
        return core.outcome(issue, shown)

    async def handler_request_return(self, user_id: int, number: int, reason: str) -> Outcome:
        """申请退单: the grid workers are asked to approve or refuse."""
        reason = required(reason, "issues.errors.reason_required")
        action = Action.REQUEST_RETURN
        _, issue = await self.core.step(
            user_id, number, action, note=reason, changes={"reason": reason}
        )
        asked = self.core.to_workers(issue, NoticeKind.RETURN_REQUEST, action=action, note=reason)
        return self.core.outcome(issue, asked)

    async def approve_return(self, user_id: int, number: int, note: str | None = None) -> Outcome:
        """Return approved: back to 已受理 without a handler, to be assigned again. The handler
        who asked is told (the one on the issue before the change)."""
        cleared = {"handler": None, "resolve_by": None, "assigned_at": None, "reason": None}
        action = Action.APPROVE_RETURN
        before, issue = await self.core.step(user_id, number, action, note=note, changes=cleared)
        told = self.core.to_handler(before, NoticeKind.RETURN_DECISION, action=action, note=note)
        return self.core.outcome(issue, told)

    async def refuse_return(self, user_id: int, number: int, reason: str) -> Outcome:
        """Return refused: the handler keeps it (已交办), with the worker's reason."""
        reason = required(reason, "issues.errors.reason_required")
        action = Action.REFUSE_RETURN
        _, issue = await self.core.step(
            user_id, number, action, note=reason, changes={"reason": None}
        )
        told = self.core.to_handler(issue, NoticeKind.RETURN_DECISION, action=action, note=reason)
        return self.core.outcome(issue, told)
