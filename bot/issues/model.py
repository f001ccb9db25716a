"""The issue loop's vocabulary: states, actions, THE transition table, and the plain dataclasses
services hand to handlers (``IssueView``, ``Notice``, ``Outcome``).

The transition table below is the only place that says which action is legal in which state
(issue #3: "the state machine lives in one service module"). Everything that changes an issue's
state goes through :func:`next_state`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from bot.core.errors import IllegalTransition, IssueFinished, UserError
from storage.clock import from_db
from storage.issues.repo import EventRecord, IssueRecord, Reported, reported_fields


class State(StrEnum):
    NEW = "new"  # 已登记
    ACCEPTED = "accepted"  # 已受理
    ASSIGNED = "assigned"  # 已交办
    IN_PROGRESS = "in_progress"  # 处理中
    RETURN_REQUESTED = "return_requested"  # 申请退单
    RESOLVED = "resolved"  # 已办结
    CLOSED = "closed"  # 已关闭
    REJECTED = "rejected"  # 已退回
    MERGED = "merged"  # 已合并


class IssueType(StrEnum):
    REPORT = "report"  # 报事 (generic)
    HELP = "help"  # 求助
    COMPLAINT = "complaint"  # 投诉
    WRONGDOING = "report_wrongdoing"  # 举报
    SUGGESTION = "suggestion"  # 建议
    CONSULT = "consult"  # 咨询


class Action(StrEnum):
    """Everything a person can do to or with an issue (transitions and permissions)."""

    REPORT = "report"
    TICKET = "ticket"  # a worker files a resident's message as an issue (/ticket)
    VIEW = "view"
    QUEUE = "queue"  # list a grid's queue
    ACCEPT = "accept"
    ASSIGN = "assign"
    REJECT = "reject"
    MERGE = "merge"
    TRANSFER = "transfer"
    RECATEGORISE = "recategorise"
    SUMMARISE = "summarise"  # a grid worker types the gist of a voice report (/note)
    SET_DEADLINE = "set_deadline"  # 改时限: the note holds the new resolve-by (to_db)
    CONTACTED = "contacted"
    PROGRESS = "progress"
    RESOLVE = "resolve"
    REQUEST_RETURN = "request_return"
    APPROVE_RETURN = "approve_return"
    REFUSE_RETURN = "refuse_return"
    REOPEN = "reopen"  # 重办, after an unhappy feedback slip
    CLOSE = "close"  # after the slips are answered or expired
    ANSWER_SLIP = "answer_slip"
    SLIP_EXPIRED = "slip_expired"
    CHASE = "chase"  # 催办: the deadline is near (schedule sweep, issue #5)
    SUPERVISE = "supervise"  # 督办: the deadline has passed
    ESCALATE = "escalate"  # 升级督办: still overdue, up the ladder


FINISHED: Final = frozenset({State.CLOSED, State.MERGED, State.REJECTED})
OPEN: Final = frozenset(
    {State.NEW, State.ACCEPTED, State.ASSIGNED, State.IN_PROGRESS, State.RETURN_REQUESTED}
)
_WORKING: Final = frozenset({State.ASSIGNED, State.IN_PROGRESS})
_UNTRIAGED: Final = frozenset({State.NEW, State.ACCEPTED})

# action → (states it may start from, resulting state; None keeps the state).
TRANSITIONS: Final[dict[Action, tuple[frozenset[State], State | None]]] = {
    Action.ACCEPT: (frozenset({State.NEW}), State.ACCEPTED),
    Action.ASSIGN: (_UNTRIAGED, State.ASSIGNED),
    Action.REJECT: (_UNTRIAGED, State.REJECTED),
    Action.MERGE: (_UNTRIAGED, State.MERGED),
    Action.TRANSFER: (_UNTRIAGED, State.NEW),
    Action.RECATEGORISE: (OPEN, None),
    Action.SET_DEADLINE: (_WORKING, None),
    Action.CONTACTED: (_WORKING, State.IN_PROGRESS),
    Action.PROGRESS: (_WORKING, State.IN_PROGRESS),
    Action.RESOLVE: (_WORKING, State.RESOLVED),
    Action.REQUEST_RETURN: (_WORKING, State.RETURN_REQUESTED),
    Action.APPROVE_RETURN: (frozenset({State.RETURN_REQUESTED}), State.ACCEPTED),
    Action.REFUSE_RETURN: (frozenset({State.RETURN_REQUESTED}), State.ASSIGNED),
    Action.REOPEN: (frozenset({State.RESOLVED}), State.ASSIGNED),
    Action.CLOSE: (frozenset({State.RESOLVED}), State.CLOSED),
}


class AlreadyDone(UserError):
    """The action has happened already (a double tap, an old button): nothing changes, and
    the person is told so with a toast, not an alert."""

    key = "issues.errors.already_done"


def state_ref(state: State) -> str:
    """Catalogue key of a state's Chinese name (已交办 …)."""
    return f"issues.states.{state.value}"


def action_ref(action: Action) -> str:
    return f"issues.actions.{action.value}"


def next_state(current: State, action: Action, *, merged_into: int | None = None) -> State:
    """The state after ``action``; raise IllegalTransition (IssueFinished when it is over)."""
    sources, target = TRANSITIONS[action]
    if current in sources:
        return current if target is None else target
    refs = {"state": state_ref(current), "action": action_ref(action)}
    if current is State.MERGED:
        raise IssueFinished("issues.errors.merged", refs=refs, target=merged_into)
    if current in FINISHED:
        raise IssueFinished(refs=refs)
    raise IllegalTransition(refs=refs)


