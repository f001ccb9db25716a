from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.workcal import Duration, Unit, WorkCalendar, parse_duration, read_official_days

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: str, clock: str = "00:00", tz: ZoneInfo = SHANGHAI) -> datetime:
    """``at("2026-09-30", "17:30")``: an aware datetime in Shanghai unless told otherwise."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=tz)


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar(SHANGHAI)


def test_parse_duration_round_trips() -> None:
    assert parse_duration(" 7wd ") == Duration(7, Unit.WORKING_DAYS)
    assert str(parse_duration("eod")) == "eod"
    assert str(parse_duration("2 wh")) == "2wh"


# 2026 facts from chinese_calendar: National Day Oct 1–7 off, Sun Sep 20 and Sat Oct 10 are
# make-up working days; Spring Festival Feb 15–23 off, Sat Feb 14 and Sat Feb 28 make-up days.
@pytest.mark.parametrize(
    ("day", "working"),
    [
        pytest.param("2026-03-11", True, id="wednesday"),
        pytest.param("2026-03-14", False, id="saturday"),
        pytest.param("2026-10-01", False, id="national-day"),
        pytest.param("2026-10-07", False, id="national-day-last"),
        pytest.param("2026-09-20", True, id="make-up-sunday-sep-20"),
        pytest.param("2026-10-10", True, id="make-up-saturday-oct-10"),
        pytest.param("2026-10-11", False, id="sunday-after-make-up"),
        pytest.param("2026-02-17", False, id="spring-festival"),
        pytest.param("2026-02-14", True, id="spring-make-up-saturday"),
        pytest.param("2026-01-01", False, id="new-year"),
    ],
)
def test_workcal_is_working_day_follows_official_calendar(
    cal: WorkCalendar, day: str, working: bool
) -> None:
    assert cal.is_working_day(date.fromisoformat(day)) is working


@pytest.mark.parametrize(
    ("start", "limit", "deadline"),
    [
        pytest.param(at("2026-03-11", "10:00"), "1wh", at("2026-03-11", "11:00"), id="morning"),
        pytest.param(at("2026-03-11", "11:00"), "1wh", at("2026-03-11", "12:00"), id="to-lunch"),
        pytest.param(
            at("2026-03-11", "11:00"), "2wh", at("2026-03-11", "14:30"), id="across-lunch"
        ),
        pytest.param(
            at("2026-03-11", "12:30"), "1wh", at("2026-03-11", "14:30"), id="during-lunch"
        ),
        pytest.param(at("2026-03-11", "17:00"), "1wh", at("2026-03-11", "18:00"), id="to-close"),
        pytest.param(at("2026-03-11", "20:00"), "2wh", at("2026-03-12", "11:00"), id="evening"),
        pytest.param(
            at("2026-03-12", "06:30"), "2wh", at("2026-03-12", "11:00"), id="early-morning"
        ),
        pytest.param(
            at("2026-03-13", "17:30"), "2wh", at("2026-03-16", "10:30"), id="friday-evening"
        ),
        pytest.param(at("2026-03-14", "10:00"), "1wh", at("2026-03-16", "10:00"), id="saturday"),
        pytest.param(
            at("2026-03-16", "09:00"), "9wh", at("2026-03-17", "10:30"), id="more-than-a-day"
        ),
        pytest.param(
            at("2026-09-30", "17:00"), "2wh", at("2026-10-08", "10:00"), id="national-day"
        ),
        pytest.param(
            at("2026-10-09", "17:00"), "2wh", at("2026-10-10", "10:00"), id="make-up-saturday"
        ),
        pytest.param(
            at("2026-09-19", "10:00"), "1wh", at("2026-09-20", "10:00"), id="make-up-sunday"
        ),
        pytest.param(
            at("2026-02-14", "17:00"), "2wh", at("2026-02-24", "10:00"), id="spring-festival"
        ),
    ],
)
def test_workcal_add_working_hours(
    cal: WorkCalendar, start: datetime, limit: str, deadline: datetime
) -> None:
    assert cal.add(start, parse_duration(limit)) == deadline


def test_workcal_add_working_hours_without_lunch() -> None:
    cal = WorkCalendar(SHANGHAI, time(8, 30), time(17, 30), lunch=None)

    assert cal.add(at("2026-03-11", "11:00"), parse_duration("2wh")) == at("2026-03-11", "13:00")
    assert cal.add(at("2026-03-11", "17:00"), parse_duration("1wh")) == at("2026-03-12", "09:00")


def test_workcal_add_many_working_hours_skips_whole_days(cal: WorkCalendar) -> None:
    # 7.5 working hours a day: 75wh from Monday 09:00 is ten full working days.
    deadline = cal.add(at("2026-03-02", "09:00"), parse_duration("75wh"))
    assert deadline == at("2026-03-13", "18:00")


# Rule: the day of receipt is not counted; deadline = 18:00 on the N-th working day after it.
@pytest.mark.parametrize(
    ("start", "limit", "deadline"),
    [
        pytest.param(at("2026-03-11", "10:00"), "1wd", at("2026-03-12", "18:00"), id="next-day"),
        pytest.param(
            at("2026-03-11", "07:00"), "1wd", at("2026-03-12", "18:00"), id="before-hours"
        ),
        pytest.param(at("2026-03-11", "20:00"), "1wd", at("2026-03-12", "18:00"), id="evening"),
        pytest.param(at("2026-03-13", "10:00"), "1wd", at("2026-03-16", "18:00"), id="friday"),
        pytest.param(at("2026-03-14", "10:00"), "1wd", at("2026-03-16", "18:00"), id="saturday"),
        pytest.param(at("2026-03-02", "10:00"), "15wd", at("2026-03-23", "18:00"), id="15wd"),
        pytest.param(
            at("2026-09-30", "10:00"), "7wd", at("2026-10-15", "18:00"), id="7wd-national-day"
        ),
        pytest.param(
            at("2026-09-30", "10:00"), "3wd", at("2026-10-10", "18:00"), id="make-up-saturday"
        ),
        pytest.param(
            at("2026-09-18", "10:00"), "1wd", at("2026-09-20", "18:00"), id="make-up-sunday"
        ),
        pytest.param(
            at("2026-02-13", "10:00"), "2wd", at("2026-02-24", "18:00"), id="spring-festival"
        ),
    ],
)
def test_workcal_add_working_days(
    cal: WorkCalendar, start: datetime, limit: str, deadline: datetime
) -> None:
    assert cal.add(start, parse_duration(limit)) == deadline


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        pytest.param(at("2026-03-11", "10:00"), at("2026-03-11", "23:59:59"), id="weekday"),
        pytest.param(at("2026-03-14", "23:30"), at("2026-03-14", "23:59:59"), id="saturday"),
        pytest.param(at("2026-10-01", "08:00"), at("2026-10-01", "23:59:59"), id="holiday"),
        pytest.param(
            datetime(2026, 3, 11, 17, 0, tzinfo=UTC), at("2026-03-12", "23:59:59"), id="from-utc"
        ),
    ],
)
def test_workcal_add_same_day_ends_at_235959_local(
    cal: WorkCalendar, start: datetime, deadline: datetime
) -> None:
    result = cal.add(start, parse_duration("eod"))

    assert result == deadline
    assert result.tzinfo is SHANGHAI


@pytest.mark.parametrize(
    ("start", "limit", "deadline"),
    [
        pytest.param(at("2026-03-13", "17:30"), "2h", at("2026-03-13", "19:30"), id="hours"),
        pytest.param(at("2026-09-30", "10:00"), "24h", at("2026-10-01", "10:00"), id="holiday"),
        pytest.param(at("2026-09-30", "10:00"), "7d", at("2026-10-07", "10:00"), id="days"),
    ],
)
def test_workcal_add_calendar_time_ignores_working_time(
    cal: WorkCalendar, start: datetime, limit: str, deadline: datetime
) -> None:
    assert cal.add(start, parse_duration(limit)) == deadline


def test_workcal_add_calendar_hours_is_elapsed_time_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    cal = WorkCalendar(berlin)

    # Clocks go forward at 02:00 on 29 March 2026: 24 elapsed hours end at 13:00 local.
    deadline = cal.add(at("2026-03-28", "12:00", berlin), parse_duration("24h"))

    assert deadline == at("2026-03-29", "13:00", berlin)
    assert deadline.utcoffset() == timedelta(hours=2)


def test_workcal_returns_calendar_zone(cal: WorkCalendar) -> None:
    start = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai

    deadline = cal.add(start, parse_duration("1wh"))

    assert deadline.tzinfo is SHANGHAI
    assert deadline.replace(tzinfo=None) == datetime(2026, 3, 11, 11, 0)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(at("2026-03-11", "09:00"), at("2026-03-11", "09:00"), id="opening"),
        pytest.param(at("2026-03-11", "10:17"), at("2026-03-11", "10:17"), id="inside"),
        pytest.param(at("2026-03-11", "08:59"), at("2026-03-11", "09:00"), id="before"),
        pytest.param(at("2026-03-11", "12:00"), at("2026-03-11", "13:30"), id="lunch"),
        pytest.param(at("2026-03-11", "18:00"), at("2026-03-12", "09:00"), id="closing"),
        pytest.param(at("2026-03-13", "19:00"), at("2026-03-16", "09:00"), id="friday-night"),
        pytest.param(at("2026-09-30", "18:30"), at("2026-10-08", "09:00"), id="national-day"),
        pytest.param(at("2026-10-09", "18:30"), at("2026-10-10", "09:00"), id="make-up-sat"),
    ],
)
def test_workcal_next_working_moment(
    cal: WorkCalendar, moment: datetime, expected: datetime
) -> None:
    assert cal.next_working_moment(moment) == expected


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        pytest.param(at("2026-03-11", "18:00"), 1, at("2026-03-12", "18:00"), id="next-day"),
        pytest.param(at("2026-03-14", "14:00"), 1, at("2026-03-16", "14:00"), id="saturday"),
        pytest.param(at("2026-09-30", "18:00"), 1, at("2026-10-08", "18:00"), id="holiday"),
        pytest.param(at("2026-09-30", "18:00"), 3, at("2026-10-10", "18:00"), id="make-up"),
        pytest.param(at("2026-03-11", "18:00"), 0, at("2026-03-11", "18:00"), id="zero"),
    ],
)
def test_workcal_add_working_days_keeps_clock_time(
    cal: WorkCalendar, start: datetime, days: int, expected: datetime
) -> None:
    assert cal.add_working_days(start, days) == expected


@pytest.mark.parametrize(
    ("start", "end", "elapsed"),
    [
        pytest.param(at("2026-03-13", "10:00"), at("2026-03-16", "09:59"), 0, id="almost-one"),
        pytest.param(at("2026-03-13", "10:00"), at("2026-03-16", "10:00"), 1, id="one"),
        pytest.param(at("2026-03-13", "10:00"), at("2026-03-15", "23:00"), 0, id="weekend"),
        pytest.param(at("2026-09-30", "18:00"), at("2026-10-07", "23:00"), 0, id="holiday"),
        pytest.param(at("2026-09-30", "18:00"), at("2026-10-10", "18:00"), 3, id="make-up"),
        pytest.param(at("2026-09-30", "18:00"), at("2026-10-11", "12:00"), 3, id="after-make-up"),
        pytest.param(at("2026-03-16", "10:00"), at("2026-03-13", "10:00"), 0, id="backwards"),
    ],
)
def test_workcal_working_days_between(
    cal: WorkCalendar, start: datetime, end: datetime, elapsed: int
) -> None:
    assert cal.working_days_between(start, end) == elapsed


@pytest.mark.parametrize("days", [1, 3, 7, 15])
@pytest.mark.parametrize(
    "start",
    [
        pytest.param(at("2026-09-25", "10:30"), id="mid-autumn"),
        pytest.param(at("2026-02-13", "18:00"), id="spring-festival"),
        pytest.param(at("2026-03-14", "14:00"), id="saturday"),
    ],
)
def test_workcal_working_days_between_inverts_add_working_days(
    cal: WorkCalendar, start: datetime, days: int
) -> None:
    due = cal.add_working_days(start, days)

    assert cal.working_days_between(start, due) == days
    assert cal.working_days_between(start, due - timedelta(seconds=1)) == days - 1


def test_workcal_unknown_year_falls_back_to_weekdays_with_one_warning(
    cal: WorkCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.core.workcal")

    # Dec 31 2026 is known; 2027 is not, so Fri Jan 1 2027 counts as a working day.
    assert cal.add(at("2026-12-31", "10:00"), parse_duration("2wd")) == at("2027-01-04", "18:00")
    assert cal.add(at("2027-01-08", "17:30"), parse_duration("2wh")) == at("2027-01-11", "10:30")
    assert cal.is_working_day(date(2027, 1, 9)) is False

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "2027" in warnings[0].getMessage()
    assert "upgrade chinese-calendar" in warnings[0].getMessage()

    cal.is_working_day(date(2028, 1, 3))
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c, t: c.add(t, Duration(2, Unit.HOURS)), id="add"),
        pytest.param(lambda c, t: c.next_working_moment(t), id="next_working_moment"),
        pytest.param(lambda c, t: c.add_working_days(t, 1), id="add_working_days"),
        pytest.param(lambda c, t: c.working_days_between(t, at("2026-03-20")), id="between"),
    ],
)
def test_workcal_rejects_naive_datetimes(
    cal: WorkCalendar, call: Callable[[WorkCalendar, datetime], object]
) -> None:
    naive = datetime(2026, 3, 11, 10, 0)
    with pytest.raises(ValueError, match="naive"):
        call(cal, naive)


@pytest.mark.parametrize(
    "unit",
    [pytest.param(unit, id=unit.name) for unit in Unit if unit is not Unit.SAME_DAY],
)
def test_workcal_rejects_non_positive_limits(cal: WorkCalendar, unit: Unit) -> None:
    with pytest.raises(ValueError, match="positive"):
        cal.add(at("2026-03-11", "10:00"), Duration(0, unit))


@pytest.mark.parametrize(
    ("work_start", "work_end", "lunch"),
    [
        pytest.param(time(18), time(9), None, id="backwards"),
        pytest.param(time(9), time(18), (time(8), time(9, 30)), id="lunch-before-work"),
        pytest.param(time(9), time(18), (time(13), time(12)), id="lunch-backwards"),
    ],
)
def test_workcal_rejects_bad_working_hours(
    work_start: time, work_end: time, lunch: tuple[time, time] | None
) -> None:
    with pytest.raises(ValueError):
        WorkCalendar(SHANGHAI, work_start, work_end, lunch)


# -- the holidays file (issue #13 item 21): the State Council's next year, before the package --

HOLIDAYS_2027 = """\
# 国务院办公厅关于2027年部分节假日安排的通知（示例）
holidays = ["2027-01-01", "2027-02-06..2027-02-12"]
workdays = ["2027-02-14"]
"""


def test_holidays_file_decides_the_years_it_lists(tmp_path: Path) -> None:
    path = tmp_path / "holidays.toml"
    path.write_text(HOLIDAYS_2027, encoding="utf-8")
    cal = WorkCalendar(SHANGHAI, official=read_official_days(path))

    assert not cal.is_working_day(date(2027, 2, 8))  # a Monday inside the Spring Festival
    assert cal.is_working_day(date(2027, 2, 14))  # a make-up Sunday
    assert cal.is_working_day(date(2027, 3, 1)) and not cal.is_working_day(date(2027, 3, 6))
    assert cal.add(at("2027-02-05", "10:00"), Duration(1, Unit.WORKING_DAYS)) == at(
        "2027-02-14", "18:00"
    )
    assert not cal.is_working_day(date(2026, 10, 5))  # other years: still the package


def test_holidays_file_as_json(tmp_path: Path) -> None:
    path = tmp_path / "holidays.json"
    path.write_text(
        '{"holidays": ["2027-10-01..2027-10-07"], "workdays": ["2027-10-09"]}', encoding="utf-8"
    )
    days = read_official_days(path)

    assert len(days.holidays) == 7 and days.workdays == {date(2027, 10, 9)}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('holidays = ["2027-13-01"]', id="not-a-date"),
        pytest.param('holidays = ["2027-02-12..2027-02-06"]', id="backwards-range"),
        pytest.param('holidays = ["2027-01-01"]\nworkdays = ["2027-01-01"]', id="both"),
        pytest.param('holiday = ["2027-01-01"]', id="unknown-key"),
        pytest.param("workdays = []", id="no-holidays"),
    ],
)
def test_holidays_file_mistakes_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "holidays.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError):
        read_official_days(path)


def test_unknown_holidays_year_from_1_december_until_the_file_lists_it(tmp_path: Path) -> None:
    path = tmp_path / "holidays.toml"
    path.write_text(HOLIDAYS_2027, encoding="utf-8")
    bare, filed = WorkCalendar(SHANGHAI), WorkCalendar(SHANGHAI, official=read_official_days(path))

    assert bare.unknown_holidays_year(date(2026, 11, 30)) is None
    assert bare.unknown_holidays_year(date(2026, 12, 1)) == 2027
    assert bare.unknown_holidays_year(date(2027, 1, 4)) == 2027
    assert filed.unknown_holidays_year(date(2026, 12, 1)) is None
