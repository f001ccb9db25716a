"""The daily digest and the weekly summary for the community's secretaries (issue #5).

All periods are local calendar days ``[start 00:00, end 00:00)``. The daily digest reports on
yesterday, the weekly one on the seven days before the Monday it is sent. Rates are counted by
the moment a slip was issued (see ``issues_feedback``); "last 30 days" ends at today 00:00 and
is compared with the 30 days before it (``rates.compare``, in percentage points).

Best and worst handlers: those with at least one valid slip in the last 30 days, ranked by the
composite score (ties by more valid slips, then key). With six or fewer, the best are the top
half (rounded up) and the worst the rest, so nobody is listed twice.

按期办结率 (on-time rate, defined in ``bot.issues.rates``): the period's and the last 30 days'
for the community, and the last 30 days' per grid (several grids only) and per category (those
with resolutions). The weekly summary adds the handler league table over its seven days: each
handler with a resolution or a valid slip, with 办结数, 按期率 and 满意率, worst first (lowest
按期率, then lowest 满意率; a handler without a figure after those with one; then by name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from fractions import Fraction

from bot.config import Config
from bot.config.schema import DEFAULT_COMMUNITY, GridConfig
from bot.issues.feedback import FeedbackService, RateScope
from bot.issues.rates import OnTime, RateCounts, Rates, compare, rates_from_counts
from bot.schedule.model import at_local
from storage.issues.stats import CommunityFigures, IssueStats
from storage.schedule.checkins import CheckinRepo
from storage.schedule.district import DistrictRepo

TOP = 3
OVERDUE_SHOWN = 5


@dataclass(frozen=True)
class Overdue:
    number: int
    category: str  # display name
    age_days: int
    handler: str | None  # display name


@dataclass(frozen=True)
class HandlerScore:
    name: str
    rates: Rates


@dataclass(frozen=True)
class LeagueRow:
    """One handler in the weekly league table (办结数、按期率、满意率)."""

    name: str
    on_time: OnTime
    rates: Rates


@dataclass(frozen=True)
class Digest:
    weekly: bool
    start: date  # first day reported on
    end: date  # the day after the last one (the day it is sent)
    counts: dict[str, int]  # new / accepted / resolved / reopened in the period
    open_now: int
    overdue_now: int
    overdue: tuple[Overdue, ...]
    rates: Rates  # the period
    rates_30: Rates
    rates_prev_30: Rates
    changes: dict[str, Fraction | None]  # rates_30 against rates_prev_30, percentage points
    categories: tuple[tuple[str, int], ...]  # top categories of the last 30 days
    best: tuple[HandlerScore, ...]
    worst: tuple[HandlerScore, ...]
    alerts: int  # check-in alerts raised in the period
    alerts_open: int
    today: tuple[str, ...]  # template names of today's calendar occurrences
    trend: tuple[tuple[date, int, int], ...] = ()  # (day, new, resolved) for the last 30 days
    # (grid name, open, overdue) for each of the community's grids, most overdue first; empty
    # for a community of one grid (the totals above say it all)
    grids: tuple[tuple[str, int, int], ...] = ()
    # a year whose official holidays are unknown (this one, or from 1 December the next)
    holidays_unknown: int | None = None
    on_time: OnTime = field(default_factory=OnTime)  # 按期办结率 of the period
    on_time_30: OnTime = field(default_factory=OnTime)
    on_time_grids: tuple[tuple[str, OnTime], ...] = ()  # last 30 days; several grids only
    on_time_categories: tuple[tuple[str, OnTime], ...] = ()  # last 30 days, with resolutions
    league: tuple[LeagueRow, ...] = ()  # weekly only, worst first
    community: str = DEFAULT_COMMUNITY  # whose digest: each secretary gets their own (#15)


@dataclass(frozen=True)
class CommunityLine:
    """One community in the street office's roll-up (issue #15): open and overdue now, the
    day's reports and resolutions, the last 30 days' 按期办结率 and three rates."""

    community: str  # the community's key
    name: str  # as configured; the key when the community is no longer configured
    open: int
    overdue: int
    reported: int
    resolved: int
    on_time_30: OnTime
    rates_30: Rates


@dataclass(frozen=True)
class Rollup:
    """The street office's daily roll-up: one line per community, worst first."""

    start: date
    end: date
    lines: tuple[CommunityLine, ...]


