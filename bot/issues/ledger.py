"""The ledger (台账): one row per issue in a period, as a government ledger has it.

The service decides what each row says (overdue or not, the requester masked unless the
person exporting may see names); ``bot.issues.ledger_xlsx`` lays it out as a spreadsheet.

按期办结率 (issue #18 item 4, defined in ``bot.issues.rates``): each row says whether its latest
办结 was on time by the deadline in force then, and how often the deadline was changed (改时限);
``book`` adds the period's on-time rate for the community and per grid, handler and category,
counted over the resolutions in the period (as the digest counts them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bot.config import Config
from bot.core.clock import Clock
from bot.core.errors import InvalidInput, NotPermitted
from bot.core.permissions import GridScope, RegistryAction, RoleBook, may
from bot.issues.rates import OnTime
from bot.privacy.service import Place, mask_location, mask_name
from storage.issues.ledger import LedgerRecord, LedgerRepo


@dataclass(frozen=True)
class LedgerRow:
    number: int
    reported_at: datetime  # local time
    type: str  # IssueType value
    category: str  # category display name
    grid: str  # grid display name
    location: Place  # worded by the presenter (bot.privacy.presenter.place_text)
    coordinates: str | None  # the resident's location (WGS-84); None when none or masked
    description: str
    requester: str
    handler: str  # handler display name, "" when not assigned
    resolve_by: datetime | None
    closed_at: datetime | None
    overdue: bool
    contacted: bool | None
    solved: str | None
    satisfaction: str | None
    state: str  # State value
    on_time: bool | None = None  # latest 办结 by its deadline; None: not resolved / no deadline
    deadline_changes: int = 0  # 改时限
    photos: int = 0  # how many photos came with the report
    community: str = ""  # the community's display name (issue #15)
    voice_seconds: int | None = None  # the report was a voice note this long


@dataclass(frozen=True)
class OnTimeLine:
    """One line of the ledger's on-time sheet: a scope (community, grid, handler, category)."""

    scope: str
    name: str
    counts: OnTime


@dataclass(frozen=True)
class Ledger:
    rows: list[LedgerRow]
    on_time: list[OnTimeLine]


def _coordinates(r: LedgerRecord) -> str | None:
    if r.latitude is None or r.longitude is None:
        return None
    return f"{r.latitude:.6f}, {r.longitude:.6f}"


def _local(moment: datetime | None, zone: tzinfo) -> datetime | None:
    return None if moment is None else moment.astimezone(zone)


