"""Reading ``[calendar]`` for ``bot.config``: working hours, the lunch break, and the holidays
file for years chinese-calendar does not know yet (issue #13 item 21)."""

from __future__ import annotations

from pathlib import Path

from bot.config.reader import Section
from bot.config.schema import CalendarConfig
from bot.core.workcal import OfficialDays, read_official_days


def read_calendar(s: Section, base_dir: Path) -> CalendarConfig:
    config = CalendarConfig(
        work_start=s.clock("work_start", CalendarConfig.work_start),
        work_end=s.clock("work_end", CalendarConfig.work_end),
        lunch_start=s.optional_clock("lunch_start", CalendarConfig.lunch_start),
        lunch_end=s.optional_clock("lunch_end", CalendarConfig.lunch_end),
        holidays_file=_official_days(s, base_dir),
    )
    lunch = (config.lunch_start, config.lunch_end)
    if config.work_start >= config.work_end:
        s.report.add(s.key("work_end"), "end_before_start", start=f"{config.work_start:%H:%M}")
    elif None in lunch and lunch != (None, None):
        s.report.add(s.key("lunch_end"), "lunch_pair")
    elif (
        config.lunch_start
        and config.lunch_end
        and not (config.work_start <= config.lunch_start < config.lunch_end <= config.work_end)
    ):
        s.report.add(s.key("lunch_end"), "lunch_inside")
    s.finish()
    return config


def _official_days(s: Section, base_dir: Path) -> OfficialDays | None:
    """``holidays_file``: read at start-up, so a mistake in it stops the bot like any other."""
    name = s.string("holidays_file", "")
    if not name:
        return None
    path = Path(name).expanduser()
    path = path if path.is_absolute() else base_dir / path
    try:
        return read_official_days(path)
    except FileNotFoundError:
        s.report.add(s.key("holidays_file"), "file_missing")
    except (OSError, UnicodeDecodeError) as error:
        s.report.add(s.key("holidays_file"), "file_unreadable", detail=str(error))
    except ValueError as error:
        s.report.add(s.key("holidays_file"), "bad_holidays", detail=str(error))
    return None