@dataclass(frozen=True)
class OfficeBlock:
    """One street office in the district's roll-up: its totals and its communities, worst
    first. ``office`` None: communities in the data that no bot serves now."""

    office: str | None
    total: CommunityLine
    lines: tuple[CommunityLine, ...]


@dataclass(frozen=True)
class DistrictRollup:
    """The district's daily roll-up (issue #16): its street offices, worst first."""

    start: date
    end: date
    offices: tuple[OfficeBlock, ...]


class DigestService:
    def __init__(
        self,
        feedback: FeedbackService,
        stats: IssueStats,
        checkins: CheckinRepo,
        district: DistrictRepo | None = None,
    ):
        self.feedback = feedback
        self.stats = stats
        self.checkins = checkins
        self.district = district  # the street offices' communities (None: this bot's only)
        self.config: Config = feedback.config

    async def build(
        self,
        now: datetime,
        today: date,
        *,
        weekly: bool,
        reminders: tuple[str, ...] = (),
        community: str | None = None,
    ) -> Digest:
        """The digest of ``community`` (None: every issue in the database, as for a deployment
        of one community); every figure is read from the rollups (issue #15 item 2)."""
        with self.stats.remembered_spans():  # its few periods' days, read once
            return await self._build(now, today, weekly, reminders, community)

    async def _build(
        self,
        now: datetime,
        today: date,
        weekly: bool,
        reminders: tuple[str, ...],
        community: str | None,
    ) -> Digest:
        start_day = today - timedelta(days=7 if weekly else 1)
        start, end = self._at(start_day), self._at(today)
        back30, back60 = self._at(today - timedelta(days=30)), self._at(today - timedelta(days=60))
        rates_30 = await self._rates(back30, end, community)
        rates_prev = await self._rates(back60, back30, community)
        grids = self._grids_of(community)
        alerts, alerts_open = await self.checkins.alert_counts(
            start, end, None if community is None else [g.key for g in grids]
        )
        best, worst = await self._handlers(back30, end, community)
        return Digest(
            weekly=weekly,
            start=start_day,
            end=today,
            counts=await self.stats.event_counts(start, end, community=community),
            open_now=await self.stats.open_count(community=community),
            overdue_now=await self.stats.overdue_count(now, community=community),
            overdue=await self._overdue(now, community),
            rates=await self._rates(start, end, community),
            rates_30=rates_30,
            rates_prev_30=rates_prev,
            changes=compare(rates_30, rates_prev),
            categories=tuple(
                (self._category(key), count)
                for key, count in await self.stats.top_categories(
                    back30, end, TOP, community=community
                )
            ),
            best=best,
            worst=worst,
            alerts=alerts,
            alerts_open=alerts_open,
            today=reminders,
            trend=await self._trend(today, community),
            grids=await self._grids(now, community),
            on_time=(await self._on_time(start, end, community)).get(None, OnTime()),
            on_time_30=(await self._on_time(back30, end, community)).get(None, OnTime()),
            on_time_grids=await self._on_time_grids(back30, end, community),
            on_time_categories=await self._on_time_categories(back30, end, community),
            league=await self._league(start, end, community) if weekly else (),
            community=community or DEFAULT_COMMUNITY,
        )

    async def roll_up(self, now: datetime, today: date) -> Rollup:
        """The street office's roll-up: every configured community (and any the data holds that
        is not configured), worst first (see ``roll_up_order``), from two queries over
        the rollups across communities, never one set per community (issue #15 item 2)."""
        day, month = await self._figures(now, today)
        # every community of a street office, even one with nothing to count; one community
        # alone (a deployment without a street office) names no line of its own
        names = {c.key: c.name for c in self.config.communities} if self.config.several else {}
        # another street office's communities (another bot's, on a district's database) are
        # not this office's to see; the rest of the data's are (a community since removed)
        others = await self._others()
        lines = [
            self._line(key, names.get(key, key), [month.get(key)], [day.get(key)])
            for key in [*names, *sorted(set(month) - set(names) - others)]
        ]
        return Rollup(today - timedelta(days=1), today, tuple(sorted(lines, key=roll_up_order)))

    async def district_roll_up(self, now: datetime, today: date) -> DistrictRollup:
        """The district's roll-up (issue #16): every street office's communities, known from
        what each bot recorded at start (``storage.schedule.district``), grouped by office
        with the office's totals; offices and their communities worst first. The same two
        queries as the street office's roll-up: the rollups hold every bot's communities."""
        day, month = await self._figures(now, today)
        known = await self.district.communities() if self.district is not None else []
        offices: dict[str | None, dict[str, str]] = {}
        for row in known:
            offices.setdefault(row.office, {})[row.community] = row.name
        # data of a community no bot serves any more is still the district's
        strays = sorted(set(month) - {row.community for row in known})
        if strays:
            offices[None] = {key: key for key in strays}
        blocks = []
        for office, names in offices.items():
            lines = [self._line(k, n, [month.get(k)], [day.get(k)]) for k, n in names.items()]
            total = self._line(
                office or "",
                office or "",
                [month.get(k) for k in names],
                [day.get(k) for k in names],
            )
            blocks.append(OfficeBlock(office, total, tuple(sorted(lines, key=roll_up_order))))
        blocks.sort(key=lambda b: (b.office is None, roll_up_order(b.total)))
        return DistrictRollup(today - timedelta(days=1), today, tuple(blocks))

    async def _others(self) -> set[str]:
        """The communities other bots serve: each bot records its own at start, so those
        recorded and not in this config."""
        if self.district is None:
            return set()
        mine = {c.key for c in self.config.communities}
        return {row.community for row in await self.district.communities()} - mine

    async def _figures(
        self, now: datetime, today: date
    ) -> tuple[dict[str, CommunityFigures], dict[str, CommunityFigures]]:
        """Every community's figures for yesterday and for the last 30 days."""
        start, end = self._at(today - timedelta(days=1)), self._at(today)
        day = {f.community: f for f in await self.stats.by_community(now, start, end)}
        back30 = self._at(today - timedelta(days=30))
        month = {f.community: f for f in await self.stats.by_community(now, back30, end)}
        return day, month

    def _line(
        self,
        key: str,
        name: str,
        month: Sequence[CommunityFigures | None],
        day: Sequence[CommunityFigures | None],
    ) -> CommunityLine:
        """A roll-up line summing ``month``'s and ``day``'s figures (one community's, or an
        office's communities'; None: a community with nothing to count)."""
        total = {n: sum(getattr(f, n) for f in month if f) for n in _MONTH_FIGURES}
        yesterday = {n: sum(getattr(f, n) for f in day if f) for n in ("reported", "resolved")}
        slips = {n: total[n] for n in RATE_COUNTERS}
        return CommunityLine(
            community=key,
            name=name,
            open=total["open"],
            overdue=total["overdue"],
            reported=yesterday["reported"],
            resolved=yesterday["resolved"],
            on_time_30=OnTime(total["timed"], total["punctual"]),
            rates_30=rates_from_counts(RateCounts(**slips), self.feedback.weights()),
        )

    def _grids_of(self, community: str | None) -> tuple[GridConfig, ...]:
        """The grids a digest lists: one community's, or every community's (None)."""
        if community is None:
            return tuple(g for c in self.config.communities for g in c.grids)
        found = self.config.community_by_key(community)
        return found.grids if found is not None else ()

    async def _on_time(
        self, start: datetime, end: datetime, community: str | None, scope: str | None = None
    ) -> dict[str | None, OnTime]:
        rows = await self.stats.on_time(start, end, scope, community=community)
        return {key: OnTime(*counts) for key, counts in sorted(rows.items(), key=_key)}

    async def _on_time_grids(
        self, start: datetime, end: datetime, community: str | None
    ) -> tuple[tuple[str, OnTime], ...]:
        grids = self._grids_of(community)
        if len(grids) < 2:
            return ()
        counts = await self._on_time(start, end, community, "grid")
        return tuple((g.name, counts.get(g.key, OnTime())) for g in grids)

    async def _on_time_categories(
        self, start: datetime, end: datetime, community: str | None
    ) -> tuple[tuple[str, OnTime], ...]:
        """The categories with the lowest on-time rate (ties: more resolutions, then key)."""
        counts = await self._on_time(start, end, community, "category")
        worst = sorted(counts.items(), key=lambda kv: (kv[1].rate, -kv[1].resolved, _key(kv)))
        return tuple((self._category(str(key)), value) for key, value in worst[:TOP])

    async def _league(
        self, start: datetime, end: datetime, community: str | None
    ) -> tuple[LeagueRow, ...]:
        weights = self.feedback.weights()
        resolved = await self._on_time(start, end, community, "handler")
        slips = await self.feedback.repo.slips.rate_counts_by(
            "handler", start, end, community=community
        )
        rows = [
            LeagueRow(
                self._handler(key) or key,
                resolved.get(key, OnTime()),
                rates_from_counts(RateCounts(**slips.get(key, {})), weights),
            )
            for key in sorted({str(k) for k in resolved} | set(slips))
            if key in resolved or slips[key]["valid"] > 0
        ]
        return tuple(sorted(rows, key=league_order))

    async def _grids(
        self, now: datetime, community: str | None
    ) -> tuple[tuple[str, int, int], ...]:
        grids = self._grids_of(community)
        if len(grids) < 2:
            return ()
        counts = await self.stats.open_by_grid(now, community=community)
        rows = [(g.name, *counts.get(g.key, (0, 0))) for g in grids]
        return tuple(sorted(rows, key=lambda row: (-row[2], -row[1])))  # stable: config order

    async def _trend(
        self, today: date, community: str | None
    ) -> tuple[tuple[date, int, int], ...]:
        """New and resolved issues per local day over the 30 days before ``today``."""
        days = [today - timedelta(days=n) for n in range(30, 0, -1)]
        bounds = [(self._at(day), self._at(day + timedelta(days=1))) for day in days]
        counts = await self.stats.daily_counts(bounds, community=community)
        return tuple(
            (day, new, resolved) for day, (new, resolved) in zip(days, counts, strict=True)
        )

    def _at(self, day: date) -> datetime:
        return at_local(day, datetime.min.time(), self.config)

    async def _rates(self, start: datetime, end: datetime, community: str | None) -> Rates:
        return await self.feedback.rates(
            RateScope.COMMUNITY, None, start, end, community=community
        )

    async def _overdue(self, now: datetime, community: str | None) -> tuple[Overdue, ...]:
        rows = await self.stats.overdue(now, OVERDUE_SHOWN, community=community)
        return tuple(
            Overdue(
                number, self._category(category), (now - reported).days, self._handler(handler)
            )
            for number, category, reported, handler in rows
        )

    async def _handlers(
        self, start: datetime, end: datetime, community: str | None
    ) -> tuple[tuple[HandlerScore, ...], tuple[HandlerScore, ...]]:
        weights = self.feedback.weights()
        by_handler = await self.feedback.repo.slips.rate_counts_by(
            "handler", start, end, community=community
        )
        scored = [
            (key, rates_from_counts(RateCounts(**counts), weights))
            for key, counts in by_handler.items()
            if counts["valid"] > 0  # ranked on answered slips only
        ]
        scored.sort(key=lambda kr: (-(kr[1].composite or 0), -kr[1].valid, kr[0]))
        ranked = [HandlerScore(self._handler(key) or key, rates) for key, rates in scored]
        split = min(TOP, (len(ranked) + 1) // 2)
        worst = ranked[split:][-TOP:]
        return tuple(ranked[:split]), tuple(reversed(worst))

    def _category(self, key: str) -> str:
        category = self.config.category(key)
        return category.name if category else key

    def _handler(self, key: str | None) -> str | None:
        handler = self.config.handler_by_key(key or "")
        return handler.name if handler else key


def _key(item: tuple[str | None, object]) -> str:
    return item[0] or ""


RATE_COUNTERS = tuple(f.name for f in fields(RateCounts))
# what a roll-up line sums over 30 days: open and overdue now, 按期办结率, the slips' counts
_MONTH_FIGURES = ("open", "overdue", "timed", "punctual", *RATE_COUNTERS)


def roll_up_order(line: CommunityLine) -> tuple[int, bool, Fraction, bool, Fraction, str]:
    """Worst first: most overdue now, then lowest 30-day 按期办结率, then lowest 解决率 (a
    community without a figure after those with one), then by key."""
    on_time, solved = line.on_time_30.rate, line.rates_30.resolution_rate
    return (
        -line.overdue,
        on_time is None,
        on_time or Fraction(0),
        solved is None,
        solved or Fraction(0),
        line.community,
    )


def league_order(row: LeagueRow) -> tuple[bool, Fraction, bool, Fraction, str]:
    """Worst first: lowest 按期率, then lowest 满意率; missing figures after present ones."""
    on_time, satisfaction = row.on_time.rate, row.rates.satisfaction_rate
    return (
        on_time is None,
        on_time or Fraction(0),
        satisfaction is None,
        satisfaction or Fraction(0),
        row.name,
    )
