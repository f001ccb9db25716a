"""The registry: households, residents' consent and verification, role grants, group bindings.

Every action asks the one policy (:func:`bot.core.permissions.may`) with the roles from
the config and from the registry's grants. A resident who has not consented has no row at all
(PIPL art. 13–14); :meth:`RegistryService.consent` is the only place a person row is created.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import Final

from bot.config import Config, GridConfig
from bot.config.schema import DEFAULT_COMMUNITY
from bot.core.clock import Clock
from bot.core.errors import InvalidInput, NotFound, NotPermitted, UserError
from bot.core.grids import ChatGrids
from bot.core.permissions import Grant, GridScope, RegistryAction, Role, RoleBook, may
from bot.registry.importing import grid_names, normalise, parse_sheet, read_rows
from storage.registry.chats import ChatGridRepo
from storage.registry.repo import HouseholdData, HouseholdRecord, RegistryRepo, SensitiveRecord

# A household as the registry service hands it out (handlers name it through this module).
Household = HouseholdRecord

RELATIONS: Final = ("owner", "tenant", "family")
_ROOM_TEXT: Final = re.compile(r"^\s*([^\s\-－—]+)\s*[-－—]\s*([^\s\-－—]+)\s*[-－—]\s*(\S+)\s*$")
# What /grant accepts for each role; handlers stay in the config (keyed by handler).
_ROLE_NAMES: Final[dict[str, Role]] = {
    "楼栋长": Role.BUILDING_HEAD,
    "单元长": Role.BUILDING_HEAD,
    "building_head": Role.BUILDING_HEAD,
    "网格员": Role.WORKER,
    "worker": Role.WORKER,
    "网格长": Role.LEADER,
    "leader": Role.LEADER,
    "书记": Role.SECRETARY,
    "社区书记": Role.SECRETARY,
    "secretary": Role.SECRETARY,
    "管理员": Role.ADMIN,
    "admin": Role.ADMIN,
}
_GRID_ROLES: Final = frozenset({Role.BUILDING_HEAD, Role.WORKER, Role.LEADER})
COMMUNITY: Final = ""
# A picker or review button naming a building, unit or household the registry lacks.
STALE_CHOICE: Final = "registry.errors.stale_choice"


@dataclass(frozen=True)
class ImportSummary:
    added: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class Choice:
    id: int
    label: str


@dataclass(frozen=True)
class Claim:
    household: HouseholdRecord
    relation: str
    reviewers: tuple[int, ...]


@dataclass(frozen=True)
class PendingClaim:
    """A resident's household claim waiting for a grid worker (their /todo, issue #18)."""

    user_id: int
    name: str  # the claimant's display name, shown to the reviewer only, privately
    household: HouseholdRecord
    relation: str


@dataclass(frozen=True)
class Decision:
    household: HouseholdRecord
    user_id: int
    approved: bool
    relation: str
    name: str  # the claimant's display name, for the reviewers' cards


@dataclass(frozen=True)
class GrantOutcome:
    user_id: int
    role: Role
    grid: str
    changed: bool  # False: already held (grant) or not held (revoke)


def _natural(text: str) -> tuple[int, str]:
    digits = re.match(r"\d+", text)
    return (int(digits.group()) if digits else 1 << 30, text)


