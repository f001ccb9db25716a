"""The issue loop (报事闭环, issue #3) as the one object handlers use: :class:`IssueService`.

It is a façade built by composition (issue #12): one :class:`~bot.issues.core.IssueCore`
holds the shared state and steps, and each part has that core: intake in ``reporting``,
the grid worker's triage in ``triage``, the handler's work in ``handling``, slips and rates in
``feedback``. The façade names each public operation once, below, and answers the queries
(one issue, its timeline, the queues) itself.
"""

from __future__ import annotations

from enum import StrEnum

from bot.config import Config
from bot.core.clock import Clock
from bot.core.errors import InvalidInput, NotPermitted
from bot.core.grids import ChatGrids, ChatGridStore
from bot.core.permissions import GridScope, RoleBook
from bot.core.workcal import WorkCalendar
from bot.issues.core import IssueCore
from bot.issues.feedback import FeedbackService
from bot.issues.handling import HandlingService
from bot.issues.model import Action, EventView, IssueView, Outcome
from bot.issues.policy import may
from bot.issues.reporting import ReportService
from bot.issues.transcribe import Transcriber
from bot.issues.triage import TriageService
from storage.issues.repo import IssueRepo


class QueueFilter(StrEnum):
    ALL = "all"
    OVERDUE = "overdue"
    UNASSIGNED = "unassigned"


class IssueService:
    """The parts built from one core, each public operation named once, and the queries."""

    def __init__(
        self,
        repo: IssueRepo,
        clock: Clock,
        config: Config,
        calendar: WorkCalendar,
        *,
        roles: RoleBook | None = None,
        bindings: ChatGridStore | None = None,
        transcriber: Transcriber | None = None,
    ) -> None:
        # No registry: config roles only. No bindings: the groups named in the config only.
        chats = ChatGrids(config, bindings)
        core = IssueCore(repo, clock, config, calendar, roles or RoleBook(), chats)
        self.core = core
        self.reports = ReportService(core, transcriber)
        self.triage = TriageService(core)
        self.feedback = FeedbackService(core)
        self.handling = HandlingService(core, self.feedback)

        # shared state and steps (handlers' button checks, chasing, the presenter)
        self.config = core.config
        self.repo = core.repo
        self.load = core.load
        self.act = core.act
        self.note_event = core.note_event
        self.limit_for = core.limit_for
        self.grid_of_chat = core.grid_of_chat
        # intake
        self.report = self.reports.report
        self.report_private = self.reports.report_private
        self.album_part = self.reports.album_part
        self.private_photo = self.reports.private_photo
        self.ticket_on_behalf = self.reports.ticket_on_behalf
        # triage by the grid worker
        self.accept = self.triage.accept
        self.assign = self.triage.assign
        self.reject = self.triage.reject
        self.merge = self.triage.merge
        self.transfer = self.triage.transfer
        self.recategorise = self.triage.recategorise
        self.change_deadline = self.triage.change_deadline
        self.summarise = self.triage.summarise
        # handling, and the worker's decision on a return request
        self.handler_contacted = self.handling.handler_contacted
        self.handler_progress = self.handling.handler_progress
        self.handler_resolve = self.handling.handler_resolve
        self.handler_request_return = self.handling.handler_request_return
        self.approve_return = self.handling.approve_return
        self.refuse_return = self.handling.refuse_return
        # feedback and rates
        self.answer_slip = self.feedback.answer_slip
        self.open_slip_of = self.feedback.open_slip_of
        self.slip = self.feedback.slip
        self.sweep_feedback = self.feedback.sweep_feedback
        self.rates = self.feedback.rates

    async def note(self, user_id: int, number: int, text: str) -> Outcome:
        """/note N …: on a voice report, from anyone but its handler, the gist a grid worker
        heard (issue #18 item 2); otherwise the handler's progress note."""
        issue = await self.core.load(number)
        own = any(h.key == issue.handler for h in self.config.handlers_of_user(user_id))
        if issue.voice_file_id is not None and not own:
            return await self.triage.summarise(user_id, number, text)
        return await self.handling.handler_progress(user_id, number, text)

    # -- views ---------------------------------------------------------------------------------

    async def get(self, number: int, viewer: int) -> IssueView:
        """One issue, if ``viewer`` may see it (own report, grid staff, assigned handler)."""
        issue = await self.core.load(number)
        self.core.authorize(viewer, Action.VIEW, issue)
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
            overdue_at=self.core.now() if queue is QueueFilter.OVERDUE else None,
        )
        return tuple([await self.core.view(r) for r in records])

    def _queue_grids(self, user_id: int, grid_key: str | None) -> list[str]:
        if grid_key is not None:
            if self.config.grid_by_key(grid_key) is None:
                raise InvalidInput("issues.errors.unknown_grid", grid=grid_key)
            self.core.authorize(user_id, Action.QUEUE, GridScope(grid_key))
            return [grid_key]
        grants = self.core.roles.of(user_id)
        grids = [
            g.key
            for g in self.config.grids
            if may(user_id, Action.QUEUE, GridScope(g.key), self.config, grants=grants)
        ]
        if not grids:
            raise NotPermitted("issues.errors.only_worker")
        return grids

    async def handler_queue(self, user_id: int) -> tuple[IssueView, ...]:
        """The open issues assigned to this handler, oldest first; a company serving several
        communities sees each community's orders (one handler key in each)."""
        handlers = self.config.handlers_of_user(user_id)
        if not handlers:
            raise NotPermitted("issues.errors.only_handler")
        records = [r for h in handlers for r in await self.repo.assigned_to(h.key)]
        if len(handlers) > 1:
            records.sort(key=lambda r: (r.assigned_at or r.reported_at, r.number))
        return tuple([await self.core.view(r) for r in records])

    async def mine(self, user_id: int) -> tuple[IssueView, ...]:
        """The issues this person reported (newest first), merged ones included."""
        return tuple([await self.core.view(r) for r in await self.repo.by_reporter(user_id)])
