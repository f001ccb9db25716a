"""Who may act on an issue: the issue loop's table in the one policy.

The roles come from :func:`bot.core.permissions.roles_of` (config, registry grants, the
assignment), shared by every feature; which role may take which step of the loop is the issue
loop's own rule, kept here beside its transition table (``bot.issues.model``). Callback data
is only an issue number and can be forged, so services ask :func:`may` with the person who
pressed the button, never trusting who it was shown to.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from bot.config import Config
from bot.core.permissions import Grant, IssueScope, Role, roles_of
from bot.issues.model import Action

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
    Action.SUMMARISE: _TRIAGE,
    Action.SET_DEADLINE: _TRIAGE,
    Action.APPROVE_RETURN: _TRIAGE,
    Action.REFUSE_RETURN: _TRIAGE,
    Action.CONTACTED: _HANDLING,
    Action.PROGRESS: _HANDLING,
    Action.RESOLVE: _HANDLING,
    Action.REQUEST_RETURN: _HANDLING,
}
# Viewing: the reporter (as RESIDENT), the grid's staff, the assigned handler.
_VIEW: Final = frozenset({Role.WORKER, Role.LEADER, Role.SECRETARY, Role.HANDLER})


def may(
    user_id: int,
    action: Action,
    issue: IssueScope,
    config: Config,
    *,
    grants: Iterable[Grant] = (),
) -> bool:
    """Whether ``user_id`` may take ``action`` on ``issue`` (or a grid: :class:`GridScope`;
    ``GridScope("")`` is the whole community). Slips are checked by their owner."""
    roles = roles_of(user_id, config, issue.grid, issue.handler, grants=grants)
    if action is Action.VIEW:
        return bool(roles & _VIEW) or user_id in issue.reporter_ids
    return bool(roles & _POLICY.get(action, frozenset()))


def role_may(role: Role, action: Action) -> bool:
    """Whether the policy lets ``role`` take ``action`` (the buttons a role is offered)."""
    return role in _POLICY.get(action, frozenset())


def acting_role(
    user_id: int,
    action: Action,
    issue: IssueScope,
    config: Config,
    *,
    grants: Iterable[Grant] = (),
) -> Role:
    """The role recorded in the timeline: the most specific role that permits the action."""
    roles = roles_of(user_id, config, issue.grid, issue.handler, grants=grants)
    allowed = roles & _POLICY.get(action, frozenset(Role))
    for role in (Role.HANDLER, Role.WORKER, Role.LEADER, Role.SECRETARY, Role.ADMIN):
        if role in allowed:
            return role
    return Role.RESIDENT


def refusal_key(
    user_id: int,
    action: Action,
    config: Config,
    *,
    grants: Iterable[Grant] = (),
    grid: str = "",
) -> str:
    """The catalogue key explaining a refusal (仅网格员可操作, 仅本网格网格员 …); staff of
    another community than ``grid``'s are told it is another community's (issue #15)."""
    if action is Action.VIEW:
        return "issues.errors.not_visible"
    community = config.community_of_grid(grid) if config.several else None
    mine = {c.key for c in config.communities_of_user(user_id)}
    if community is not None and mine and community.key not in mine:
        return "issues.errors.other_community"
    if _POLICY.get(action) == _HANDLING:
        return "issues.errors.only_handler"
    if config.is_worker(user_id) or any(g.role is Role.WORKER for g in grants):
        return "issues.errors.other_grid"
    return "issues.errors.only_worker"
