"""Who sees what of the people behind an issue: the one owner of the masking rules (issue #12).

domain.md (PIPL art. 25, 接诉即办条例 art. 8): a group sees a reporter as 李* and a location
as building-unit (3-2), never a phone number or a room; an anonymous report hides the name even
from the grid worker; the party a complaint is about (often the property company, i.e. the
handler) never learns who complained.

Each reporter is shown by the report *they* filed, not by the issue they ended up on: a 投诉
merged into a 报事 still hides its reporter from the handler (issue #13 item 11). Presenters
ask :func:`shown_to` (and :func:`audience_of` for a person) and render what it returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.config import Config
from bot.issues.model import IssueType, IssueView, ReporterView

_PHONE: Final = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_LANDLINE: Final = re.compile(r"(?<!\d)(0\d{2,3})-?\d{7,8}(?!\d)")
_ID_CARD: Final = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?![\dXx])")
_ROOM: Final = re.compile(r"\d+\s*(?:室|户|号房)|(?<=单元)\s*\d{3,4}|(?<=-)\d{3,4}(?=\D|$)")
# Who reported what is withheld from the handler for these types: the handler is often the
# party complained about.
_SENSITIVE_TYPES: Final = frozenset({IssueType.COMPLAINT, IssueType.WRONGDOING})


class Audience(StrEnum):
    GROUP = "group"  # a group chat, or anyone who is not staff of the issue (a resident)
    WORKER = "worker"  # a grid worker of the issue's grid
    LEADER = "leader"  # a grid leader or the community secretary
    HANDLER = "handler"  # the unit the issue is assigned to: often the party complained about


@dataclass(frozen=True)
class Place:
    """Where an issue is, as an audience may see it: a building (with its unit when known), or
    free text. Presenters word it through the catalogue (``issues.format.building`` /
    ``issues.format.unit``), so an English group reads "Building 3", not "3号楼"."""

    building: str | None = None
    unit: str | None = None
    text: str = ""  # free text (rooms and phones masked for a group); used without a building


@dataclass(frozen=True)
class Shown:
    """What an audience is shown of an issue's personal details; the rest is not personal."""

    reporters: tuple[str, ...]  # each reporter's name, full or masked
    description: str
    where: Place
    result: str | None  # what the handler did (办理结果): phones masked as in the description


def mask_name(name: str) -> str:
    """Keep the first character: 李四 → 李*, 王小明 → 王**, 孙大爷 孙建国 → 孙**.

    At most two stars, so the mask does not give away how long the name is either.
    """
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * min(2, max(1, len(name) - 1))


def mask_phones(text: str) -> str:
    """Hide phone and ID-card numbers in free text: 13812345678 → 138****5678."""
    text = _ID_CARD.sub(lambda m: f"{m[1]}********{m[2]}", text)
    text = _PHONE.sub(lambda m: f"{m[1]}****{m[2]}", text)
    return _LANDLINE.sub(lambda m: f"{m[1]}-********", text)


def mask_location(building: str | None, unit: str | None, location: str | None) -> Place:
    """What a group may see of a location: the building (and unit), else the free text without
    rooms or phones; an empty place when nothing is known."""
    if building:
        return Place(building=building, unit=unit or None)
    if location:
        return Place(text=mask_phones(_ROOM.sub("", location)).strip(" -"))
    return Place()


def shown_to(issue: IssueView, audience: Audience) -> Shown:
    """The reporters, description and location of ``issue`` as ``audience`` may see them."""
    where = mask_location(issue.building, issue.unit, issue.location)
    if audience is not Audience.GROUP and issue.location:
        where = Place(text=issue.location)
    description, result = issue.description, issue.result
    if audience is Audience.GROUP or (audience is Audience.HANDLER and _withheld(issue)):
        description = mask_phones(description)
        result = mask_phones(result) if result else result
    return Shown(
        reporters=tuple(reporter_name(r, audience) for r in issue.reporters),
        description=description,
        where=where,
        result=result,
    )


def shows_place(issue: IssueView, audience: Audience) -> bool:
    """Whether ``audience`` sees the location or venue the resident sent (issue #18 item 3):
    the grid's staff do; a handler only when the reporter did not withhold the report (a
    complaint's coordinates may be the resident's home); a group or a resident never."""
    if audience in (Audience.WORKER, Audience.LEADER):
        return True
    return audience is Audience.HANDLER and not _withheld(issue)


def reporter_name(reporter: ReporterView, audience: Audience) -> str:
    """How ``reporter`` is named to ``audience``, by the report they filed themselves."""
    if audience is Audience.GROUP or reporter.anonymous:
        return mask_name(reporter.name)
    if audience is Audience.HANDLER and reporter.type in _SENSITIVE_TYPES:
        return mask_name(reporter.name)
    return reporter.name


def _withheld(issue: IssueView) -> bool:
    """Whether the issue's own text is its reporter's to withhold from the handler: the
    description is the first reporter's words, filed with the issue's type and anonymity."""
    return issue.anonymous or issue.type in _SENSITIVE_TYPES


def audience_of(config: Config, issue: IssueView, user_id: int) -> Audience:
    """Which audience the person (or group chat) ``user_id`` is for ``issue``."""
    if any(h.key == issue.handler for h in config.handlers_of_user(user_id)):
        return Audience.HANDLER
    grid = config.grid_by_key(issue.grid)
    if grid is not None and user_id in grid.workers:
        return Audience.WORKER
    secretary = user_id in config.secretaries_of_grid(issue.grid)
    if (grid is not None and user_id in grid.leaders) or secretary:
        return Audience.LEADER
    return Audience.GROUP


def group_visible(issue: IssueView) -> bool:
    """Whether anything about the issue may appear in a group chat (网格悄悄话 never does)."""
    return not issue.private
