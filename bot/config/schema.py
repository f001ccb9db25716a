"""The shape of gridbot's configuration: frozen dataclasses, built only by ``bot.config``.

Each field is a key of the TOML file (nested dataclasses are tables, tuples of them arrays of
tables) and is documented, with its default, in ``config.example.toml``. The defaults here
mirror the loader's and exist so tests and the demo can build a config in code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from datetime import time as LocalTime  # for fields named "time"
from pathlib import Path
from typing import Final, Literal
from zoneinfo import ZoneInfo

from bot.core.workcal import Duration, OfficialDays, Unit

Locale = Literal["zh_CN", "en"]
Mode = Literal["polling", "webhook"]
HandlerKind = Literal["property", "department"]


@dataclass(frozen=True)
class WebhookConfig:
    listen: str = "127.0.0.1"
    port: int = 8443
    url: str = ""
    secret_token: str = field(default="", repr=False)
    path: str = "/telegram"


@dataclass(frozen=True)
class TelegramConfig:
    token: str = field(repr=False)
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: Mode = "polling"
    poll_timeout: int = 30
    bot_username: str = ""
    webhook: WebhookConfig = WebhookConfig()


@dataclass(frozen=True)
class StorageConfig:
    """Where the data lives: ``url`` is ``sqlite:///file`` (one community on one machine) or
    ``postgresql://user@host:port/db`` (several processes, a district; issue #16). ``path`` is
    the SQLite file, resolved against the config file's folder (``storage.path`` is the older
    spelling of a sqlite URL); with PostgreSQL it is unused."""

    path: Path
    url: str = "sqlite:///gridbot.sqlite3"

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith(("postgresql://", "postgres://"))

    @property
    def database(self) -> str:
        """What to open: the PostgreSQL URL, or the resolved SQLite file."""
        return self.url if self.is_postgres else str(self.path)


@dataclass(frozen=True)
class IntakeConfig:
    max_attempts: int = 3
    batch: int = 100


@dataclass(frozen=True)
class OutboxConfig:
    global_per_second: float = 30.0
    group_per_minute: int = 20
    private_per_second: float = 1.0
    max_attempts: int = 8
    backoff_seconds: float = 2.0
    concurrency: int = 8


@dataclass(frozen=True)
class CalendarConfig:
    work_start: time = time(9, 0)
    work_end: time = time(18, 0)
    lunch_start: time | None = time(12, 0)
    lunch_end: time | None = time(13, 30)
    # the holidays file, read: the State Council's holidays for years chinese-calendar lacks
    holidays_file: OfficialDays | None = None


@dataclass(frozen=True)
class GridConfig:
    key: str
    name: str
    chat_id: int | None  # None: the grid has no group chat yet
    workers: tuple[int, ...]
    leaders: tuple[int, ...] = ()


@dataclass(frozen=True)
class HandlerConfig:
    key: str
    name: str
    user_id: int
    kind: HandlerKind


# The key of the community a one-community deployment (the ``[community]`` form) has; issues
# written before several communities existed carry it too (migration 0019).
DEFAULT_COMMUNITY: Final = "default"


@dataclass(frozen=True)
class CommunityConfig:
    name: str
    secretaries: tuple[int, ...] = ()
    grids: tuple[GridConfig, ...] = ()
    handlers: tuple[HandlerConfig, ...] = ()
    # grid boundaries as GeoJSON and the datum they are drawn in (issue #18 item 3)
    boundaries: Path | None = None
    datum: str = "wgs84"
    # ``[[communities]] key``: what the data (``issues.community``) says a row belongs to
    key: str = DEFAULT_COMMUNITY
    # this community's own civic-calendar rules; None: the shared ``[[schedule.rules]]``
    rules: tuple[RuleConfig, ...] | None = None


@dataclass(frozen=True)
class StreetOfficeConfig:
    """The street office (街道) over several communities: its staff get the roll-up digest and
    may export the ledger across communities (issue #15 item 1)."""

    name: str = ""
    staff: tuple[int, ...] = ()


@dataclass(frozen=True)
class DistrictConfig:
    """The district (区) over several street offices, each its own bot on one PostgreSQL
    database (issue #16): its staff get a daily roll-up of every street office's communities.
    Configured on the bot that should send it (its staff start a chat with that bot); on
    several, the first to sweep at ``time`` sends it, once for all of them."""

    name: str = ""
    staff: tuple[int, ...] = ()
    # after the street offices' digests (08:00 by default): the district reads the same day
    time: LocalTime = LocalTime(8, 30)


@dataclass(frozen=True)
class TimeLimit:
    respond: Duration
    resolve: Duration


@dataclass(frozen=True)
class CategoryConfig:
    key: str
    name: str
    keywords: tuple[str, ...]
    limit: str
    handler: str | None = None


@dataclass(frozen=True)
class EmergencyService:
    kind: str
    number: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class IssuesConfig:
    limits: Mapping[str, TimeLimit] = field(hash=False)
    categories: tuple[CategoryConfig, ...]
    emergency: tuple[EmergencyService, ...]
    default_category: str = "other"
    feedback_reminder_days: int = 3
    feedback_expiry_days: int = 7
    duplicate_window_days: int = 14
    max_report_chars: int = 2000
    transcriber: str = ""  # voice reports' transcriber (bot.issues.transcribe); "" is off


@dataclass(frozen=True)
class RatesConfig:
    response_weight: float = 0.1
    resolution_weight: float = 0.5
    satisfaction_weight: float = 0.4
    basic_satisfied_weight: float = 0.9


@dataclass(frozen=True)
class PrivacyConfig:
    """Personal information (PIPL, issue #4)."""

    retention_days: int = 365  # after closure, a report's contact details are anonymised


# -- schedules (issue #5): civic calendar, deadline chasing, check-ins, digests ---------

HolidayPolicy = Literal["send", "next_working_day", "skip"]
Audience = Literal["groups", "workers", "leaders", "secretaries", "handlers"]
ChaseTarget = Literal["leaders", "secretaries"]


@dataclass(frozen=True)
class RuleConfig:
    """One civic-calendar rule: on ``days`` of ``months`` at ``time``, send ``template``."""

    key: str
    template: str
    days: tuple[int, ...]
    time: LocalTime
    months: tuple[int, ...] = tuple(range(1, 13))
    holiday: HolidayPolicy = "send"  # what happens when the day is not a working day
    audience: tuple[Audience, ...] = ("groups",)
    day_before: LocalTime | None = None  # a reminder the evening before, if set


@dataclass(frozen=True)
class EscalationStep:
    after_working_days: int  # working days after the resolve-by deadline
    to: ChaseTarget


TWO_WORKING_HOURS: Final = Duration(2, Unit.WORKING_HOURS)
ONE_HOUR: Final = Duration(1, Unit.HOURS)


@dataclass(frozen=True)
class ChaseConfig:
    remind_fraction: float = 0.75  # 催办 at this share of the time limit
    # A report nobody accepted by its respond-by deadline: the grid's workers are reminded
    # then, and its leaders told once it is this much later still.
    unaccepted_escalate_after: Duration = TWO_WORKING_HOURS
    ladder: tuple[EscalationStep, ...] = (
        EscalationStep(1, "leaders"),
        EscalationStep(3, "secretaries"),
    )


@dataclass(frozen=True)
class CheckinConfig:
    ask: time = time(7, 30)
    deadline: time = time(9, 0)
    # An alert nobody handles: to the grid leaders after this, the secretaries after twice
    # this, then everyone again every time this passes, until the end of the day (item 19).
    escalate_after: Duration = ONE_HOUR


@dataclass(frozen=True)
class DigestConfig:
    time: LocalTime = LocalTime(8, 0)
    weekly_weekday: int = 1  # ISO weekday of the weekly summary (1 = Monday); 0 turns it off
    max_chars: int = 4096


@dataclass(frozen=True)
class ScheduleConfig:
    grace_minutes: int = 30
    tick_seconds: int = 60
    rules: tuple[RuleConfig, ...] = ()
    chase: ChaseConfig = ChaseConfig()
    checkin: CheckinConfig = CheckinConfig()
    digest: DigestConfig = DigestConfig()


# -- meetings (issue #6): 议事会 / 协商会 ------------------------------------------------------


@dataclass(frozen=True)
class MeetingsConfig:
    reminder_hours: tuple[int, ...] = (48, 2)  # private reminders to invitees before the start
    publicity_days: int = 5  # 公示: objections possible this long after the minutes
    close_reminder_days: int = 3  # results within 3 days: remind the convenor after that
    sign_in_early_minutes: int = 30  # 签到 opens this long before the start
    default_minutes: int = 120  # length of a meeting given without an end time


# -- votes and notices (issue #6) -----------------------------------------------------------


@dataclass(frozen=True)
class VotesConfig:
    default_days: int = 7  # a vote without a deadline of its own stays open this long
    ballot_change: Literal["allowed", "forbidden"] = "allowed"  # the newest ballot counts
    remind_before_hours: int = 24  # owners who have not voted: one private reminder


# -- operations (issue #17): backups, health and metrics ------------------------------------


@dataclass(frozen=True)
class BackupConfig:
    folder: str = ""  # "" = no daily backup; relative paths are resolved against the config file
    time: LocalTime = LocalTime(3, 30)  # local time of the daily backup
    keep: int = 7  # newest backups kept; older ones are deleted after each new one


@dataclass(frozen=True)
class MetricsConfig:
    listen: str = "127.0.0.1"
    port: int = 0  # 0 = no endpoint; e.g. 9464 serves /healthz and /metrics
    pending_age_limit_seconds: int = 300  # /healthz fails when an outbox row waits longer


@dataclass(frozen=True)
class Config:
    telegram: TelegramConfig
    storage: StorageConfig
    # one ``[community]`` (key 'default') or several ``[[communities]]``; grid, handler and
    # chat ids are unique across all of them, so a grid key alone names its community
    communities: tuple[CommunityConfig, ...]
    issues: IssuesConfig
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    locale: Locale = "zh_CN"
    intake: IntakeConfig = IntakeConfig()
    outbox: OutboxConfig = OutboxConfig()
    calendar: CalendarConfig = CalendarConfig()
    rates: RatesConfig = RatesConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    meetings: MeetingsConfig = MeetingsConfig()
    votes: VotesConfig = VotesConfig()
    backup: BackupConfig = BackupConfig()
    metrics: MetricsConfig = MetricsConfig()
    street_office: StreetOfficeConfig = StreetOfficeConfig()
    district: DistrictConfig = DistrictConfig()

    # -- which community: the one owner of that lookup (with bot.core.grids for chats) ------

    @property
    def community(self) -> CommunityConfig:
        """The deployment's only community. Code that serves several asks ``community_of_*``
        instead; this raises there, so a forgotten single-community path fails loudly rather
        than mixing two communities' data."""
        if len(self.communities) != 1:
            raise LookupError("several communities are configured: ask which one")
        return self.communities[0]

    @property
    def display_name(self) -> str:
        """Who the bot speaks for: the community, or with several the street office (else the
        communities' names)."""
        if not self.several:
            return self.communities[0].name
        return self.street_office.name or "、".join(c.name for c in self.communities)

    @property
    def grids(self) -> tuple[GridConfig, ...]:
        """Every grid of every community."""
        return tuple(g for c in self.communities for g in c.grids)

    @property
    def handlers(self) -> tuple[HandlerConfig, ...]:
        """Every handler of every community."""
        return tuple(h for c in self.communities for h in c.handlers)

    @property
    def several(self) -> bool:
        """Whether this deployment serves more than one community."""
        return len(self.communities) > 1

    def community_by_key(self, key: str) -> CommunityConfig | None:
        return next((c for c in self.communities if c.key == key), None)

    def community_of_grid(self, grid_key: str) -> CommunityConfig | None:
        """The community a grid belongs to (grid keys are unique across communities)."""
        return next((c for c in self.communities if any(g.key == grid_key for g in c.grids)), None)

    def community_of_handler(self, handler_key: str) -> CommunityConfig | None:
        return next(
            (c for c in self.communities if any(h.key == handler_key for h in c.handlers)), None
        )

    def secretaries_of_grid(self, grid_key: str) -> tuple[int, ...]:
        """The secretaries of the community a grid belongs to: escalations, check-in alerts and
        masking go to them, never to another community's."""
        found = self.community_of_grid(grid_key)
        return found.secretaries if found is not None else ()

    def secretaries_of(self, community: str) -> tuple[int, ...]:
        found = self.community_by_key(community)
        return found.secretaries if found is not None else ()

    def is_secretary(self, user_id: int, community: str | None = None) -> bool:
        """Secretary of ``community``, or of any community when None."""
        return any(
            user_id in c.secretaries
            for c in self.communities
            if community is None or c.key == community
        )

    def communities_of_secretary(self, user_id: int) -> tuple[CommunityConfig, ...]:
        return tuple(c for c in self.communities if user_id in c.secretaries)

    def is_street_staff(self, user_id: int) -> bool:
        return user_id in self.street_office.staff

    @property
    def office_name(self) -> str:
        """The street office this bot serves, as the district's roll-up names it: its
        ``[street_office] name``, else its communities' names."""
        return self.street_office.name or "、".join(c.name for c in self.communities)

    def communities_of_user(self, user_id: int) -> tuple[CommunityConfig, ...]:
        """The communities where the config gives ``user_id`` a role (worker, leader,
        secretary or handler), in config order."""
        return tuple(
            c
            for c in self.communities
            if user_id in c.secretaries
            or any(user_id in g.workers or user_id in g.leaders for g in c.grids)
            or any(h.user_id == user_id for h in c.handlers)
        )

    def rules_of(self, community: str) -> tuple[RuleConfig, ...]:
        """A community's civic-calendar rules: its own, or the shared ``[[schedule.rules]]``."""
        found = self.community_by_key(community)
        own = found.rules if found is not None else None
        return self.schedule.rules if own is None else own

    def grid_by_chat(self, chat_id: int) -> GridConfig | None:
        """The grid whose group chat this is, if any."""
        return next((g for g in self.grids if g.chat_id == chat_id), None)

    def grid_by_key(self, key: str) -> GridConfig | None:
        return next((g for g in self.grids if g.key == key), None)

    def handler_by_key(self, key: str) -> HandlerConfig | None:
        return next((h for h in self.handlers if h.key == key), None)

    def handler_by_user(self, user_id: int) -> HandlerConfig | None:
        """The first handler entry of this user (a company serving two communities has one
        entry, with its own key, in each: see ``handlers_of_user``)."""
        return next((h for h in self.handlers if h.user_id == user_id), None)

    def handlers_of_user(self, user_id: int) -> tuple[HandlerConfig, ...]:
        return tuple(h for h in self.handlers if h.user_id == user_id)

    def category(self, key: str) -> CategoryConfig | None:
        """The category with this key; None for a key no longer configured."""
        return next((c for c in self.issues.categories if c.key == key), None)

    def limit(self, name: str) -> TimeLimit:
        """The named time limit; every category's limit is checked to exist at load time."""
        return self.issues.limits[name]

    def is_worker(self, user_id: int) -> bool:
        """Whether this user is a grid worker (网格员) of any grid."""
        return any(user_id in g.workers for g in self.grids)

    def grids_of_worker(self, user_id: int) -> tuple[GridConfig, ...]:
        return tuple(g for g in self.grids if user_id in g.workers)
