"""What every part of the issue service shares: loading, the permission check, applying a
transition with its event row, and addressing notices (to the grid's workers, the reporters,
the handler).

The parts (reporting, triage, handling, feedback) each *have* one :class:`IssueCore`; none
inherits from another (issue #12). Every state change goes through
:meth:`IssueCore.transition`, which asks the one transition table (``model.next_state``),
writes the new state and appends the event in the same transaction, so the timeline can never
disagree with the issue. A person's action is one :meth:`IssueCore.step` (act, then
transition) or, when the action checks something in between, one :meth:`IssueCore.acting`
block ending in :meth:`Step.apply`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.config import Config, GridConfig, TimeLimit
from bot.core.clock import Clock
from bot.core.errors import InvalidInput, NotFound, NotPermitted
from bot.core.grids import ChatGrids
from bot.core.permissions import IssueScope, Role, RoleBook
from bot.core.workcal import WorkCalendar
from bot.issues.model import (
    Action,
    IssueView,
    Notice,
    NoticeKind,
    Outcome,
    State,
    next_state,
)
from bot.issues.policy import acting_role, may, refusal_key
from storage.issues.repo import IssueRecord, IssueRepo

URGENT_LIMIT = "urgent"  # the [issues.limits] entry used for emergencies
SYSTEM = "system"  # actor_role of events nobody pressed a button for (slip expiry)


def required(text: str | None, key: str) -> str:
    """A reason or note a person must give (退回, 申请退单, 已办结); InvalidInput if blank."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput(key)
    return text


@dataclass(eq=False)
class IssueCore:
    """The dependencies and shared steps every part of the issue service is built on (the
    one ``IssueService`` builds it)."""

    repo: IssueRepo
    clock: Clock
    config: Config
    calendar: WorkCalendar
    roles: RoleBook  # registry role grants (issue #4); empty without a registry
    chats: ChatGrids  # the config's groups, and those bound with /bind or upgraded

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
            raise NotPermitted(
                refusal_key(user_id, action, self.config, grants=grants, grid=issue.grid)
            )
        return acting_role(user_id, action, issue, self.config, grants=grants)

    async def act(self, user_id: int, number: int, action: Action) -> tuple[IssueView, Role]:
        """Load, check permission, then check the state machine (in that order, so a resident
        pressing 受理 on a closed issue is told 仅网格员可操作, not what state it is in)."""
        issue = await self.load(number)
        role = self.authorize(user_id, action, issue)
        next_state(issue.state, action, merged_into=issue.merged_into)
        return issue, role

    @asynccontextmanager
    async def acting(self, user_id: int, number: int, action: Action) -> AsyncIterator[Step]:
        """One person's action in one transaction: :meth:`act` on entry; the block checks what
        the action needs and ends with :meth:`Step.apply`. An exception rolls it all back."""
        async with self.repo.db.transaction():
            issue, role = await self.act(user_id, number, action)
            yield Step(self, user_id, action, issue, role)

    async def step(
        self,
        user_id: int,
        number: int,
        action: Action,
        *,
        note: str | None = None,
        changes: Mapping[str, Any] | None = None,
    ) -> tuple[IssueView, IssueView]:
        """The whole of an action that only acts and transitions: the issue before and after."""
        async with self.acting(user_id, number, action) as step:
            after = await step.apply(note=note, changes=changes)
        return step.issue, after

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
            await self._add_event(issue, action, target, now, actor_id, role, note)
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
        await self._add_event(issue, action, issue.state, self.now(), actor_id, role, note)

    async def _add_event(
        self,
        issue: IssueView,
        action: Action,
        to_state: State,
        at: datetime,
        actor_id: int | None,
        role: str,
        note: str | None,
    ) -> None:
        await self.repo.add_event(
            issue.id,
            actor_id=actor_id,
            actor_role=role,
            at=at,
            from_state=issue.state.value,
            to_state=to_state.value,
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


@dataclass(frozen=True)
class Step:
    """An action under way (:meth:`IssueCore.acting`): the issue as loaded and checked, who
    acts, and in which role."""

    core: IssueCore
    user_id: int
    action: Action
    issue: IssueView
    role: Role

    async def apply(
        self, *, note: str | None = None, changes: Mapping[str, Any] | None = None
    ) -> IssueView:
        """The transition with its event row, recorded as this person in their role."""
        return await self.core.transition(
            self.issue,
            self.action,
            actor_id=self.user_id,
            role=self.role.value,
            note=note,
            changes=changes,
        )


def is_group(chat_id: int) -> bool:
    """Telegram group and supergroup ids are negative; private chats are the user's id."""
    return chat_id < 0