class RegistryService:
    def __init__(self, repo: RegistryRepo, clock: Clock, config: Config, roles: RoleBook):
        self.repo = repo
        self.clock = clock
        self.config = config
        self.roles = roles
        self.chats = ChatGrids(config, ChatGridRepo(repo.db))

    # -- policy --------------------------------------------------------------------------------

    async def load_roles(self) -> None:
        """Fill the role book from the database (at start-up)."""
        grants = await self.repo.all_grants()
        self.roles.replace((g.user_id, Grant(Role(g.role), g.grid, g.community)) for g in grants)

    def may(self, user_id: int, action: RegistryAction, grid: str = COMMUNITY) -> bool:
        scope = GridScope(grid)
        return may(user_id, action, scope, self.config, grants=self.roles.of(user_id))

    def check(self, user_id: int, action: RegistryAction, grid: str = COMMUNITY) -> None:
        if not self.may(user_id, action, grid):
            raise NotPermitted(f"registry.errors.denied_{action.value}")

    def is_staff(self, user_id: int) -> bool:
        """Holds any role beyond resident (config or grant) — staff skip the consent card."""
        in_config = bool(self.config.communities_of_user(user_id))
        return in_config or self.config.is_street_staff(user_id) or bool(self.roles.of(user_id))

    # -- import --------------------------------------------------------------------------------

    async def import_sheet(self, data: bytes, filename: str, actor: int | None) -> ImportSummary:
        """Import the household sheet all-or-nothing; ``actor`` None is the command line."""
        if actor is not None:
            self.check(actor, RegistryAction.IMPORT)
        grids = grid_names((g.key, g.name) for g in self._importable_grids(actor))
        households = parse_sheet(read_rows(data, filename), grids)
        if actor is not None and any(
            not self.may(actor, RegistryAction.IMPORT, h.grid) for h in households
        ):  # a secretary imports households of their own community's grids only
            raise NotPermitted("registry.errors.denied_import")
        # a household is the same one only within its community: two communities may both
        # have a 5号楼 1单元 301 (issue #15)
        households = [replace(h, community=self._community_of(h.grid)) for h in households]
        existing = {
            (h.community, h.building, h.unit, h.room): h for h in await self.repo.households()
        }
        added: list[HouseholdData] = []
        changed: list[tuple[int, HouseholdData]] = []
        for new in households:
            old = existing.get((new.community, new.building, new.unit, new.room))
            if old is None:
                added.append(new)
            elif _fields(old) != _fields(new):
                changed.append((old.id, new))
        await self.repo.save_households(added, changed, self.clock.now())
        return ImportSummary(len(added), len(changed), len(households) - len(added) - len(changed))

    # -- consent and verification --------------------------------------------------------------

    async def has_consent(self, user_id: int) -> bool:
        return await self.repo.person(user_id) is not None

    async def consent(self, user_id: int, display_name: str) -> None:
        await self.repo.add_person(user_id, display_name, self.clock.now())

    def _importable_grids(self, actor: int | None) -> list[GridConfig]:
        """The grids a sheet may name, by key or name: with several communities, those of the
        communities ``actor`` may import for (each has a 第一网格); on the command line every
        grid, a name shared by two communities only by key."""
        if not self.config.several:
            return list(self.config.grids)
        if actor is not None:
            return [g for g in self.config.grids if self.may(actor, RegistryAction.IMPORT, g.key)]
        counts = Counter(g.name for g in self.config.grids)
        return [g if counts[g.name] == 1 else replace(g, name=g.key) for g in self.config.grids]

    def _community_of(self, grid: str) -> str:
        community = self.config.community_of_grid(grid)
        return community.key if community is not None else DEFAULT_COMMUNITY

    async def buildings(self) -> list[Choice]:
        """The picker's buildings; with several communities each says whose it is (every
        community may have a 5号楼)."""
        found = await self.repo.buildings()
        choices = [Choice(i, self._building_label(name, owner)) for i, name, owner in found]
        return sorted(choices, key=lambda c: _natural(c.label))

    def _building_label(self, name: str, community: str) -> str:
        found = self.config.community_by_key(community)
        if not self.config.several or found is None:
            return name
        return f"{found.name}·{name}"

    async def units(self, building_id: int) -> list[Choice]:
        found = await self.repo.units(building_id)
        return sorted((Choice(i, n) for i, n in found), key=lambda c: _natural(c.label))

    async def rooms(self, unit_id: int) -> list[Choice]:
        found = await self.repo.households_in_unit(unit_id)
        return sorted((Choice(h.id, h.room) for h in found), key=lambda c: _natural(c.label))

    async def units_of(self, building_id: int) -> tuple[str, list[Choice]]:
        """The picker's unit step: the building's name and its units. A button naming a
        building the registry no longer has (a re-imported sheet, a forged button) is stale."""
        label = next((b.label for b in await self.buildings() if b.id == building_id), None)
        units = await self.units(building_id) if label is not None else []
        if label is None or not units:
            raise NotFound(STALE_CHOICE)
        return label, units

    async def rooms_of(self, unit_id: int) -> tuple[HouseholdRecord, list[Choice]]:
        """The picker's room step: one household of the unit (for its building and unit
        names) and the unit's rooms; a unit with no households is a stale button."""
        rooms = await self.rooms(unit_id)
        if not rooms:
            raise NotFound(STALE_CHOICE)
        return await self.household(rooms[0].id), rooms

    async def household(self, household_id: int) -> HouseholdRecord:
        """A household named by a button; one the registry lacks is a stale button."""
        found = await self.repo.household(household_id)
        if found is None:
            raise NotFound(STALE_CHOICE)
        return found

    async def find_room(self, text: str) -> HouseholdRecord:
        """A typed "3-2-301" (or "3号楼-2单元-301"); NotFound if the registry lacks it."""
        match = _ROOM_TEXT.match(text)
        if match is None:
            raise InvalidInput("registry.errors.room_format", text=text)
        place = [
            normalise(k, v)
            for k, v in zip(("building", "unit", "room"), match.groups(), strict=True)
        ]
        found = await self.repo.find_households(*place)
        if not found:
            raise NotFound("registry.errors.no_room", room="-".join(place))
        if len(found) > 1:  # the same address in two communities: the picker says whose
            raise InvalidInput("registry.errors.room_in_several", room="-".join(place))
        return found[0]

    async def claim(self, user_id: int, household_id: int, relation: str) -> Claim:
        """Ask to be linked to a household; the grid's workers are asked to approve it."""
        if not await self.has_consent(user_id):
            raise NotPermitted("registry.errors.no_consent")
        if relation not in RELATIONS:
            raise InvalidInput("registry.errors.bad_relation")
        household = await self.household(household_id)
        link = await self.repo.link(user_id, household_id)
        if link is not None and link.state == "verified":
            raise UserError("registry.errors.already_verified")
        await self.repo.request_link(user_id, household_id, relation, self.clock.now())
        return Claim(household, relation, self.reviewers(household.grid))

    def reviewers(self, grid_key: str) -> tuple[int, ...]:
        grid = self.config.grid_by_key(grid_key)
        workers = set(grid.workers if grid else ()) | self.roles.holders(
            Role.WORKER, grid_key, self.config
        )
        return tuple(sorted(workers))

    async def decide(self, actor: int, user_id: int, household_id: int, approve: bool) -> Decision:
        """A grid worker approves (通过) or rejects (拒绝) a claim; a second press is refused."""
        household = await self.repo.household(household_id)
        if household is None:
            raise NotFound("registry.errors.claim_gone")
        self.check(actor, RegistryAction.VERIFY, household.grid)
        state = "verified" if approve else "rejected"
        if not await self.repo.decide_link(user_id, household_id, state, actor, self.clock.now()):
            raise UserError("registry.errors.already_decided")
        link = await self.repo.link(user_id, household_id)
        person = await self.repo.person(user_id)
        relation = link.relation if link else RELATIONS[0]
        return Decision(
            household, user_id, approve, relation, person.display_name if person else ""
        )

    async def grids_of(self, user_id: int) -> set[str]:
        """The grids of the households this person is verified for (issue #18 item 5)."""
        grids = set()
        for link in await self.repo.links_of(user_id):
            household = await self.repo.household(link.household_id)
            if link.state == "verified" and household is not None:
                grids.add(household.grid)
        return grids

    async def pending_claims(self, actor: int) -> list[PendingClaim]:
        """Claims waiting for a decision that ``actor`` may take (issue #18 item 6)."""
        found = []
        for link in await self.repo.pending_links():
            household = await self.repo.household(link.household_id)
            if household is None or not self.may(actor, RegistryAction.VERIFY, household.grid):
                continue
            person = await self.repo.person(link.user_id)
            name = person.display_name if person else ""
            found.append(PendingClaim(link.user_id, name, household, link.relation))
        return found

    async def is_verified(self, user_id: int, household_id: int) -> bool:
        link = await self.repo.link(user_id, household_id)
        return link is not None and link.state == "verified"

    # -- roles and groups ----------------------------------------------------------------------

    def parse_role(self, actor: int, text: str, grid: str | None) -> Grant:
        """The grant ``/grant`` or ``/revoke`` names. A grid role needs its grid; a community
        role (secretary, admin) is for the community of the grid named, else of the actor's
        only community (with several communities, issue #15)."""
        role = _ROLE_NAMES.get(text.strip().lower())
        if role is None:
            raise InvalidInput("registry.errors.unknown_role", role=text)
        if role in _GRID_ROLES and not grid:
            raise InvalidInput("registry.errors.grid_needed", role=text)
        if grid and self.config.grid_by_key(grid) is None:
            raise InvalidInput("registry.errors.unknown_grid", grid=grid, known=self._known())
        scope = grid if role in _GRID_ROLES and grid else COMMUNITY
        if grid:
            community = self._community_of(grid)
        elif not self.config.several:
            community = self.config.communities[0].key
        else:
            mine = [
                c.key
                for c in self.config.communities
                if any(self.may(actor, RegistryAction.GRANT, g.key) for g in c.grids)
            ]
            if len(mine) != 1:  # staff of several communities say which, by a grid of it
                raise InvalidInput("registry.errors.grid_needed", role=text)
            community = mine[0]
        return Grant(role, scope, community)

    def _check_grant(self, actor: int, grant: Grant) -> None:
        """A secretary or admin grants in their own community only."""
        found = self.config.community_by_key(grant.community)
        grids = [grant.grid] if grant.grid else [g.key for g in found.grids] if found else []
        if not self.config.several:
            grids = [COMMUNITY]  # as before several communities existed
        if not any(self.may(actor, RegistryAction.GRANT, g) for g in grids):
            raise NotPermitted("registry.errors.denied_grant")

    async def grant(
        self, actor: int, user_id: int, role_text: str, grid: str | None
    ) -> GrantOutcome:
        """/grant: an admin or secretary gives a role; recorded with an audit event."""
        if not self.config.several:  # refused before the role is even read, as always
            self.check(actor, RegistryAction.GRANT)
        grant = self.parse_role(actor, role_text, grid)
        self._check_grant(actor, grant)
        async with self.repo.db.transaction() as tx:
            changed = await self.repo.grant(
                user_id, grant.role.value, grant.grid, actor, self.clock.now(), grant.community
            )
            tx.after_commit(lambda: self.roles.add(user_id, grant))
        return GrantOutcome(user_id, grant.role, grant.grid, changed)

    async def revoke(
        self, actor: int, user_id: int, role_text: str, grid: str | None
    ) -> GrantOutcome:
        if not self.config.several:  # refused before the role is even read, as always
            self.check(actor, RegistryAction.GRANT)
        grant = self.parse_role(actor, role_text, grid)
        self._check_grant(actor, grant)
        async with self.repo.db.transaction() as tx:
            changed = await self.repo.revoke(
                user_id, grant.role.value, grant.grid, actor, self.clock.now(), grant.community
            )
            tx.after_commit(lambda: self.roles.remove(user_id, grant))
        return GrantOutcome(user_id, grant.role, grant.grid, changed)

    async def bind(self, actor: int, chat_id: int, grid: str) -> str:
        """/bind g1 in a group: only community admins and secretaries, never group admins."""
        if grid and self.config.grid_by_key(grid) is None:
            raise InvalidInput("registry.errors.unknown_grid", grid=grid, known=self._known())
        if not grid and self.config.several:
            # a group of the whole community: which one? (issue #15) — bind it to a grid
            raise InvalidInput("registry.errors.unknown_grid", grid="-", known=self._known())
        self.check(actor, RegistryAction.BIND, grid)  # only that grid's community's staff
        await self.repo.bind(chat_id, grid, actor, self.clock.now())
        return grid

    async def grid_of_chat(self, chat_id: int) -> str | None:
        """The grid a group is bound to: a /bind wins over the config's chat_id."""
        grid = await self.chats.grid_of_chat(chat_id)
        return None if grid is None else grid.key

    def _known(self) -> str:
        return "、".join(g.key for g in self.config.grids)

    # -- sensitive data (PIPL art. 28) ---------------------------------------------------------

    async def record_sensitive(self, user_id: int, record: SensitiveRecord) -> None:
        """A verified resident records their household's sensitive data (separate consent)."""
        if not await self.is_verified(user_id, record.household_id):
            raise NotPermitted("registry.errors.not_verified")
        now = self.clock.now()
        async with self.repo.db.transaction():
            await self.repo.set_sensitive_consent(user_id, now)
            await self.repo.put_sensitive(record, user_id, now)

    async def read_sensitive(self, actor: int, household_id: int) -> SensitiveRecord | None:
        household = await self.household(household_id)
        self.check(actor, RegistryAction.READ_SENSITIVE, household.grid)
        return await self.repo.sensitive(household_id)


def _fields(h: HouseholdRecord | HouseholdData) -> tuple[int, str, str, str, str]:
    return (h.area_centi, h.owner_names, h.phone, h.grid, h.owner_key)
