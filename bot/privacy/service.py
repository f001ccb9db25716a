"""Masking personal information before it is shown to anyone who does not need it.

domain.md (PIPL art. 25, 接诉即办条例 art. 8): a group sees a reporter as 李* and a location
as building-unit (3-2), never a phone number or a room; an anonymous report hides the name even
from the grid worker; the party a complaint is about (often the property company, i.e. the
handler) never learns who complained. Handlers pick the audience, these functions do the rest.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from bot.issues.model import IssueType, IssueView, ReporterView

_PHONE: Final = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_LANDLINE: Final = re.compile(r"(?<!\d)(0\d{2,3})-?\d{7,8}(?!\d)")
_ID_CARD: Final = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?![\dXx])")
_ROOM: Final = re.compile(r"\d+\s*(?:室|户|号房)|(?<=单元)\s*\d{3,4}|(?<=-)\d{3,4}(?=\D|$)")
# Who reported what is withheld from the handler for these types: the handler is often the
# party complained about.
_SENSITIVE_TYPES: Final = frozenset({IssueType.COMPLAINT, IssueType.WRONGDOING})


class Audience(StrEnum):
    GROUP = "group"
    WORKER = "worker"
    HANDLER = "handler"


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


def mask_location(building: str | None, unit: str | None, location: str | None) -> str:
    """What a group may see of a location: "3-2", "3号楼", or free text without rooms/phones."""
    if building and unit:
        return f"{building}-{unit}"
    if building:
        return f"{building}号楼"
    if location:
        return mask_phones(_ROOM.sub("", location)).strip(" -")
    return ""


def reporter_name(issue: IssueView, reporter: ReporterView, audience: Audience) -> str:
    """How ``reporter`` is named to ``audience`` for this issue."""
    if audience is Audience.GROUP or issue.anonymous:
        return mask_name(reporter.name)
    if audience is Audience.HANDLER and issue.type in _SENSITIVE_TYPES:
        return mask_name(reporter.name)
    return reporter.name


def group_visible(issue: IssueView) -> bool:
    """Whether anything about the issue may appear in a group chat (网格悄悄话 never does)."""
    return not issue.private
