"""What is waiting on one person (issue #18 items 5-6), read from the other features' services.

A resident's list: feedback slips to rate, owners' votes to cast, notices to acknowledge with
收到, open 接龙 of their grid they have not joined, meetings they signed up for that are still
ahead. Anything already answered is left out, so the list never nags.

A grid worker's list, in this order: reports not yet accepted, return requests, overdue
issues, open 窗帘之约 alerts, residents waiting for verification. Grid leaders and
secretaries get the same list for the grids (or the community) they oversee. Each issue
appears once, in the first section it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.consult.jielong import JielongService, JielongView
from bot.consult.meetings import MeetingService
from bot.consult.meetings_model import MeetingView
from bot.consult.notices import NoticeService
from bot.core.clock import Clock
from bot.core.errors import NotPermitted
from bot.issues.model import IssueView, State
from bot.issues.service import IssueService
from bot.registry.service import PendingClaim, RegistryService
from bot.schedule.checkin import CheckinService
from bot.votes.service import OwnersVote, VoteService
from storage.consult.notices import NoticeRecord
from storage.schedule.checkins import AlertRecord, EnrolmentRecord

Alert = tuple[AlertRecord, EnrolmentRecord]
Slip = tuple[int, IssueView]  # (slip id, the issue it rates)


@dataclass(frozen=True)
class ResidentTodo:
    slips: tuple[Slip, ...] = ()
    votes: tuple[OwnersVote, ...] = ()
    notices: tuple[NoticeRecord, ...] = ()
    jielongs: tuple[JielongView, ...] = ()
    meetings: tuple[MeetingView, ...] = ()

    @property
    def count(self) -> int:
        parts = (self.slips, self.votes, self.notices, self.jielongs, self.meetings)
        return sum(len(p) for p in parts)


@dataclass(frozen=True)
class WorkerTodo:
    new: tuple[IssueView, ...] = ()
    returns: tuple[IssueView, ...] = ()
    overdue: tuple[IssueView, ...] = ()
    alerts: tuple[Alert, ...] = ()
    claims: tuple[PendingClaim, ...] = ()

    @property
    def count(self) -> int:
        parts = (self.new, self.returns, self.overdue, self.alerts, self.claims)
        return sum(len(p) for p in parts)


@dataclass(frozen=True)
class Todo:
    resident: ResidentTodo
    worker: WorkerTodo | None  # None: the person is not grid staff

    @property
    def empty(self) -> bool:
        return self.resident.count == 0 and (self.worker is None or self.worker.count == 0)


@dataclass(frozen=True)
class TodoSources:
    """The feature services the lists are read from (reads only: /todo changes nothing)."""

    issues: IssueService
    votes: VoteService
    notices: NoticeService
    jielong: JielongService
    meetings: MeetingService
    checkin: CheckinService
    registry: RegistryService


class TodoService:
    def __init__(self, sources: TodoSources, clock: Clock) -> None:
        self.sources = sources
        self.clock = clock

    async def of(self, user_id: int) -> Todo:
        """Everything waiting on ``user_id``: as a resident, and as grid staff if they are."""
        return Todo(await self.resident(user_id), await self.worker(user_id))

    async def resident(self, user_id: int) -> ResidentTodo:
        s = self.sources
        grids = await s.registry.grids_of(user_id)
        return ResidentTodo(
            slips=tuple(await s.issues.feedback.open_slips(user_id)),
            votes=tuple(await s.votes.awaiting_ballot(user_id)),
            notices=tuple(await s.notices.unacked(user_id, sorted(grids))),
            jielongs=tuple(await s.jielong.open_for(user_id, grids)),
            meetings=tuple(await s.meetings.signed_up_ahead(user_id)),
        )

    async def worker(self, user_id: int) -> WorkerTodo | None:
        """The staff list; None for someone who triages no grid (the queue's own check)."""
        s = self.sources
        try:
            queue = await s.issues.worker_queue(user_id)
        except NotPermitted:
            return None
        now = self.clock.now()
        new = tuple(i for i in queue if i.state is State.NEW)
        returns = tuple(i for i in queue if i.state is State.RETURN_REQUESTED)
        seen = {i.number for i in (*new, *returns)}
        overdue = tuple(i for i in queue if i.number not in seen and i.is_overdue(now))
        return WorkerTodo(
            new=new,
            returns=returns,
            overdue=overdue,
            alerts=tuple(await s.checkin.open_alerts_for(user_id)),
            claims=tuple(await s.registry.pending_claims(user_id)),
        )
