"""What every .xlsx the bot writes has in common (ledger, digest, 接龙 list, minutes).

openpyxl is imported on first use, not at start-up: it pulls numpy and Pillow in with it when
they are installed (about 25 MiB resident), and on most days the bot writes no spreadsheet at
all (bench/README.md, "Memory").
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet


def new_sheet(title: str) -> tuple[Workbook, Worksheet]:
    """A workbook with one sheet called ``title``."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    return book, sheet


def append_bold(sheet: Worksheet, values: Iterable[Any], *, centered: bool = False) -> None:
    """Append a row in bold (a header, or a section title)."""
    from openpyxl.styles import Alignment, Font

    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
        if centered:
            cell.alignment = Alignment(horizontal="center")


def set_widths(sheet: Worksheet, widths: Sequence[float]) -> None:
    """Column widths in characters, from column A on."""
    from openpyxl.utils import get_column_letter

    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def to_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
