"""Time limits: calendar hours, working hours and working days on China's official calendar."""

from __future__ import annotations

import json
import logging
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)


@cache
def _official_calendar() -> ModuleType:
    """The ``chinese_calendar`` package, imported at the first working-day question rather
    than at start-up (issue #15 item 5)."""
    import chinese_calendar

    module: ModuleType = chinese_calendar  # untyped package
    return module


class Unit(StrEnum):
    HOURS = "h"  # calendar hours
    WORKING_HOURS = "wh"  # hours inside working time on working days
    DAYS = "d"  # calendar days
    WORKING_DAYS = "wd"  # working days (statutory holidays off, make-up weekends on)
    SAME_DAY = "eod"  # by the end of the day it starts (amount is ignored, written "eod")


@dataclass(frozen=True)
class Duration:
    """A time limit as written in config: ``2h``, ``4wh``, ``15d``, ``7wd`` or ``eod``."""

    amount: int
    unit: Unit

    def __str__(self) -> str:
        return "eod" if self.unit is Unit.SAME_DAY else f"{self.amount}{self.unit.value}"


_DURATION = re.compile(r"^\s*(?:(eod)|(\d+)\s*(wh|wd|h|d))\s*$")


def parse_duration(text: str) -> Duration:
    """Parse a config time limit; raise ValueError naming the accepted forms."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a time limit (use 2h, 4wh, 15d, 7wd or eod)")
    if match.group(1):
        return Duration(0, Unit.SAME_DAY)
    amount = int(match.group(2))
    if amount <= 0:
        raise ValueError(f"{text!r}: a time limit must be positive")
    return Duration(amount, Unit(match.group(3)))


_ONE_DAY = timedelta(days=1)
_END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class OfficialDays:
    """Holidays and make-up working days (调休上班) as the State Council publishes them each
    November or December, for years chinese-calendar does not know yet (issue #13 item 21).

    Read from ``[calendar] holidays_file``, TOML or JSON with two lists of dates, each a day
    (``"2027-01-01"``) or an inclusive range (``"2027-02-06..2027-02-12"``)::

        holidays = ["2027-01-01", "2027-02-06..2027-02-12"]
        workdays = ["2027-02-14"]

    A year named by any entry is covered by the file alone: its other days follow the week
    (Monday to Friday working), and the file wins over the package for that year.
    """

    holidays: frozenset[date]
    workdays: frozenset[date]

    @property
    def years(self) -> frozenset[int]:
        return frozenset(d.year for d in self.holidays | self.workdays)

    def is_working_day(self, day: date) -> bool:
        return day in self.workdays or (day.weekday() < 5 and day not in self.holidays)


def read_official_days(path: Path) -> OfficialDays:
    """Parse a holidays file (``.json``, else TOML); ValueError or OSError says what is wrong."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(str(error)) from error
    if not isinstance(data, Mapping):
        raise ValueError("expected a table with holidays and workdays")
    unknown = set(data) - {"holidays", "workdays"}
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
    days = OfficialDays(_days(data.get("holidays", [])), _days(data.get("workdays", [])))
    if not days.holidays:
        raise ValueError("no holidays listed")
    if days.holidays & days.workdays:
        both = min(days.holidays & days.workdays)
        raise ValueError(f"{both} is listed both as a holiday and as a working day")
    return days


def _days(entries: object) -> frozenset[date]:
    if not isinstance(entries, list) or not all(isinstance(e, str | date) for e in entries):
        raise ValueError("holidays and workdays must be lists of dates")
    found: set[date] = set()
    for entry in entries:
        found.update(_span(entry))
    return frozenset(found)


def _span(entry: str | date) -> Iterable[date]:
    if isinstance(entry, date):
        return [entry]
    first, _, last = entry.partition("..")
    try:
        start = date.fromisoformat(first.strip())
        end = date.fromisoformat(last.strip()) if last else start
    except ValueError:
        raise ValueError(f"{entry!r} is not a date (2027-01-01) or a range (a..b)") from None
    if end < start or (end - start).days > 31:
        raise ValueError(f"{entry!r} is not a range of at most a month")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


class WorkCalendar:
    """Deadlines on China's official calendar, in one community's time zone.

    Rules, in the words residents are told (every method below follows them):

    * All datetimes are timezone-aware. Inputs are converted to the calendar's zone, results are
      returned in it; a naive datetime raises ``ValueError``.
    * Working days are China's official ones from ``chinese_calendar``: statutory holidays are
      off and make-up weekends (调休) are working days. For a year the package does not know yet,
      Monday to Friday are working days and a warning is logged once per year per calendar
      (upgrade chinese-calendar); holidays of that year are then counted as working days. A
      holidays file (``OfficialDays``, ``[calendar] holidays_file``) fills in such a year, and
      ``unknown_holidays_year`` tells the secretary from 1 December that one is needed.
    * Working time is ``[work_start, work_end)`` on a working day, minus the lunch break
      ``[lunch[0], lunch[1])`` if there is one. The defaults are 09:00–12:00 and 13:30–18:00.
    * A deadline is the last moment that is still on time: overdue means strictly after it.
    """

    def __init__(
        self,
        tz: ZoneInfo,
        work_start: time = time(9),
        work_end: time = time(18),
        lunch: tuple[time, time] | None = (time(12), time(13, 30)),
        official: OfficialDays | None = None,
    ) -> None:
        if not work_start < work_end:
            raise ValueError(f"working time must start before it ends: {work_start}–{work_end}")
        if lunch is None:
            spans = [(work_start, work_end)]
        else:
            if not work_start < lunch[0] < lunch[1] < work_end:
                raise ValueError(
                    f"the lunch break {lunch[0]}–{lunch[1]} must lie inside working time "
                    f"{work_start}–{work_end}"
                )
            spans = [(work_start, lunch[0]), (lunch[1], work_end)]
        self.tz = tz
        self.work_start = work_start
        self.work_end = work_end
        self.lunch = lunch
        self._spans = tuple(spans)
        self._warned_years: set[int] = set()
        self.official = official  # a holidays file (config), which wins for its years
        # Answers by day: the calendar never changes while the bot runs, and chinese_calendar
        # scans its whole table on every call (0.13 ms): the chaser's ladders asked it about
        # 80,000 times a tick on a 1M-issue database, seconds of a blocked event loop (#15).
        self._working: dict[date, bool] = {}
        self._day_periods: dict[date, list[tuple[datetime, datetime]]] = {}

    def knows_year(self, year: int) -> bool:
        """Whether ``year``'s official holidays are known (the holidays file or the package)."""
        if self.official is not None and year in self.official.years:
            return True
        try:
            _official_calendar().is_workday(date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    def unknown_holidays_year(self, today: date) -> int | None:
        """The year whose holidays are unknown and matter soon: this one, or from 1 December
        the next (the State Council publishes it in November or December); else None."""
        if not self.knows_year(today.year):
            return today.year
        if today.month == 12 and not self.knows_year(today.year + 1):
            return today.year + 1
        return None

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is an official working day (holidays off, make-up weekends on).

        A year the holidays file covers follows the file. Outside the years ``chinese_calendar``
        knows, fall back to Monday–Friday and log one warning per year, since that year's
        holidays will then be treated as working days.
        """
        known = self._working.get(day)
        if known is None:
            known = self._working[day] = self._is_working_day(day)
        return known

    def _is_working_day(self, day: date) -> bool:
        if self.official is not None and day.year in self.official.years:
            return self.official.is_working_day(day)
        try:
            return bool(_official_calendar().is_workday(day))
        except NotImplementedError:
            if day.year not in self._warned_years:
                self._warned_years.add(day.year)
                logger.warning(
                    "the official holiday calendar for %d is unknown to chinese-calendar %s; "
                    "counting Monday to Friday as working days (upgrade chinese-calendar)",
                    day.year,
                    getattr(_official_calendar(), "__version__", "?"),
                )
            return day.weekday() < 5

    def add(self, start: datetime, limit: Duration) -> datetime:
        """The deadline for something received at ``start`` with time limit ``limit``.

        * ``h`` / ``d``: elapsed time, N×1 h or N×24 h later (computed in UTC, so a daylight
          saving change never adds or loses an hour of the limit).
        * ``eod``: 23:59:59 local time on the day of ``start``, whatever day that is.
        * ``wh``: N hours of working time. Counting starts at ``next_working_moment(start)``
          and stops at the moment the N-th hour is used up, so a limit that ends exactly at
          lunch or at the end of the day falls due then (17:00 + 1wh → 18:00 the same day).
          17:30 Friday + 2wh → 10:30 on the next working day; 20:00 counts from 09:00 next.
        * ``wd`` (接诉即办 rule): the day of receipt is never counted, whatever time or kind of
          day it is; the deadline is ``work_end`` on the N-th working day after the local date
          of ``start``. + 1wd: received Saturday → Monday 18:00; Monday 07:00, 10:00 or 20:00
          → Tuesday 18:00 (when both are working days).
        """
        local = self._local(start)
        if limit.unit is not Unit.SAME_DAY and limit.amount <= 0:
            raise ValueError(f"a time limit must be positive, got {limit}")
        match limit.unit:
            case Unit.HOURS:
                return self._elapsed(local, timedelta(hours=limit.amount))
            case Unit.DAYS:
                return self._elapsed(local, timedelta(days=limit.amount))
            case Unit.SAME_DAY:
                return self._localize(datetime.combine(local.date(), _END_OF_DAY))
            case Unit.WORKING_HOURS:
                return self._add_working_time(local, timedelta(hours=limit.amount))
            case Unit.WORKING_DAYS:
                day = self._nth_working_day_after(local.date(), limit.amount)
                return self._localize(datetime.combine(day, self.work_end))

    def next_working_moment(self, at: datetime) -> datetime:
        """``at`` itself if it is inside working time, else the next start of working time.

        Working time is half-open: 12:00 (lunch starts) gives 13:30, 18:00 gives 09:00 on the
        next working day, 09:00 on a working day gives 09:00.
        """
        return self._add_working_time(self._local(at), timedelta(0))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same local clock time on the ``days``-th working day after ``start``'s date.

        Used for escalation ("still overdue one working day after the deadline"). The day of
        ``start`` is not counted, so Saturday 14:00 + 1 → Monday 14:00, Friday 18:00 + 1 →
        the next working day 18:00. ``days`` = 0 returns ``start`` (in the calendar's zone).
        """
        if days < 0:
            raise ValueError(f"cannot add a negative number of working days: {days}")
        local = self._local(start)
        if days == 0:
            return local
        day = self._nth_working_day_after(local.date(), days)
        return self._localize(datetime.combine(day, local.time()))

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Whole working days elapsed from ``start`` to ``end``, for escalation.

        The largest N with ``add_working_days(start, N) <= end``; 0 if ``end`` is not after
        ``start``. Friday 10:00 → Monday 09:59 is 0, → Monday 10:00 is 1.
        """
        local_start, local_end = self._local(start), self._local(end)
        if _utc(local_end) <= _utc(local_start):
            return 0
        count = 0
        day = local_start.date()
        while day < local_end.date():
            day += _ONE_DAY
            count += self.is_working_day(day)
        if count and self.is_working_day(day):
            # The last working day is end's own day: it counts only once its clock time is reached.
            if _utc(self.add_working_days(local_start, count)) > _utc(local_end):
                count -= 1
        return count

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"a naive datetime has no time zone: {moment.isoformat()}")
        return moment.astimezone(self.tz)

    def _localize(self, wall: datetime) -> datetime:
        """Attach the zone to a local wall-clock time, normalising times skipped by DST."""
        return wall.replace(tzinfo=self.tz).astimezone(UTC).astimezone(self.tz)

    def _elapsed(self, local: datetime, span: timedelta) -> datetime:
        return (_utc(local) + span).astimezone(self.tz)

    def _periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's stretches of working time, as UTC datetimes (empty on a day off)."""
        periods = self._day_periods.get(day)
        if periods is None:
            periods = self._day_periods[day] = self._compute_periods(day)
        return periods

    def _compute_periods(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return []
        return [
            (
                _utc(self._localize(datetime.combine(day, begin))),
                _utc(self._localize(datetime.combine(day, end))),
            )
            for begin, end in self._spans
        ]

    def _add_working_time(self, local: datetime, span: timedelta) -> datetime:
        """Use up ``span`` of working time from ``local``, stepping a day at a time."""
        cursor, remaining, day = _utc(local), span, local.date()
        while True:
            for begin, end in self._periods(day):
                if end <= cursor:
                    continue
                begin = max(begin, cursor)
                if remaining <= end - begin:
                    return (begin + remaining).astimezone(self.tz)
                remaining -= end - begin
            day += _ONE_DAY

    def _nth_working_day_after(self, day: date, n: int) -> date:
        while n > 0:
            day += _ONE_DAY
            n -= self.is_working_day(day)
        return day


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
