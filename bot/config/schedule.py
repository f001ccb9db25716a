"""Reading ``[schedule]`` (issue #5) for ``bot.config``: the civic calendar, chasing, check-ins
and digests. Kept apart from ``bot.config`` so that module stays readable; the dataclasses live
with the others in ``bot.config.schema``.

The default rules are the civic calendar of domain.md, as TOML-shaped data read through the
same code as a user's own ``[[schedule.rules]]`` (so a default can never bypass validation).
Giving any ``[[schedule.rules]]`` replaces the defaults as a whole, like categories.
"""

from __future__ import annotations

from typing import Final

from bot.config.reader import Section
from bot.config.schema import (
    Audience,
    ChaseConfig,
    ChaseTarget,
    CheckinConfig,
    DigestConfig,
    EscalationStep,
    HolidayPolicy,
    RuleConfig,
    ScheduleConfig,
)
from bot.core.workcal import Unit

_POLICIES: Final[tuple[HolidayPolicy, ...]] = ("send", "next_working_day", "skip")
_AUDIENCES: Final[tuple[Audience, ...]] = (
    "groups",
    "workers",
    "leaders",
    "secretaries",
    "handlers",
)
_TARGETS: Final[tuple[ChaseTarget, ...]] = ("leaders", "secretaries")

# domain.md, "Recurring civic calendar". 民意"5"来听 moves to the next working day (staff must
# be there to listen); the reception day is announced the evening before and in the morning;
# 民情沟通会 once a quarter, to residents and to the property company and departments.
_DEFAULT_RULES: Final = (
    {
        "key": "opinion_day",
        "template": "opinion_day",
        "days": [5, 15, 25],
        "time": "09:00",
        "holiday": "next_working_day",
        "audience": ["groups"],
    },
    {
        "key": "reception_day",
        "template": "reception_day",
        "days": [8],
        "time": "08:30",
        "day_before": "18:00",
        "holiday": "next_working_day",
        "audience": ["groups"],
    },
    {
        "key": "quarterly_meeting",
        "template": "quarterly_meeting",
        "days": [10],
        "months": [1, 4, 7, 10],
        "time": "09:00",
        "day_before": "18:00",
        "holiday": "next_working_day",
        "audience": ["groups", "handlers"],
    },
)


def default_rules() -> list[object]:
    """``[[schedule.rules]]`` as a TOML-shaped array of tables (fresh copies)."""
    return [
        {k: list(v) if isinstance(v, list) else v for k, v in r.items()} for r in _DEFAULT_RULES
    ]


def read_schedule(s: Section) -> ScheduleConfig:
    config = ScheduleConfig(
        grace_minutes=s.integer("grace_minutes", ScheduleConfig.grace_minutes, low=0),
        tick_seconds=s.integer("tick_seconds", ScheduleConfig.tick_seconds),
        rules=read_rules(s, "rules"),
        chase=_chase(s.table("chase")),
        checkin=_checkin(s.table("checkin")),
        digest=_digest(s.table("digest")),
    )
    s.finish()
    return config


def read_rules(s: Section, key: str) -> tuple[RuleConfig, ...]:
    """``[[schedule.rules]]`` or a community's own ``[[communities.rules]]``, keys unique."""
    rules = tuple(_rule(r) for r in s.tables(key, default_rules()))
    seen: dict[str, int] = {}
    for index, rule in enumerate(rules):
        if rule.key in seen:
            s.report.add(
                f"{s.key(key)}[{index}].key", "duplicate", other=f"{s.key(key)}[{seen[rule.key]}]"
            )
        seen.setdefault(rule.key, index)
    return rules


def _numbers(
    s: Section, key: str, low: int, high: int, default: tuple[int, ...]
) -> tuple[int, ...]:
    if not s.has(key):
        return default
    values = s.ids(key)
    for index, value in enumerate(values):
        if not low <= value <= high:
            s.report.add(f"{s.key(key)}[{index}]", "out_of_range", low=low, high=high, value=value)
    if not values:
        s.required(key)
    return tuple(v for v in values if low <= v <= high)


def _rule(s: Section) -> RuleConfig:
    audience = _audience(s)
    config = RuleConfig(
        key=s.ident("key"),
        template=s.ident("template"),
        days=_numbers(s, "days", 1, 31, ()),
        time=s.clock("time", "09:00"),
        months=_numbers(s, "months", 1, 12, tuple(range(1, 13))),
        holiday=s.choice("holiday", RuleConfig.holiday, _POLICIES),
        audience=audience,
        day_before=s.optional_clock("day_before", ""),
    )
    s.finish()
    return config


def _audience(s: Section) -> tuple[Audience, ...]:
    chosen: list[Audience] = []
    for index, word in enumerate(s.words("audience", ("groups",))):
        match = next((a for a in _AUDIENCES if a == word), None)
        if match is None:
            s.report.add(
                f"{s.key('audience')}[{index}]",
                "one_of",
                choices=" / ".join(_AUDIENCES),
                value=word,
            )
        else:
            chosen.append(match)
    return tuple(chosen) or ("groups",)


def _chase(s: Section) -> ChaseConfig:
    fraction = s.number("remind_fraction", ChaseConfig.remind_fraction, high=1.0)
    unaccepted = s.duration(
        "unaccepted_escalate_after", str(ChaseConfig.unaccepted_escalate_after)
    )
    ladder = tuple(_step(step) for step in s.tables("ladder", _default_ladder()))
    s.finish()
    return ChaseConfig(
        remind_fraction=fraction, unaccepted_escalate_after=unaccepted, ladder=ladder
    )


def _default_ladder() -> list[object]:
    return [
        {"after_working_days": step.after_working_days, "to": step.to}
        for step in ChaseConfig().ladder
    ]


def _step(s: Section) -> EscalationStep:
    config = EscalationStep(
        after_working_days=s.integer("after_working_days", 1, low=0),
        to=s.choice("to", None, _TARGETS),
    )
    s.finish()
    return config


def _checkin(s: Section) -> CheckinConfig:
    config = CheckinConfig(
        ask=s.clock("ask", CheckinConfig.ask),
        deadline=s.clock("deadline", CheckinConfig.deadline),
        escalate_after=s.duration("escalate_after", str(CheckinConfig.escalate_after)),
    )
    if config.deadline <= config.ask:
        s.report.add(s.key("deadline"), "end_before_start", start=f"{config.ask:%H:%M}")
    if config.escalate_after.unit is not Unit.HOURS:  # a safety alert waits for no weekday
        s.report.add(s.key("escalate_after"), "hours_only", value=str(config.escalate_after))
    s.finish()
    return config


def _digest(s: Section) -> DigestConfig:
    config = DigestConfig(
        time=s.clock("time", DigestConfig.time),
        weekly_weekday=s.integer("weekly_weekday", DigestConfig.weekly_weekday, low=0),
        max_chars=s.integer("max_chars", DigestConfig.max_chars, low=200),
    )
    if config.weekly_weekday > 7:
        s.report.add(
            s.key("weekly_weekday"), "out_of_range", low=0, high=7, value=config.weekly_weekday
        )
    s.finish()
    return config
