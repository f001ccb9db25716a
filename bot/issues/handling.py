"""Handling (经办): what the assigned handler does with a 交办单, and the grid worker's decision
on a return request (退单). An issue is never silently reassigned (接诉即办条例 art. 12): a
handler who thinks it is not theirs asks, and a grid worker approves or refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.core.errors import InvalidInput
from bot.issues.feedback import FeedbackService
from bot.issues.model import Action, AlreadyDone, NoticeKind, Outcome
from bot.issues.service_base import is_group


def required(text: str | None, key: str) -> str:
    """A reason or note a person must give (退回, 申请退单, 已办结); InvalidInput if blank."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput(key)
    return text


class HandlingService(FeedbackService):
    async def handler_contacted(self, user_id: int, number: int) -> Outcome:
        """已联系居民: the handler has reached the resident; work is under way. Once per
        assignment: a second press records nothing and tells nobody (AlreadyDone)."""
        async with self.repo.db.transaction():
            issue, role = await self.act(user_id, number, Action.CONTACTED)
            if issue.contacted_at is not None:
                raise AlreadyDone()
            issue = await self.transition(
                issue,
                Action.CONTACTED,
                actor_id=user_id,
                role=role.value,
                changes={"contacted_at": self.now()},
            )
        return self.outcome(
            issue, self.to_workers(issue, NoticeKind.WORKER_UPDATE, action=Action.CONTACTED)
        )

    async def handler_progress(self, user_id: int, number: int, note: str) -> Outcome:
        """处理中 with a note, passed on to the grid workers and the reporters. The same note
        again right after it (a double send, a retried client) is AlreadyDone."""
        note = required(note, "issues.errors.note_required")
        async with self.repo.db.transaction():
            issue, role = await self.act(user_id, number, Action.PROGRESS)
            events = await self.repo.events(issue.id)
            last = events[-1] if events else None
            if last is not None and (last.action, last.note) == (Action.PROGRESS.value, note):
                raise AlreadyDone()
            issue = await self.transition(
                issue, Action.PROGRESS, actor_id=user_id, role=role.value, note=note
            )
        fields = {"action": Action.PROGRESS, "note": note}
        notices = self.to_workers(issue, NoticeKind.WORKER_UPDATE, **fields)
        notices += self.to_reporters(issue, NoticeKind.STATUS_TO_REPORTER, **fields)
        return self.outcome(issue, notices)

    async def handler_resolve(
        self, user_id: int, number: int, note: str, photos: Sequence[str] = ()
    ) -> Outcome:
        """已办结 with a note and optional photos: every reporter gets a feedback slip."""
        note = required(note, "issues.errors.note_required")
        async with self.repo.db.transaction():
            issue, role = await self.act(user_id, number, Action.RESOLVE)
            now = self.now()
            await self.repo.add_photos(issue.id, photos, "resolution", now)
            issue = await self.transition(
                issue,
                Action.RESOLVE,
                actor_id=user_id,
                role=role.value,
                note=note,
                changes={"resolved_at": now, "round": issue.round + 1, "result": note},
            )
            notices = self.to_workers(
                issue, NoticeKind.WORKER_UPDATE, action=Action.RESOLVE, note=note
            )
            notices += self.to_group_status(issue)
            notices += await self.issue_slips(issue)
        # The workers and each reporter (privately, before the slip) see the photos; the
        # group's status line does not.
        shown = [n if is_group(n.chat_id) else replace(n, photos=tuple(photos)) for n in notices]
        return self.outcome(issue, shown)

    async def handler_request_return(self, user_id: int, number: int, reason: str) -> Outcome:
        """申请退单: the grid workers are asked to approve or refuse."""
        reason = required(reason, "issues.errors.reason_required")
        async with self.repo.db.transaction():
            issue, role = await self.act(user_id, number, Action.REQUEST_RETURN)
            issue = await self.transition(
                issue,
                Action.REQUEST_RETURN,
                actor_id=user_id,
                role=role.value,
                note=reason,
                changes={"reason": reason},
            )
        return self.outcome(
            issue,
            self.to_workers(
                issue, NoticeKind.RETURN_REQUEST, action=Action.REQUEST_RETURN, note=reason
            ),
        )

    async def approve_return(self, user_id: int, number: int, note: str | None = None) -> Outcome:
        """Return approved: back to 已受理 without a handler, to be assigned again."""
        async with self.repo.db.transaction():
            issue, role = await self.act(user_id, number, Action.APPROVE_RETURN)
            told = self.to_handler(
                issue, NoticeKind.RETURN_DECISION, action=Action.APPROVE_RETURN, note=note
            )
            issue = await self.transition(
                issue,
                Action.APPROVE_RETURN,
                actor_id=user_id,
                role=role.value,
                note=note,
                changes={"handler": None, "resolve_by": None, "assigned_at": None, "reason": None},
            )
        return self.outcome(issue, told)

    async def refuse_return(self, user_id: int, number: int, reason: str) -> Outcome:
        """Return refused: the handler keeps it (已交办), with the worker's reason."""
        reason = required(reason, "issues.errors.reason_required")
        async with self.repo.db.transaction():
            issue, role = await self.act(user_id, number, Action.REFUSE_RETURN)
            issue = await self.transition(
                issue,
                Action.REFUSE_RETURN,
                actor_id=user_id,
                role=role.value,
                note=reason,
                changes={"reason": None},
            )
        return self.outcome(
            issue,
            self.to_handler(
                issue, NoticeKind.RETURN_DECISION, action=Action.REFUSE_RETURN, note=reason
            ),
        )