class LedgerService:
    def __init__(self, repo: LedgerRepo, clock: Clock, config: Config, roles: RoleBook) -> None:
        self.repo = repo
        self.clock = clock
        self.config = config
        self.roles = roles

    async def rows(
        self, start: date, end: date, *, actor: int | None = None, full_names: bool = False
    ) -> list[LedgerRow]:
        """Issues reported from ``start`` to ``end`` inclusive (local dates).

        ``actor`` None is the command line (the operator, masked unless ``full_names``);
        otherwise the actor must be allowed the ledger, and names show only to those who may.
        """
        return (await self.book(start, end, actor=actor, full_names=full_names)).rows

    async def book(
        self, start: date, end: date, *, actor: int | None = None, full_names: bool = False
    ) -> Ledger:
        """The rows (see ``rows``) and the period's on-time rate per scope."""
        if end < start:
            raise InvalidInput("registry.errors.bad_period")
        communities = [c.key for c in self.config.communities]
        if actor is not None and self.config.is_street_staff(actor):
            full_names = False  # the street office sees every community, names masked
        elif actor is not None:
            communities = self._communities_of(actor)
            if not communities:
                raise NotPermitted("registry.errors.denied_ledger")
            grants = self.roles.of(actor)
            full_names = may(
                actor, RegistryAction.SEE_REQUESTER, GridScope(""), self.config, grants=grants
            )
        zone = self.config.timezone
        begin = datetime.combine(start, time(), zone)
        until = datetime.combine(end + timedelta(days=1), time(), zone)
        # with one community every issue is its own, whatever key older rows carry
        wanted = communities if self.config.several else None
        records = await self.repo.rows(begin, until, wanted)
        rows = [self._row(r, full_names) for r in records]
        return Ledger(rows, await self._on_time(begin, until, wanted))

    def _communities_of(self, actor: int) -> list[str]:
        """The communities whose ledger ``actor`` may export (a secretary or admin of it): a
        secretary of community A never receives community B's rows (issue #15)."""
        grants = self.roles.of(actor)
        if not self.config.several:
            allowed = may(actor, RegistryAction.LEDGER, GridScope(""), self.config, grants=grants)
            return [self.config.communities[0].key] if allowed else []
        return [
            c.key
            for c in self.config.communities
            if any(
                may(actor, RegistryAction.LEDGER, GridScope(g.key), self.config, grants=grants)
                for g in c.grids
            )
        ]

    async def _on_time(
        self, begin: datetime, until: datetime, communities: list[str] | None
    ) -> list[OnTimeLine]:
        """Each community first, then every configured grid of them (with or without
        resolutions), then the handlers and categories that had resolutions, by key."""
        config = self.config
        chosen = [c for c in config.communities if communities is None or c.key in communities]
        lines = []
        for community in chosen:
            key = community.key if communities is not None else None
            found = await self.repo.on_time(begin, until, None, key)
            total = OnTime(*found.get(None, (0, 0)))
            lines.append(OnTimeLine("community", community.name, total))
        totals: dict[str, dict[str | None, tuple[int, int]]] = {}
        for scope in ("grid", "handler", "category"):
            merged: dict[str | None, tuple[int, int]] = {}
            for community in chosen:
                key = community.key if communities is not None else None
                for k, (done, punctual) in (
                    await self.repo.on_time(begin, until, scope, key)
                ).items():
                    before = merged.get(k, (0, 0))
                    merged[k] = (before[0] + done, before[1] + punctual)
                if communities is None:
                    break  # one query covered them all
            totals[scope] = merged
        for scope in ("grid", "handler", "category"):
            rows = totals[scope]
            counts = {str(key): OnTime(*value) for key, value in rows.items()}
            keys = sorted(counts)
            if scope == "grid":  # every configured grid, then any no longer configured
                known = [g.key for c in chosen for g in c.grids]
                keys = known + [k for k in keys if k not in known]
            lines += [
                OnTimeLine(scope, self._name(scope, k), counts.get(k, OnTime())) for k in keys
            ]
        return lines

    def _name(self, scope: str, key: str) -> str:
        found = {
            "grid": self.config.grid_by_key,
            "handler": self.config.handler_by_key,
            "category": self.config.category,
        }[scope](key)
        return found.name if found else key

    def _row(self, r: LedgerRecord, full_names: bool) -> LedgerRow:
        zone = self.config.timezone
        finished = r.closed_at or r.resolved_at
        deadline_passed = (
            r.resolve_by is not None and (finished or self.clock.now()) > r.resolve_by
        )
        name = r.reporter_name or ""
        category = self.config.category(r.category)
        grid = self.config.grid_by_key(r.grid)
        handler = self.config.handler_by_key(r.handler) if r.handler else None
        return LedgerRow(
            number=r.number,
            reported_at=r.reported_at.astimezone(zone),
            type=r.type,
            category=category.name if category else r.category,
            grid=grid.name if grid else r.grid,
            location=mask_location(r.building, r.unit, r.location)
            if not full_names
            else (
                Place(text=r.location) if r.location else mask_location(r.building, r.unit, None)
            ),
            coordinates=_coordinates(r) if full_names else None,
            description=r.description,
            requester=name if full_names and not r.anonymous else mask_name(name),
            handler=handler.name if handler else (r.handler or ""),
            resolve_by=_local(r.resolve_by, zone),
            closed_at=_local(finished, zone),
            overdue=deadline_passed,
            contacted=r.contacted,
            solved=r.solved,
            satisfaction=r.satisfaction,
            state=r.state,
            on_time=None
            if r.last_resolved_at is None or r.resolved_deadline is None
            else r.last_resolved_at <= r.resolved_deadline,
            deadline_changes=r.deadline_changes,
            photos=r.photos,
            voice_seconds=r.voice_seconds if r.voice_file_id else None,
            community=self._community_name(r),
        )

    def _community_name(self, r: LedgerRecord) -> str:
        if not self.config.several:
            return self.config.communities[0].name
        community = self.config.community_by_key(r.community)
        return community.name if community is not None else r.community
