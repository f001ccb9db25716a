"""The ledger (台账) as an .xlsx file: Chinese headers, frozen header row, set column widths,
dates as real Excel dates in the community's local time. Used by /ledger and the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Final

from bot.core import xlsx
from bot.core.rendering import Renderer
from bot.issues.ledger import LedgerRow, OnTimeLine
from bot.privacy.presenter import place_text

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

# (catalogue key under registry.ledger.columns, width in characters)
COLUMNS: Final = (
    ("number", 8),
    ("reported_at", 17),
    ("type", 8),
    ("category", 16),
    ("grid", 10),
    ("location", 14),
    ("description", 48),
    ("photos", 6),
    ("requester", 12),
    ("handler", 16),
    ("resolve_by", 17),
    ("closed_at", 17),
    ("overdue", 8),
    ("on_time", 10),
    ("deadline_changes", 10),
    ("feedback", 26),
    ("state", 10),
    ("coordinates", 22),
    ("community", 14),  # whose issue: a street office's ledger spans its communities
)
# The on-time sheet: (key under registry.ledger.on_time, width)
ON_TIME_COLUMNS: Final = (
    ("scope", 10),
    ("name", 20),
    ("resolved", 8),
    ("on_time", 8),
    ("rate", 12),
)
DATE_FORMAT: Final = "yyyy-mm-dd hh:mm"


def columns(communities: bool) -> tuple[tuple[str, int], ...]:
    """The ledger's columns; the community column only in a ledger across communities."""
    return COLUMNS if communities else COLUMNS[:-1]


def headers(t: Renderer, communities: bool = False) -> list[str]:
    return [t.text(f"registry.ledger.columns.{key}") for key, _ in columns(communities)]


def _date(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=None)  # already local time


def feedback_text(row: LedgerRow, t: Renderer) -> str:
    """回访结果: 已联系 / 已解决 / 满意, or 未回访."""
    if row.contacted is None and row.solved is None and row.satisfaction is None:
        return t.text("registry.ledger.no_feedback")
    parts = []
    if row.contacted is not None:
        parts.append(
            t.text("issues.slip.contacted_yes" if row.contacted else "issues.slip.contacted_no")
        )
    parts += [t.text(f"issues.slip.{v}") for v in (row.solved, row.satisfaction) if v]
    return " / ".join(parts)


def _yes_no(value: bool | None, t: Renderer) -> str:
    if value is None:
        return ""
    return t.text("registry.ledger.yes" if value else "registry.ledger.no")


def described(row: LedgerRow, t: Renderer) -> str:
    """诉求内容; a voice report says so (语音，约 N 秒) before the gist a worker typed."""
    if row.voice_seconds is None:
        return row.description
    if not row.description:
        return t.text("issues.voice.label", seconds=row.voice_seconds)
    return t.text("issues.voice.with_text", seconds=row.voice_seconds, text=row.description)


def cells(row: LedgerRow, t: Renderer, communities: bool = False) -> list[object]:
    found: list[object] = [
        row.number,
        _date(row.reported_at),
        t.text(f"issues.types.{row.type}"),
        row.category,
        row.grid,
        place_text(t, row.location),
        described(row, t),
        row.photos,
        row.requester,
        row.handler,
        _date(row.resolve_by),
        _date(row.closed_at),
        t.text("registry.ledger.yes" if row.overdue else "registry.ledger.no"),
        _yes_no(row.on_time, t),
        row.deadline_changes,
        feedback_text(row, t),
        t.text(f"issues.states.{row.state}"),
        row.coordinates,
    ]
    return [*found, row.community] if communities else found


def ledger_xlsx(
    rows: Sequence[LedgerRow],
    t: Renderer,
    on_time: Sequence[OnTimeLine] = (),
    *,
    communities: bool = False,
) -> bytes:
    """The ledger sheet, and with ``on_time`` a second sheet of the period's on-time rate;
    ``communities`` adds the community column (a deployment of several communities)."""
    from openpyxl.styles import Alignment

    book, sheet = xlsx.new_sheet(t.text("registry.ledger.sheet"))
    xlsx.append_bold(sheet, headers(t, communities), centered=True)
    for row in rows:
        sheet.append(cells(row, t, communities))
    xlsx.set_widths(sheet, [width for _, width in columns(communities)])
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            if isinstance(cell.value, datetime):
                cell.number_format = DATE_FORMAT
            cell.alignment = Alignment(vertical="top", wrap_text=cell.column == 7)
    sheet.freeze_panes = "A2"
    if on_time:
        _on_time_sheet(book.create_sheet(t.text("registry.ledger.on_time.sheet")), on_time, t)
    return xlsx.to_bytes(book)


def _on_time_sheet(sheet: Worksheet, lines: Sequence[OnTimeLine], t: Renderer) -> None:
    """One line per scope; the rate as an Excel percentage, empty without resolutions."""
    keys = [key for key, _ in ON_TIME_COLUMNS]
    xlsx.append_bold(sheet, [t.text(f"registry.ledger.on_time.{k}") for k in keys], centered=True)
    for line in lines:
        rate = line.counts.rate
        sheet.append(
            [
                t.text(f"registry.ledger.on_time.scopes.{line.scope}"),
                line.name,
                line.counts.resolved,
                line.counts.on_time,
                None if rate is None else float(rate),
            ]
        )
        sheet.cell(row=sheet.max_row, column=len(keys)).number_format = "0.0%"
    sheet.append([])
    sheet.append([t.text("registry.ledger.on_time.note")])
    xlsx.set_widths(sheet, [width for _, width in ON_TIME_COLUMNS])
    sheet.freeze_panes = "A2"
