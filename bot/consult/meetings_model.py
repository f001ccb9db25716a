"""Meetings' vocabulary (issue #6): the one-line form, the scope, and what a meeting looks like
to the people who read it (pure functions and dataclasses, no I/O).

The one-line form, fields separated by "|" (or full-width "｜"):

    /meeting 标题 | 11月28日19:00-21:00 | 地点 | 议题一；议题二 | 范围 [| 邀请 101 102]

范围 (scope): a unit "3-2" / "3号楼2单元", a building "3号楼", a grid key or name, or 社区.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, TypeAlias

from bot.config import Config
from bot.consult.parsing import parse_window
from bot.core.errors import InvalidInput
from bot.core.parsing import parse_id
from bot.issues.parsing import parse_location
from storage.consult.meetings import MeetingRecord, NewMeeting, PersonRecord, TextRecord

# A suggestion, resolution or objection, as presenters see it (they never import storage).
MeetingText: TypeAlias = TextRecord

_FIELDS: Final = re.compile(r"\s*[|｜]\s*")
_AGENDA_SPLIT: Final = re.compile(r"\s*(?:[;；\n]|\d+[.、)）]\s*)\s*")
_COMMUNITY: Final = frozenset({"社区", "全社区", "本社区", "community"})
_ITEM: Final = re.compile(r"^\s*(?:议题|第)\s*(\d{1,2})\s*(?:项|条)?\s*[:：,，]?\s*")
MAX_TITLE = 100
MAX_TEXT = 1000


@dataclass(frozen=True)
class SuggestionGroup:
    """Suggestions on one agenda item (``item`` 0: not tied to an item), in order."""

    item: int
    title: str
    suggestions: tuple[TextRecord, ...]


@dataclass(frozen=True)
class MeetingView:
    record: MeetingRecord
    agenda: tuple[str, ...]
    people: tuple[PersonRecord, ...] = ()
    suggestions: tuple[TextRecord, ...] = ()
    resolutions: tuple[TextRecord, ...] = ()
    objections: tuple[TextRecord, ...] = ()
    chats: tuple[int, ...] = field(default=())
    # Where each suggestion's author lives, user id → (building, unit), if verified.
    homes: Mapping[int, tuple[str, str]] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def signed_up(self) -> tuple[PersonRecord, ...]:
        return tuple(p for p in self.people if p.signed_up_at is not None)

    @property
    def attended(self) -> tuple[PersonRecord, ...]:
        return tuple(p for p in self.people if p.signed_in_at is not None)

    @property
    def invitees(self) -> tuple[int, ...]:
        """Who gets reminders: the invited and everyone who signed up."""
        return tuple(p.user_id for p in self.people if p.invited or p.signed_up_at is not None)

    def home_of(self, text: TextRecord) -> tuple[str, str] | None:
        """The (building, unit) of the author of a suggestion, if they are a verified resident."""
        return None if text.user_id is None else self.homes.get(text.user_id)

    def grouped_suggestions(self, other: str) -> tuple[SuggestionGroup, ...]:
        """Per agenda item in order, then the rest under ``other``; empty groups left out."""
        groups = []
        for item, title in [*enumerate(self.agenda, 1), (0, other)]:
            found = tuple(s for s in self.suggestions if (s.agenda_item or 0) == item)
            if found:
                groups.append(SuggestionGroup(item, title, found))
        return tuple(groups)


def parse_scope(text: str, config: Config) -> tuple[str, str]:
    """(kind, value): ("community", ""), ("grid", "g1"), ("building", "3"), ("unit", "3-2")."""
    text = text.strip()
    if text in _COMMUNITY:
        return "community", ""
    # by key first (unique across communities), then by name (unique only within one)
    grid = config.grid_by_key(text) or next((g for g in config.grids if text == g.name), None)
    if grid is not None:
        return "grid", grid.key
    place = parse_location(text)
    if place.building and place.unit:
        return "unit", f"{place.building}-{place.unit}"
    if place.building:
        return "building", place.building
    raise InvalidInput("meetings.errors.scope", scope=text)


def parse_agenda(text: str) -> tuple[str, ...]:
    return tuple(item for item in _AGENDA_SPLIT.split(text) if item.strip())


def parse_invited(fields: Sequence[str]) -> tuple[int, ...]:
    words = " ".join(fields).replace("邀请", " ").replace(",", " ").replace("，", " ").split()
    ids = [parse_id(w) for w in words]  # ² or a 30-digit number is no user id
    if any(i is None for i in ids):
        raise InvalidInput("meetings.errors.invited")
    return tuple(dict.fromkeys(i for i in ids if i is not None))


def checked_text(text: str) -> str:
    """A suggestion or objection, stripped; refused when empty or over ``MAX_TEXT``."""
    text = text.strip()
    if not text:
        raise InvalidInput("meetings.errors.empty")
    if len(text) > MAX_TEXT:
        raise InvalidInput("meetings.errors.too_long", limit=MAX_TEXT)
    return text


def parse_form(text: str, now: datetime, config: Config) -> NewMeeting:
    """The one-line form (module docstring); InvalidInput names what is wrong."""
    fields = [f for f in _FIELDS.split(text.strip())]
    if len(fields) < 5 or not all(fields[:5]):
        raise InvalidInput("meetings.errors.form")
    title, when, place, agenda_text, scope_text = fields[:5]
    if len(title) > MAX_TITLE:
        raise InvalidInput("meetings.errors.too_long", limit=MAX_TITLE)
    window = parse_window(when, now, config.timezone)
    if window is None:
        raise InvalidInput("meetings.errors.time", text=when)
    starts, ends = window
    if ends is None:
        ends = starts + timedelta(minutes=config.meetings.default_minutes)
    if ends <= starts:
        raise InvalidInput("meetings.errors.end_before_start")
    if starts <= now:
        raise InvalidInput("meetings.errors.past")
    agenda = parse_agenda(agenda_text)
    kind, value = parse_scope(scope_text, config)
    invited = parse_invited(fields[5:])
    return NewMeeting(title, starts, ends, place, kind, value, agenda, invited)


def split_item(text: str, agenda_size: int) -> tuple[int | None, str]:
    """ "议题2：加装电梯…" → (2, "加装电梯…"); an unknown item number stays in the text."""
    match = _ITEM.match(text)
    if match is None or not 1 <= int(match.group(1)) <= agenda_size:
        return None, text.strip()
    return int(match.group(1)), text[match.end() :].strip()
