"""The ledger (台账): one row per issue in a period, as a government ledger has it.

The service decides what each row says (overdue or not, the requester masked unless the
person exporting may see names); ``bot.issues.ledger_xlsx`` lays it out as a spreadsheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bot.config import Config
from bot.core.clock import Clock
from bot.core.errors import InvalidInput, NotPermitted
from bot.core.permissions import GridScope, RegistryAction, RoleBook, may
from bot.privacy.service import mask_location, mask_name
from storage.issues.ledger import LedgerRecord, LedgerRepo


@dataclass(frozen=True)
class LedgerRow:
    number: int
    reported_at: datetime  # local time
    type: str  # IssueType value
    category: str  # category display name
    grid: str  # grid display name
    location: str
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
        return [self._row(r, full_names) for r in records]

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
            else (r.location or mask_location(r.building, r.unit, None)),
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
        )
