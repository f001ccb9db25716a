"""What every issue service shares: loading, the permission check, applying a transition with
its event row, and addressing notices (to the grid's workers, the reporters, the handler).

Every state change goes through :meth:`IssueCore.transition`, which asks the one transition
table (``issues_model.next_state``), writes the new state and appends the event in the same
transaction, so the timeline can never disagree with the issue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.config import Config, GridConfig, TimeLimit
from bot.core.clock import Clock
from bot.core.errors import NotFound, NotPermitted
from bot.core.grids import ChatGrids, ChatGridStore
from bot.core.permissions import (
    IssueScope,
    Role,
    RoleBook,
    acting_role,
    may,
    refusal_key,
)
from bot.core.workcal import WorkCalendar
from bot.issues.model import (
    Action,
    IssueView,
    Notice,
    NoticeKind,
    Outcome,
    next_state,
)
from storage.issues.repo import IssueRecord, IssueRepo

URGENT_LIMIT = "urgent"  # the [issues.limits] entry used for emergencies
SYSTEM = "system"  # actor_role of events nobody pressed a button for (slip expiry)


class IssueCore:
    """Dependencies and shared steps; ``IssueService`` and ``FeedbackService`` build on it."""

    def __init__(
        self,
        repo: IssueRepo,
        clock: Clock,
        config: Config,
        calendar: WorkCalendar,
        *,
        roles: RoleBook | None = None,
        bindings: ChatGridStore | None = None,
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.config = config
        self.calendar = calendar
        # Registry role grants (issue #4); empty without a registry: config roles only.
        self.roles = roles or RoleBook()
        # groups bound with /bind (issue #4) or upgraded (issue #13 item 3); None: config only
        self.chats = ChatGrids(config, bindings)

    async def grid_of_chat(self, chat_id: int) -> GridConfig | None:
        """The grid this group serves (a /bind wins over the config), or None."""
        return await self.chats.grid_of_chat(chat_id)

    # -- loading and checking ------------------------------------------------------------------

    async def load(self, number: int) -> IssueView:
        record = await self.repo.by_number(number)
        if record is None:
            raise NotFound(number=number)
        return await self.view(record)

    async def view(self, record: IssueRecord) -> IssueView:
        target = None
        if record.merged_into is not None:
            target = await self.repo.number_of(record.merged_into)
        return IssueView.from_record(record, target)

    def authorize(self, user_id: int, action: Action, issue: IssueScope) -> Role:
        """The role the user acts in; NotPermitted (with the right explanation) otherwise."""
        grants = self.roles.of(user_id)
        if not may(user_id, action, issue, self.config, grants=grants):
            raise NotPermitted(refusal_key(user_id, action, self.config, grants=grants))
        return acting_role(user_id, action, issue, self.config, grants=grants)

    async def act(self, user_id: int, number: int, action: Action) -> tuple[IssueView, Role]:
        """Load, check permission, then check the state machine (in that order, so a resident
        pressing 受理 on a closed issue is told 仅网格员可操作, not what state it is in)."""
        issue = await self.load(number)
        role = self.authorize(user_id, action, issue)
        next_state(issue.state, action, merged_into=issue.merged_into)
        return issue, role

    # -- changing ------------------------------------------------------------------------------

    async def transition(
        self,
        issue: IssueView,
        action: Action,
        *,
        actor_id: int | None,
        role: str,
        note: str | None = None,
        changes: Mapping[str, Any] | None = None,
    ) -> IssueView:
        """Apply ``action``: new state plus ``changes`` and one event row, in one transaction."""
        target = next_state(issue.state, action, merged_into=issue.merged_into)
        now = self.clock.now()
        async with self.repo.db.transaction():
            await self.repo.update(issue.id, {**(changes or {}), "state": target.value}, now)
            await self.repo.add_event(
                issue.id,
                actor_id=actor_id,
                actor_role=role,
                at=now,
                from_state=issue.state.value,
                to_state=target.value,
                action=action.value,
                note=note,
            )
        return await self.load(issue.number)

    async def note_event(
        self,
        issue: IssueView,
        action: Action,
        *,
        actor_id: int | None,
        role: str,
        note: str | None = None,
    ) -> None:
        """An event that changes no state (a slip answered or expired, merged into this one)."""
        await self.repo.add_event(
            issue.id,
            actor_id=actor_id,
            actor_role=role,
            at=self.now(),
            from_state=issue.state.value,
            to_state=issue.state.value,
            action=action.value,
            note=note,
        )

    def limit_for(self, category_key: str, urgent: bool) -> TimeLimit:
        """The category's time limit; the urgent one for emergencies (domain.md)."""
        if urgent and URGENT_LIMIT in self.config.issues.limits:
            return self.config.limit(URGENT_LIMIT)
        category = self.config.category(category_key)
        return self.config.limit(category.limit if category else "general")

    # -- addressing notices --------------------------------------------------------------------

    def worker_ids(self, grid_key: str) -> tuple[int, ...]:
        grid = self.config.grid_by_key(grid_key)
        return () if grid is None else grid.workers

    def to_workers(self, issue: IssueView, kind: NoticeKind, **fields: Any) -> list[Notice]:
        return [
            Notice(kind, worker, issue.number, state=issue.state, **fields)
            for worker in self.worker_ids(issue.grid)
        ]

    def to_reporters(self, issue: IssueView, kind: NoticeKind, **fields: Any) -> list[Notice]:
        return [
            Notice(kind, reporter.user_id, issue.number, state=issue.state, **fields)
            for reporter in issue.reporters
        ]

    def to_handler(self, issue: IssueView, kind: NoticeKind, **fields: Any) -> list[Notice]:
        handler = self.config.handler_by_key(issue.handler or "")
        if handler is None:
            return []
        return [Notice(kind, handler.user_id, issue.number, state=issue.state, **fields)]

    def outcome(self, issue: IssueView, notices: Iterable[Notice]) -> Outcome:
        """Bundle the notices, dropping any group-chat notice of a private issue.

        Private reports (网格悄悄话) never appear in a group (issue #3). Each builder already
        avoids groups for them; this is the one place that guarantees it.
        """
        kept = []
        for notice in notices:
            if issue.private and notice.chat_id < 0:
                continue
            if issue.private and notice.fallback_chat_id is not None:
                notice = replace(notice, fallback_chat_id=None)
            kept.append(notice)
        return Outcome(issue, tuple(kept))

    def now(self) -> datetime:
        return self.clock.now()


def is_group(chat_id: int) -> bool:
    """Telegram group and supergroup ids are negative; private chats are the user's id."""
    return chat_id < 0