@dataclass(frozen=True)
class ReporterView:
    user_id: int
    name: str  # full display name: only for the worker card (see bot.privacy.service)
    chat_id: int  # where they reported (a group, or their private chat)
    message_id: int | None
    # What they filed, kept through a merge: bot.privacy.service masks each reporter by it.
    type: IssueType = IssueType.REPORT
    anonymous: bool = False


@dataclass(frozen=True, kw_only=True)
class IssueView(Reported):
    """An issue as services return it. Group-facing text must go through bot.privacy.service."""

    type: IssueType
    id: int
    number: int
    state: State
    handler: str | None
    merged_into: int | None  # the target's number
    reason: str | None  # why it was rejected / the pending return request
    reporters: tuple[ReporterView, ...]
    photos: tuple[str, ...]
    resolution_photos: tuple[str, ...]
    resolve_by: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    contacted_at: datetime | None  # 已联系居民 in the current assignment (cleared by 交办, 重办)
    round: int  # how many times it has been resolved
    result: str | None = None  # the handler's 办结 note, what residents are told was done

    @property
    def reporter_ids(self) -> frozenset[int]:
        return frozenset(r.user_id for r in self.reporters)

    def is_overdue(self, now: datetime) -> bool:
        """Not accepted by respond_by, or not resolved by resolve_by."""
        if self.state is State.NEW and self.respond_by < now:
            return True
        return self.state in OPEN and self.resolve_by is not None and self.resolve_by < now

    @classmethod
    def from_record(cls, rec: IssueRecord, merged_into_number: int | None = None) -> IssueView:
        return cls(
            **(reported_fields(rec) | {"type": IssueType(rec.type)}),
            id=rec.id,
            number=rec.number,
            state=State(rec.state),
            handler=rec.handler,
            merged_into=merged_into_number,
            reason=rec.reason,
            reporters=tuple(
                ReporterView(
                    r.user_id,
                    r.display_name,
                    r.chat_id,
                    r.message_id,
                    IssueType(r.report_type),
                    r.anonymous,
                )
                for r in rec.reporters
            ),
            photos=tuple(p.file_id for p in rec.photos if p.kind == "report"),
            resolution_photos=tuple(p.file_id for p in rec.photos if p.kind == "resolution"),
            resolve_by=rec.resolve_by,
            resolved_at=rec.resolved_at,
            closed_at=rec.closed_at,
            contacted_at=rec.contacted_at,
            round=rec.round,
            result=rec.result,
        )


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor_id: int | None
    actor_role: str  # a permissions.Role value, or "system"
    action: Action
    from_state: State | None
    to_state: State
    note: str | None
    deadline: datetime | None = None  # 改时限: the new deadline (stored in the note)

    @classmethod
    def from_record(cls, rec: EventRecord) -> EventView:
        action = Action(rec.action)
        moved = action is Action.SET_DEADLINE and rec.note is not None
        return cls(
            at=rec.at,
            actor_id=rec.actor_id,
            actor_role=rec.actor_role,
            action=action,
            from_state=None if rec.from_state is None else State(rec.from_state),
            to_state=State(rec.to_state),
            note=rec.note,
            deadline=from_db(rec.note) if moved and rec.note else None,
        )


class NoticeKind(StrEnum):
    ACK_GROUP = "ack_group"  # group: "#12 已登记, 类别, 受理时限" replying to the report
    ACK_PRIVATE = "ack_private"  # the reporter's private chat, same content
    WORKER_CARD = "worker_card"  # each grid worker: full card with triage buttons
    PHOTO_ADDED = "photo_added"  # each grid worker: an album's photo that came after its report
    DUPLICATE_HINT = "duplicate_hint"  # each grid worker: 可能重复 #related with a merge button
    EMERGENCY_REPLY = "emergency_reply"  # where it was reported: call 119/120/110/122 now
    EMERGENCY_ALERT = "emergency_alert"  # each grid worker: urgent alert
    EMERGENCY_CHECK = "emergency_check"  # each grid worker: 疑似紧急，请核实 (group not told)
    HANDLER_ORDER = "handler_order"  # the handler: 交办单 (action=assign) or 重办 (reopen)
    STATUS_TO_REPORTER = "status_to_reporter"  # each reporter privately: new state (+ note)
    WORKER_UPDATE = "worker_update"  # each grid worker: what the handler or a resident did
    RETURN_REQUEST = "return_request"  # each grid worker: 申请退单 with approve/refuse buttons
    RETURN_DECISION = "return_decision"  # the handler: approved / refused
    FEEDBACK_SLIP = "feedback_slip"  # each reporter privately: the three questions
    FEEDBACK_REMINDER = "feedback_reminder"  # each reporter who has not answered after N days
    GROUP_STATUS = "group_status"  # the group ack, edited: state and result (办结, 重办)


@dataclass(frozen=True)
class Notice:
    """Who should be told what kind of thing; the handler renders it and queues the outbox row.

    ``chat_id`` is the recipient: a user id for a private message, a (negative) group id for a
    group. Fields that do not apply to a kind stay at their defaults.
    """

    kind: NoticeKind
    chat_id: int
    issue_no: int
    action: Action | None = None  # what happened (status, updates, handler orders)
    state: State | None = None  # the issue's state after it
    note: str | None = None  # reason, progress note, resident's comment
    reply_to_message_id: int | None = None  # group acks reply to the report
    slip_id: int | None = None
    related: tuple[int, ...] = ()  # duplicate candidates' numbers; the merge target's number
    services: tuple[tuple[str, str], ...] = ()  # emergency (kind, number), e.g. ("fire", "119")
    fallback_chat_id: int | None = None  # group to post a deep-link button in if DM fails
    photos: tuple[str, ...] = ()  # file ids shown with it: the handler's resolution photos


@dataclass(frozen=True)
class Outcome:
    issue: IssueView
    notices: tuple[Notice, ...] = ()
