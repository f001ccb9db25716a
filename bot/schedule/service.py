"""The sweep (issue #5): one call a minute derives all due scheduled work from the database and
the config, does it once, and records it (architecture.md, invariant 5).

* The window is ``(swept_to, now]``, where ``swept_to`` is where the previous sweep stopped
  (stored), so work due while the bot was down is seen when it comes back.
* Each occurrence is claimed by inserting its key into ``schedule_runs`` in the same
  transaction as the outbox rows it queues: a restart never loses or repeats it.
* Work due less than ``grace_minutes`` ago runs (late, once). Older work is recorded as
  ``missed`` and not sent: after two days down nobody gets a burst of stale reminders.
  Exceptions: a check-in alert (safety) is sent late if the morning question went out, and
  deadline chasing sends the one step that applies now (see ``bot.schedule.chasing``).
* The first sweep of a new database looks back only the grace period.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence, Set
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from bot.config import Config
from bot.config.schema import DEFAULT_COMMUNITY, RuleConfig
from bot.core.clock import Clock
from bot.core.errors import InvalidInput, NotPermitted
from bot.core.grids import COMMUNITY, ChatGrids
from bot.core.slices import write_in_slices
from bot.core.workcal import WorkCalendar
from bot.schedule.chasing import STEPS_PER_TRANSACTION, Chaser
from bot.schedule.checkin import CheckinService
from bot.schedule.digest import Digest, DigestService, DistrictRollup
from bot.schedule.model import (
    Due,
    Kind,
    NoticeKind,
    Outcome,
    ScheduleNotice,
    at_local,
    daily_occurrences,
    event_day,
    local_day,
    rule_occurrences,
)
from storage.registry.chats import ChatGridRepo
from storage.schedule.runs import DISTRICT_RUNS, ScheduleRepo

# What ``prepare_digests`` builds before the sweep's transaction: each community's digest,
# and the district's roll-up when this bot may send it.
Prepared = Digest | DistrictRollup

# Queues notices in the transaction that records them (the presenter's ``deliver``).
Deliver = Callable[[Sequence[ScheduleNotice]], Awaitable[None]]

# However long the bot was down, occurrences older than this are not even recorded as missed.
MAX_LOOKBACK = timedelta(days=31)


async def _keep(notices: Sequence[ScheduleNotice]) -> None:
    """No presenter (tests): the notices are only returned."""


@dataclass(frozen=True)
class RuleView:
    rule: RuleConfig
    paused: bool
    next_at: datetime | None


@dataclass(frozen=True)
class RuleList:
    """/rules: every rule, and a year whose official holidays are unknown (item 21)."""

    rules: tuple[RuleView, ...]
    holidays_unknown: int | None


@dataclass(frozen=True)
class SweepResult:
    notices: tuple[ScheduleNotice, ...]
    recorded: tuple[tuple[str, Outcome], ...]  # (key, outcome) of every occurrence handled


class ScheduleService:
    def __init__(
        self,
        repo: ScheduleRepo,
        clock: Clock,
        config: Config,
        calendar: WorkCalendar,
        *,
        chaser: Chaser,
        checkins: CheckinService,
        digests: DigestService,
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.config = config
        self.calendar = calendar
        self.chaser = chaser
        self.checkins = checkins
        self.digests = digests
        self.chats = ChatGrids(config, ChatGridRepo(repo.db))
        # the district's roll-up is one piece of work for all its bots: claimed in records
        # of no bot, so whichever of them sweeps first sends it, once (issue #16)
        self.district_runs = ScheduleRepo(repo.db, DISTRICT_RUNS)

    async def prepare_digests(self, now: datetime) -> dict[str, Prepared]:
        """The digests the sweep at ``now`` will send, built before its write transaction.

        A digest reads two months of issues (seconds on a large database); built inside the
        transaction it held every resident's message back until it was done. Only reads: the
        sweep still decides, records and sends, and builds any digest not prepared here.
        """
        grace = timedelta(minutes=self.config.schedule.grace_minutes)
        start = await self._window_start(now, grace)
        built: dict[str, Prepared] = {}
        for due in self._occurrences(start, now):
            if (
                due.kind is Kind.DISTRICT
                and due.at <= now
                and self._outcome(due, now, grace, paused=set()) is Outcome.SENT
                and not await self.district_runs.recorded(due.key)
            ):
                async with self.repo.db.snapshot():
                    built[due.key] = await self.digests.district_roll_up(
                        now, local_day(due.at, self.config)
                    )
            if (
                due.kind is Kind.DIGEST
                and due.at <= now
                and self._outcome(due, now, grace, paused=set()) is Outcome.SENT
                and not await self.repo.recorded(due.key)
            ):
                for community in self.config.communities:
                    async with self.repo.db.snapshot():  # its totals from one moment
                        digest = await self._build_digest(due, now, community.key)
                    built[_digest_key(due, community.key)] = digest
        return built

    async def sweep(
        self,
        now: datetime | None = None,
        digests: Mapping[str, Prepared] | None = None,
        deliver: Deliver | None = None,
    ) -> SweepResult:
        """Do every piece of scheduled work due by ``now``, once; safe to call any time.

        ``digests``: from ``prepare_digests(now)``, so none is built inside a transaction.
        ``deliver`` queues notices inside the transaction that records them (the presenter's):
        the sweep commits in several short transactions, and what one records must reach the
        outbox in that same one, or a crash between would lose it.

        No transaction is held while the sweep looks for work (issue #15 item 3): the calendar
        occurrences are a handful; chases and check-in escalations are read outside, then
        written a short slice at a time (bot.core.slices), each re-checked inside its write.
        """
        now = now or self.clock.now()
        deliver = deliver or _keep
        notices: list[ScheduleNotice] = []
        recorded: list[tuple[str, Outcome]] = []
        async with self.repo.db.transaction():
            notices += await self._calendar(now, digests or {}, recorded)
            await self.repo.set_swept_to(now)
            await deliver(notices)
        # On a connection of its own: on the shared reader these reads (a second on a large
        # database) held back every read queued behind them, the sender's among them.
        async with self.repo.db.snapshot():
            due = await self.chaser.due(now)
            escalations = await self.checkins.due_escalations(now)
        notices += await write_in_slices(
            self.repo.db.transaction,
            due,
            lambda part: self.chaser.apply(list(part), now),
            deliver,
            most=STEPS_PER_TRANSACTION,
        )
        for alert, step in escalations:  # 窗帘之约 (item 19)
            async with self.repo.db.transaction():
                part = await self.checkins.escalate_one(alert, step)
                await deliver(part)
            notices += part
        return SweepResult(tuple(notices), tuple(recorded))

    async def _calendar(
        self, now: datetime, digests: Mapping[str, Prepared], recorded: list[tuple[str, Outcome]]
    ) -> list[ScheduleNotice]:
        """The calendar's occurrences due by ``now`` (rules, check-in mornings, digests), in
        the caller's transaction; each one handled is appended to ``recorded``."""
        grace = timedelta(minutes=self.config.schedule.grace_minutes)
        notices: list[ScheduleNotice] = []
        start = await self._window_start(now, grace)
        paused = await self.repo.paused_rules()
        for due in sorted(self._occurrences(start, now), key=lambda d: (d.at, d.key)):
            if due.kind is Kind.DISTRICT:
                notices += await self._district(due, now, grace, digests, recorded)
                continue
            if due.at > now or await self.repo.recorded(due.key):
                continue
            outcome = self._outcome(due, now, grace, paused)
            if outcome is Outcome.SENT:
                notices += await self._produce(due, now, digests, paused)
            await self.repo.record(due.key, due.kind.value, due.at, outcome.value, now)
            recorded.append((due.key, outcome))
        return notices

    async def _district(
        self,
        due: Due,
        now: datetime,
        grace: timedelta,
        prepared: Mapping[str, Prepared],
        recorded: list[tuple[str, Outcome]],
    ) -> list[ScheduleNotice]:
        """The district's roll-up, if this bot claims it: the claim is an insert into the
        district's records, so another bot's sweep claiming it at the same moment waits for
        this transaction and then finds it taken (or takes it, if this one rolled back)."""
        if due.at > now or await self.district_runs.recorded(due.key):
            return []
        outcome = self._outcome(due, now, grace, set())
        if not await self.district_runs.record(
            due.key, due.kind.value, due.at, outcome.value, now
        ):
            return []
        recorded.append((due.key, outcome))
        if outcome is not Outcome.SENT:
            return []
        rollup = prepared.get(due.key) or await self.digests.district_roll_up(
            now, local_day(due.at, self.config)
        )
        return [
            ScheduleNotice(NoticeKind.DISTRICT, person, digest=rollup)
            for person in self.config.district.staff
        ]

    async def _window_start(self, now: datetime, grace: timedelta) -> datetime:
        swept_to = await self.repo.swept_to()
        if swept_to is None:
            return now - grace
        return max(min(swept_to, now), now - MAX_LOOKBACK)

    def _occurrences(self, start: datetime, end: datetime) -> list[Due]:
        found = [d for d in daily_occurrences(start, end, self.config) if d.at >= start]
        for rule in self._all_rules():
            found += [
                d
                for d in rule_occurrences(rule, start, end, self.calendar, self.config)
                if d.at >= start
            ]
        return found

    def _outcome(
        self, due: Due, now: datetime, grace: timedelta, paused: set[tuple[str, str]]
    ) -> Outcome:
        # a push is skipped when every community that follows its rule paused it
        if due.skip or (due.kind is Kind.RULE and not self._followers(due.subject, paused)):
            return Outcome.SKIPPED
        if now - due.at > grace and not due.late_ok:
            return Outcome.MISSED
        return Outcome.SENT

    async def _produce(
        self,
        due: Due,
        now: datetime,
        digests: Mapping[str, Prepared],
        paused: set[tuple[str, str]],
    ) -> list[ScheduleNotice]:
        match due.kind:
            case Kind.RULE:
                return await self._announce(due, paused)
            case Kind.CHECKIN_ASK:
                return await self.checkins.ask_all(date.fromisoformat(due.subject))
            case Kind.CHECKIN_ALERT:
                return await self.checkins.alert_unconfirmed(date.fromisoformat(due.subject))
            case Kind.DIGEST:
                # each community's secretaries get their own community's digest (issue #15)
                notices = []
                for community in self.config.communities:
                    key = _digest_key(due, community.key)
                    digest = digests.get(key) or await self._build_digest(due, now, community.key)
                    notices += [
                        ScheduleNotice(NoticeKind.DIGEST, secretary, digest=digest)
                        for secretary in community.secretaries
                    ]
                staff = self.config.street_office.staff
                if staff and due.subject != "weekly":
                    rollup = await self.digests.roll_up(now, local_day(due.at, self.config))
                    notices += [
                        ScheduleNotice(NoticeKind.ROLLUP, person, digest=rollup)
                        for person in staff
                    ]
                return notices
            case _:
                return []

    async def _announce(self, due: Due, paused: set[tuple[str, str]]) -> list[ScheduleNotice]:
        rule = self._rule(due.subject)
        happens = due.happens or local_day(due.at, self.config)
        values = {
            "variant": due.variant,
            "at": due.at,
            "rule": rule.key,
            # the event itself, which an eve reminder announces for tomorrow (item 17)
            "event_at": at_local(happens, rule.time, self.config),
            # set when a holiday moved it: the messages say from which day (item 20)
            "moved_from": due.nominal if due.nominal not in (None, happens) else None,
        }
        return [
            ScheduleNotice(NoticeKind.ANNOUNCEMENT, chat, template=rule.template, values=values)
            for chat in await self._audience(rule, self._followers(rule.key, paused))
        ]

    def _followers(self, rule: str, paused: Set[tuple[str, str]] = frozenset()) -> list[str]:
        """The communities whose calendar has ``rule`` (their own rules or the shared ones)
        and have not paused it."""
        return [
            c.key
            for c in self.config.communities
            if any(r.key == rule for r in self.config.rules_of(c.key))
            and (c.key, rule) not in paused
        ]

    async def _audience(self, rule: RuleConfig, communities: list[str]) -> list[int]:
        """The rule's audience in ``communities``: a community's push never reaches another
        community's groups."""
        chats: list[int] = []
        for community in self.config.communities:
            if community.key not in communities:
                continue
            for audience in rule.audience:
                if audience == "groups":
                    # every grid's groups, bound with /bind or upgraded too (issue #13 item 18)
                    wide = [] if self.config.several else [COMMUNITY]
                    grids = [*wide, *(g.key for g in community.grids)]
                    chats += await self.chats.chats_of_grids(grids)
                elif audience in ("workers", "leaders"):
                    chats += [p for g in community.grids for p in getattr(g, audience)]
                elif audience == "secretaries":
                    chats += community.secretaries
                else:
                    chats += [h.user_id for h in community.handlers]
        return list(dict.fromkeys(chats))

    def _all_rules(self) -> tuple[RuleConfig, ...]:
        """The shared rules, then each community's own (by key, the first one wins)."""
        found: dict[str, RuleConfig] = {r.key: r for r in self.config.schedule.rules}
        for community in self.config.communities:
            for rule in community.rules or ():
                found.setdefault(rule.key, rule)
        return tuple(found.values())

    async def _build_digest(self, due: Due, now: datetime, community: str) -> Digest:
        today = local_day(due.at, self.config)
        digest = await self.digests.build(
            now,
            today,
            weekly=due.subject == "weekly",
            reminders=self.today_reminders(today),
            community=community,
        )
        # the secretary learns in time that next year's holidays must be added (item 21)
        return replace(digest, holidays_unknown=self.calendar.unknown_holidays_year(today))

    def today_reminders(self, day: date) -> tuple[str, ...]:
        """Templates of the calendar rules happening on ``day`` (not their eve reminders)."""
        start = datetime.combine(day, datetime.min.time(), tzinfo=self.config.timezone)
        end = start + timedelta(days=1) - timedelta(seconds=1)
        names = [
            self._rule(d.subject).template
            for d in self._occurrences(start, end)
            if d.kind is Kind.RULE and d.variant == "today" and not d.skip
        ]
        return tuple(dict.fromkeys(names))

    def _rule(self, key: str, communities: list[str] | None = None) -> RuleConfig:
        """By its config key, or by its number in /rules (which shows names, not keys): the
        list of ``communities``' rules, as /rules showed it to their secretary."""
        rules = self._all_rules()
        if communities is not None:
            rules = tuple(r for r in rules if set(self._followers(r.key)) & set(communities))
        if key.isdigit() and 1 <= int(key) <= len(rules):
            return rules[int(key) - 1]
        rule = next((r for r in rules if r.key == key), None)
        if rule is None:
            raise InvalidInput("schedule.errors.unknown_rule", rule=key)
        return rule

    # -- secretaries: /rules, /pause, /resume --------------------------------------------------

    async def rules(self, user_id: int) -> RuleList:
        """/rules: the rules of the secretary's own communities, paused when paused there."""
        mine = self._secretary(user_id)
        paused = await self.repo.paused_rules()
        views = tuple(
            RuleView(r, all((c, r.key) in paused for c in ours), self._next(r))
            for r in self._all_rules()
            if (ours := [c for c in self._followers(r.key) if c in mine])
        )
        today = local_day(self.clock.now(), self.config)
        return RuleList(views, self.calendar.unknown_holidays_year(today))

    async def set_paused(self, user_id: int, key: str, paused: bool) -> RuleView:
        mine = self._secretary(user_id)
        rule = self._rule(key, mine)
        async with self.repo.db.transaction():
            for community in self._followers(rule.key):
                if community in mine:  # never another community's pushes (issue #15)
                    await self.repo.set_paused(
                        rule.key, paused, user_id, self.clock.now(), community
                    )
        return RuleView(rule, paused, self._next(rule))

    def _secretary(self, user_id: int) -> list[str]:
        """The communities ``user_id`` is secretary of; refused when none."""
        mine = [c.key for c in self.config.communities_of_secretary(user_id)]
        if not mine:
            raise NotPermitted("schedule.errors.only_secretary")
        return mine

    def _next(self, rule: RuleConfig) -> datetime | None:
        """The next moment the rule sends its main message (within about a year)."""
        now = self.clock.now()
        day = local_day(now, self.config)
        for _ in range(400):
            if day.day in rule.days and day.month in rule.months:
                happens = event_day(rule, day, self.calendar)
                if happens is not None:
                    at = datetime.combine(happens, rule.time, tzinfo=self.config.timezone)
                    if at > now:
                        return at
            day += timedelta(days=1)
        return None


def _digest_key(due: Due, community: str) -> str:
    """A prepared digest: one per community for each digest occurrence (with a single
    community, the occurrence's own key, as before several existed)."""
    return f"{due.key}:{community}" if community != DEFAULT_COMMUNITY else due.key
