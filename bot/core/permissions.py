"""Who holds which role, the one place every feature asks (architecture invariant 6).

:func:`roles_of` is the shared rule: the roles a person holds on a grid. Each feature keeps its
own table of which role may take which of its steps beside its model (the issue loop's in
:mod:`bot.issues.policy`; the registry's here, :func:`may`). Callback data is only an issue
number, and a client can forge it, so services never trust who a button was shown to: they ask
with the person who pressed it. Roles come from two places (issue #4): the config (grid
workers and leaders per grid, secretaries per community, handlers by user id) and the
registry's role grants (``/grant``), passed in as ``grants``. A grant scoped to a grid counts
on that grid only; ``grid == ""`` counts everywhere. Handlers stay config-only: the role is per
assignment, keyed by the config's handler key.

:class:`RoleBook` is the in-process copy of the ``role_grants`` table that synchronous callers
(the issue services) consult; the registry service loads it at start-up and changes it only
after a grant or revocation has committed. Being a Telegram group admin grants nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, Protocol

from bot.config import Config
from bot.config.schema import DEFAULT_COMMUNITY


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


class RegistryAction(StrEnum):
    """Registry, roles and privacy actions (issue #4); checked by :func:`may` like issue ones."""

    GRANT = "grant"  # /grant and /revoke
    BIND = "bind"  # /bind a group to a grid
    IMPORT = "import"  # import the household sheet
    VERIFY = "verify"  # approve or reject a resident's household claim
    LEDGER = "ledger"  # export the 台账
    SEE_REQUESTER = "see_requester"  # requesters' full names in the ledger
    READ_SENSITIVE = "read_sensitive"  # living alone, health, disability


@dataclass(frozen=True)
class Grant:
    """A role granted in the registry; ``grid`` "" means the whole ``community``."""

    role: Role
    grid: str = ""
    community: str = DEFAULT_COMMUNITY


class RoleBook:
    """Role grants by user: the in-process copy of ``role_grants`` (see module docstring)."""

    def __init__(self, grants: Iterable[tuple[int, Grant]] = ()) -> None:
        self._by_user: dict[int, frozenset[Grant]] = {}
        self.replace(grants)

    def replace(self, grants: Iterable[tuple[int, Grant]]) -> None:
        by_user: dict[int, set[Grant]] = {}
        for user_id, grant in grants:
            by_user.setdefault(user_id, set()).add(grant)
        self._by_user = {user: frozenset(found) for user, found in by_user.items()}

    def of(self, user_id: int) -> frozenset[Grant]:
        return self._by_user.get(user_id, frozenset())

    def add(self, user_id: int, grant: Grant) -> None:
        self._by_user[user_id] = self.of(user_id) | {grant}

    def remove(self, user_id: int, grant: Grant) -> None:
        self._by_user[user_id] = self.of(user_id) - {grant}

    def holders(self, role: Role, grid: str, config: Config) -> set[int]:
        """Users granted ``role`` on ``grid`` or on the whole community it belongs to."""
        return {
            user
            for user, grants in self._by_user.items()
            if any(g.role is role and _covers(g, grid, config) for g in grants)
        }


def _covers(grant: Grant, grid_key: str, config: Config) -> bool:
    """Whether ``grant`` holds on ``grid_key``: its own grid, or the whole community of it.
    With one community a community-wide grant holds everywhere (whatever key older rows
    carry); ``grid_key`` "" (the community as a whole) with several is any community."""
    if grant.grid:
        return grant.grid == grid_key
    if not config.several or not grid_key:
        return True
    community = config.community_of_grid(grid_key)
    return community is not None and community.key == grant.community


@dataclass(frozen=True)
class GridScope:
    """An issue that does not exist yet (``/ticket``) or a whole grid's queue."""

    grid: str
    handler: str | None = None
    reporter_ids: frozenset[int] = field(default_factory=frozenset)


_STAFF: Final = frozenset({Role.ADMIN, Role.SECRETARY})
_REGISTRY_POLICY: Final[dict[RegistryAction, frozenset[Role]]] = {
    RegistryAction.GRANT: _STAFF,
    RegistryAction.BIND: _STAFF,
    RegistryAction.IMPORT: _STAFF,
    RegistryAction.LEDGER: _STAFF,
    RegistryAction.SEE_REQUESTER: _STAFF | {Role.WORKER, Role.LEADER},
    RegistryAction.VERIFY: frozenset({Role.WORKER, Role.LEADER, Role.SECRETARY}),
    # PIPL art. 28: only the household's grid worker and the secretary.
    RegistryAction.READ_SENSITIVE: frozenset({Role.WORKER, Role.SECRETARY}),
}


def roles_of(
    user_id: int,
    config: Config,
    grid_key: str,
    handler_key: str | None = None,
    *,
    grants: Iterable[Grant] = (),
) -> set[Role]:
    """The roles ``user_id`` holds for an issue of ``grid_key`` assigned to ``handler_key``.

    Worker and leader are per grid: a worker of grid A is only a resident for grid B. Handler
    is per assignment: a handler holds the role only on issues assigned to them. ``grants``
    are the user's registry grants (``grid_key`` "" asks about the community as a whole).

    Secretary is per community (issue #15): a secretary of community A is only a resident for
    a grid of community B, and so is someone granted a role for the whole of community A.
    ``grid_key`` "" with several communities asks about *some* community: the caller then
    limits what it shows to that person's communities.
    """
    roles = {Role.RESIDENT}
    for grant in grants:
        if grant.role is not Role.HANDLER and _covers(grant, grid_key, config):
            roles.add(grant.role)
    grid = config.grid_by_key(grid_key)
    if grid is not None and user_id in grid.workers:
        roles.add(Role.WORKER)
    if grid is not None and user_id in grid.leaders:
        roles.add(Role.LEADER)
    community = config.community_of_grid(grid_key)
    if config.is_secretary(user_id, community.key if community else None):
        roles.add(Role.SECRETARY)
    # The same property company may serve two communities, as a handler entry (with its own
    # key) in each; it holds the role only on issues assigned to one of its keys.
    if handler_key is not None and any(
        h.key == handler_key for h in config.handlers_of_user(user_id)
    ):
        roles.add(Role.HANDLER)
    return roles


def may(
    user_id: int,
    action: RegistryAction,
    scope: IssueScope,
    config: Config,
    *,
    grants: Iterable[Grant] = (),
) -> bool:
    """Whether ``user_id`` may take the registry ``action`` on ``scope`` (a grid:
    :class:`GridScope`; ``GridScope("")`` is the whole community). The issue loop's actions
    are checked by :func:`bot.issues.policy.may` over the same roles."""
    roles = roles_of(user_id, config, scope.grid, scope.handler, grants=grants)
    return bool(roles & _REGISTRY_POLICY[action])
