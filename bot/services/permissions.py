"""Who may do what: the one policy function every service action calls (architecture invariant 6).

Callback data is only an issue number, and a client can forge it, so services never trust who
a button was shown to: they ask :func:`may` with the person who pressed it. Until the registry
issue lands, roles come from the config: grid workers and leaders per grid, secretaries for the
whole community, handlers by user id. Building heads and admins are not in the config yet, so
nobody has those roles today; the enum names them so the policy table is complete.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, Protocol

from bot.config import Config
from bot.services.issues_model import Action


class Role(StrEnum):
    RESIDENT = "resident"
    BUILDING_HEAD = "building_head"
    WORKER = "worker"
    LEADER = "leader"
    SECRETARY = "secretary"
    HANDLER = "handler"
    ADMIN = "admin"


class IssueScope(Protocol):
    """What the policy needs to know about an issue (``IssueView`` has all of it)."""

    @property
    def grid(self) -> str: ...

    @property
    def handler(self) -> str | None: ...

    @property
    def reporter_ids(self) -> Set[int]: ...


@dataclass(frozen=True)
class GridScope:
    """An issue that does not exist yet (``/ticket``) or a whole grid's queue."""

    grid: str
    handler: str | None = None
    reporter_ids: frozenset[int] = field(default_factory=frozenset)


_TRIAGE: Final = frozenset({Role.WORKER, Role.LEADER, Role.SECRETARY})
# Handler actions are taken by the assigned handler only: a grid worker who pressed 已办结 for
# the property company would be grading their own dispatch.
_HANDLING: Final = frozenset({Role.HANDLER})
_POLICY: Final[dict[Action, frozenset[Role]]] = {
    Action.REPORT: frozenset(Role),
    Action.TICKET: _TRIAGE,
    Action.QUEUE: _TRIAGE,
    Action.ACCEPT: _TRIAGE,
    Action.ASSIGN: _TRIAGE,
    Action.REJECT: _TRIAGE,
    Action.MERGE: _TRIAGE,
    Action.TRANSFER: _TRIAGE,
    Action.RECATEGORISE: _TRIAGE,
    Action.APPROVE_RETURN: _TRIAGE,
    Action.REFUSE_RETURN: _TRIAGE,
    Action.CONTACTED: _HANDLING,
    Action.PROGRESS: _HANDLING,
    Action.RESOLVE: _HANDLING,
    Action.REQUEST_RETURN: _HANDLING,
}
# Viewing: the reporter (as RESIDENT), the grid's staff, the assigned handler.
_VIEW: Final = frozenset({Role.WORKER, Role.LEADER, Role.SECRETARY, Role.HANDLER})


def roles_of(
    user_id: int, config: Config, grid_key: str, handler_key: str | None = None
) -> set[Role]:
    """The roles ``user_id`` holds for an issue of ``grid_key`` assigned to ``handler_key``.

    Worker and leader are per grid: a worker of grid A is only a resident for grid B. Handler
    is per assignment: a handler holds the role only on issues assigned to them.
    """
    roles = {Role.RESIDENT}
    grid = config.grid_by_key(grid_key)
    if grid is not None and user_id in grid.workers:
        roles.add(Role.WORKER)
    if grid is not None and user_id in grid.leaders:
        roles.add(Role.LEADER)
    if user_id in config.community.secretaries:
        roles.add(Role.SECRETARY)
    handler = config.handler_by_user(user_id)
    if handler is not None and handler_key is not None and handler.key == handler_key:
        roles.add(Role.HANDLER)
    return roles


def may(user_id: int, action: Action, issue: IssueScope, config: Config) -> bool:
    """Whether ``user_id`` may take ``action`` on ``issue``. Slips are checked by their owner."""
    roles = roles_of(user_id, config, issue.grid, issue.handler)
    if action is Action.VIEW:
        return bool(roles & _VIEW) or user_id in issue.reporter_ids
    return bool(roles & _POLICY.get(action, frozenset()))


def acting_role(user_id: int, action: Action, issue: IssueScope, config: Config) -> Role:
    """The role recorded in the timeline: the most specific role that permits the action."""
    allowed = roles_of(user_id, config, issue.grid, issue.handler) & _POLICY.get(
        action, frozenset(Role)
    )
    for role in (Role.HANDLER, Role.WORKER, Role.LEADER, Role.SECRETARY, Role.ADMIN):
        if role in allowed:
            return role
    return Role.RESIDENT


def refusal_key(user_id: int, action: Action, config: Config) -> str:
    """The catalogue key explaining a refusal (仅网格员可操作, 仅本网格网格员 …)."""
    if action is Action.VIEW:
        return "issues.errors.not_visible"
    if _POLICY.get(action) == _HANDLING:
        return "issues.errors.only_handler"
    if config.is_worker(user_id):
        return "issues.errors.other_grid"
    return "issues.errors.only_worker"
