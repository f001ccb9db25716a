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
        if actor is not None:
            grants = self.roles.of(actor)
            scope = GridScope("")
            if not may(actor, RegistryAction.LEDGER, scope, self.config, grants=grants):
                raise NotPermitted("registry.errors.denied_ledger")
            full_names = may(
                actor, RegistryAction.SEE_REQUESTER, scope, self.config, grants=grants
            )
        zone = self.config.timezone
        begin = datetime.combine(start, time(), zone)
        until = datetime.combine(end + timedelta(days=1), time(), zone)
        records = await self.repo.rows(begin, until)
        rows = [self._row(r, full_names) for r in records]
        return Ledger(rows, await self._on_time(begin, until))

    async def _on_time(self, begin: datetime, until: datetime) -> list[OnTimeLine]:
        """The community first, then every configured grid (with or without resolutions),
        then the handlers and categories that had resolutions, by key."""
        config = self.config
        found = await self.repo.on_time(begin, until, None)
        lines = [OnTimeLine("community", config.community.name, OnTime(*found.get(None, (0, 0))))]
        for scope in ("grid", "handler", "category"):
            rows = await self.repo.on_time(begin, until, scope)
            counts = {str(key): OnTime(*value) for key, value in rows.items()}
            keys = sorted(counts)
            if scope == "grid":  # every configured grid, then any no longer configured
                known = [g.key for g in config.community.grids]
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
        )
