"""The schedules' vocabulary (issue #5): due occurrences, what the sweep asks to be sent, and
the civic-calendar arithmetic (pure functions, no I/O).

Holiday policy applies to days that are not official working days (weekends and statutory
holidays, with make-up working days counted as working — ``WorkCalendar.is_working_day``):
``send`` anyway, move to the ``next_working_day``, or ``skip`` the occurrence.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from bot.config import Config
from bot.config.schema import RuleConfig
from bot.core.workcal import WorkCalendar

_DAY = timedelta(days=1)
# A moved occurrence can land at most this far after its nominal day (a Spring Festival week
# plus a weekend); nominal days this far back are looked at when enumerating a window.
_MAX_SHIFT = timedelta(days=15)


class Kind(StrEnum):
    RULE = "rule"
    DIGEST = "digest"
    CHECKIN_ASK = "checkin_ask"
    CHECKIN_ALERT = "checkin_alert"
    CHASE = "chase"
    DISTRICT = "district"  # the district's roll-up, once across its bots (issue #16)


class Outcome(StrEnum):
    SENT = "sent"
    MISSED = "missed"  # due longer ago than the grace period when the bot came back
    SKIPPED = "skipped"  # paused rule, holiday rule "skip", or a chase step overtaken


@dataclass(frozen=True)
class Due:
    """One occurrence of scheduled work; ``key`` names it for ever (schedule_runs)."""

    key: str
    kind: Kind
    at: datetime
    subject: str = ""  # rule key, "daily"/"weekly", or the local date of a check-in
    variant: str = ""  # rule: "today" or "eve"; digest: the period
    skip: bool = False  # recorded as skipped, never sent
    late_ok: bool = False  # sent even after the grace period (safety alerts)
    # rule: the day it happens and the day it was due (they differ when a holiday moved it);
    # an eve reminder names ``happens``, not its own day (issue #13 item 17).
    happens: date | None = None
    nominal: date | None = None


class NoticeKind(StrEnum):
    ANNOUNCEMENT = "announcement"  # a calendar rule's message
    CHASE = "chase"  # 催办 / 督办 / 升级督办 about one issue
    CHECKIN_ASK = "checkin_ask"  # the morning question with the 我很好 button
    CHECKIN_ALERT = "checkin_alert"  # no answer: to the grid worker and the volunteer
    CHECKIN_CONSENT = "checkin_consent"  # the resident is asked to consent
    DIGEST = "digest"
    ROLLUP = "rollup"  # the street office's roll-up over its communities (issue #15)
    DISTRICT = "district"  # the district's roll-up over its street offices (issue #16)


@dataclass(frozen=True)
class ScheduleNotice:
    """Who should be told what; ``bot.schedule.presenter`` renders and queues it."""

    kind: NoticeKind
    chat_id: int
    template: str = ""  # announcement: the rule's template name; chase: the step
    values: Mapping[str, Any] = field(default_factory=dict)
    issue_no: int | None = None
    enrolment_id: int | None = None
    alert_id: int | None = None
    day: str | None = None
    # a bot.schedule.digest.Digest (Rollup for ROLLUP, DistrictRollup for DISTRICT)
    digest: Any = None


def local_day(moment: datetime, config: Config) -> date:
    return moment.astimezone(config.timezone).date()


def at_local(day: date, clock: time, config: Config) -> datetime:
    """``day`` at ``clock`` in the community's zone, as an aware datetime."""
    return datetime.combine(day, clock, tzinfo=config.timezone)


def event_day(rule: RuleConfig, nominal: date, calendar: WorkCalendar) -> date | None:
    """The day a rule's occurrence happens after its holiday policy; None when skipped."""
    if rule.holiday == "send" or calendar.is_working_day(nominal):
        return nominal
    if rule.holiday == "skip":
        return None
    day = nominal + _DAY
    while not calendar.is_working_day(day):
        day += _DAY
    return day


def rule_occurrences(
    rule: RuleConfig, start: datetime, end: datetime, calendar: WorkCalendar, config: Config
) -> Iterator[Due]:
    """Occurrences of ``rule`` due in ``[start, end]``: the day itself and the eve reminder."""
    day = local_day(start, config) - _MAX_SHIFT
    last = local_day(end, config) + _DAY
    while day <= last:
        if day.day in rule.days and day.month in rule.months:
            yield from _of_nominal(rule, day, calendar, config)
        day += _DAY


def _of_nominal(
    rule: RuleConfig, nominal: date, calendar: WorkCalendar, config: Config
) -> Iterator[Due]:
    happens = event_day(rule, nominal, calendar)
    if happens is None:
        at = at_local(nominal, rule.time, config)
        yield Due(f"rule:{rule.key}:{nominal}:skip", Kind.RULE, at, rule.key, "today", skip=True)
        return
    yield Due(
        f"rule:{rule.key}:{happens}:today",
        Kind.RULE,
        at_local(happens, rule.time, config),
        rule.key,
        "today",
        happens=happens,
        nominal=nominal,
    )
    if rule.day_before is not None:
        eve = at_local(happens - _DAY, rule.day_before, config)
        yield Due(
            f"rule:{rule.key}:{happens}:eve",
            Kind.RULE,
            eve,
            rule.key,
            "eve",
            happens=happens,
            nominal=nominal,
        )


def daily_occurrences(start: datetime, end: datetime, config: Config) -> Iterator[Due]:
    """Digests, check-ins and the district's roll-up due in ``[start, end]``."""
    schedule = config.schedule
    day = local_day(start, config) - _DAY
    while day <= local_day(end, config):
        yield Due(
            f"digest:daily:{day}",
            Kind.DIGEST,
            at_local(day, schedule.digest.time, config),
            "daily",
            str(day),
        )
        if day.isoweekday() == schedule.digest.weekly_weekday:
            at = at_local(day, schedule.digest.time, config)
            yield Due(f"digest:weekly:{day}", Kind.DIGEST, at, "weekly", str(day))
        ask = at_local(day, schedule.checkin.ask, config)
        yield Due(f"checkin:ask:{day}", Kind.CHECKIN_ASK, ask, str(day))
        alert = at_local(day, schedule.checkin.deadline, config)
        yield Due(f"checkin:alert:{day}", Kind.CHECKIN_ALERT, alert, str(day), late_ok=True)
        if config.district.staff:
            # one key for every bot of the district: it is claimed once across them
            at = at_local(day, config.district.time, config)
            yield Due(f"district:daily:{day}", Kind.DISTRICT, at, "daily", str(day))
        day += _DAY
