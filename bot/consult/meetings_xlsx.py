"""The minutes (会议纪要) of a meeting as .xlsx, for the convenor (issue #6): one sheet with the
meeting's details, attendance, suggestions, resolutions and objections, headers in bold.
Names are unmasked: the file goes privately to the convenor."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.consult.meetings_model import MeetingView
from bot.core import xlsx
from bot.core.rendering import Renderer

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet


def _local(moment: datetime | None, tz: Any) -> datetime | None:
    return None if moment is None else moment.astimezone(tz).replace(tzinfo=None)


def _section(sheet: Worksheet, title: str, header: list[str], rows: list[list[Any]]) -> None:
    sheet.append([])
    xlsx.append_bold(sheet, [title])
    xlsx.append_bold(sheet, header)
    for row in rows:
        sheet.append(row)


def minutes_workbook(t: Renderer, m: MeetingView, details: dict[str, str], tz: Any) -> bytes:
    """``details``: the rendered time, place and scope lines, keyed like the catalogue."""

    def x(key: str) -> str:
        return t.text(f"meetings.export.{key}")

    book, sheet = xlsx.new_sheet(x("sheet"))
    sheet.append([x("meeting"), f"#{m.id} {m.record.title}"])
    for key in ("time", "place", "scope"):
        sheet.append([x(key), details[key]])
    sheet.append([x("agenda"), "；".join(m.agenda)])
    people = [
        [i, p.name, _local(p.signed_up_at, tz), _local(p.signed_in_at, tz)]
        for i, p in enumerate(m.people, 1)
    ]
    _section(sheet, x("attendance"), [x("position"), x("name"), x("signed_up"), x("signed_in")],
             people)  # fmt: skip
    texts = [x("position"), x("item"), x("content"), x("time")]
    suggestions = [
        [i, s.agenda_item or "", s.text, _local(s.created_at, tz)]
        for i, s in enumerate(m.suggestions, 1)
    ]
    _section(sheet, x("suggestions"), texts, suggestions)
    resolutions = [
        [i, "", r.text, _local(r.created_at, tz)] for i, r in enumerate(m.resolutions, 1)
    ]
    _section(sheet, x("resolutions"), texts, resolutions)
    objections = [
        [i, o.name, o.text, _local(o.created_at, tz)] for i, o in enumerate(m.objections, 1)
    ]
    _section(sheet, x("objections"), [x("position"), x("name"), x("content"), x("time")],
             objections)  # fmt: skip
    xlsx.set_widths(sheet, (10, 24, 48, 18))
    return xlsx.to_bytes(book)
