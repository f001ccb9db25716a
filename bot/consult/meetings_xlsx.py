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


def minutes_workbook(
    t: Renderer, m: MeetingView, details: dict[str, str], homes: dict[int, str], tz: Any
) -> bytes:
    """``details``: the rendered time, place and scope lines, keyed like the catalogue;
    ``homes``: each suggestion's author's 楼栋-单元 by suggestion id ("" if unknown)."""

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
    _section(
        sheet, x("attendance"), [x("position"), x("name"), x("signed_up"), x("signed_in")], people
    )
    # Each suggestion's author by full name (issue #13 item 16): the file is the convenor's.
    suggestions = [
        [i, s.name, s.text, _local(s.created_at, tz), s.agenda_item or "", homes.get(s.id, "")]
        for i, s in enumerate(m.suggestions, 1)
    ]
    _section(
        sheet,
        x("suggestions"),
        [x("position"), x("name"), x("content"), x("time"), x("item"), x("home")],
        suggestions,
    )
    texts = [x("position"), x("item"), x("content"), x("time")]
    resolutions = [
        [i, "", r.text, _local(r.created_at, tz)] for i, r in enumerate(m.resolutions, 1)
    ]
    _section(sheet, x("resolutions"), texts, resolutions)
    objections = [
        [i, o.name, o.text, _local(o.created_at, tz)] for i, o in enumerate(m.objections, 1)
    ]
    _section(
        sheet, x("objections"), [x("position"), x("name"), x("content"), x("time")], objections
    )
    xlsx.set_widths(sheet, (10, 24, 48, 18, 10, 12))
    return xlsx.to_bytes(book)
