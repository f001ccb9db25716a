"""Reading ``[meetings]`` (issue #6) for ``bot.config``: reminders, publicity window, sign-in.

Numbers from domain.md ("results within 3 days", "a publicity window") are defaults here,
never constants in code.
"""

from __future__ import annotations

from bot.config.reader import Section
from bot.config.schema import MeetingsConfig

_DEFAULT = MeetingsConfig()


def read_meetings(s: Section) -> MeetingsConfig:
    hours = s.ids("reminder_hours") if s.has("reminder_hours") else _DEFAULT.reminder_hours
    for index, value in enumerate(hours):
        if value < 1:
            s.report.add(f"{s.key('reminder_hours')}[{index}]", "at_least", low=1, value=value)
    config = MeetingsConfig(
        reminder_hours=tuple(sorted({h for h in hours if h >= 1}, reverse=True)),
        publicity_days=s.integer("publicity_days", _DEFAULT.publicity_days),
        close_reminder_days=s.integer("close_reminder_days", _DEFAULT.close_reminder_days),
        sign_in_early_minutes=s.integer(
            "sign_in_early_minutes", _DEFAULT.sign_in_early_minutes, low=0
        ),
        default_minutes=s.integer("default_minutes", _DEFAULT.default_minutes),
    )
    s.finish()
    return config
