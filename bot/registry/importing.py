"""Reading the community's household sheet (.xlsx or .csv) and checking every row.

Nothing is written here: :func:`parse_sheet` returns the households or every problem found, each
with its sheet row number (the header is row 1, as Excel shows it), so a secretary fixes the
whole file in one go. The import itself (all-or-nothing, idempotent) is
``RegistryService.import_sheet``.

Columns (header spellings in ``_ALIASES``; 楼栋, 单元, 房号, 建筑面积 and 网格 are required):
楼栋 · 单元 · 房号 · 建筑面积 (㎡, up to 2 decimals) · 业主姓名 · 联系电话 · 网格 · 业主编号.
业主编号 is optional: any identifier the community keeps for an owner (产权证上的权利人, a number
of its own), the same on every unit that owner holds. Owners' decisions (民法典 art. 278) count
the units sharing it as one owner with the areas summed (issue #13 item 15); without it, units
are joined only once their owner has verified them through Telegram.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from bot.core.errors import UserError
from storage.registry.repo import HouseholdData

# Canonical column → header spellings seen in real sheets (compared without spaces/brackets).
_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "building": ("楼栋", "楼号", "栋", "楼栋号", "楼", "栋号", "幢", "building"),
    "unit": ("单元", "单元号", "unit"),
    "room": ("房号", "房间号", "户号", "门牌号", "室", "room"),
    "area": ("建筑面积", "面积", "房屋面积", "产权面积", "area"),
    "owner": ("业主姓名", "业主", "姓名", "户主", "owner"),
    "owner_key": ("业主编号", "业主代码", "产权人编号", "业主id", "ownerid", "owner_id"),
    "phone": ("联系电话", "电话", "手机", "手机号", "联系方式", "phone"),
    "grid": ("网格", "所属网格", "网格名称", "grid"),
}
REQUIRED: Final = ("building", "unit", "room", "area", "grid")
_BRACKETS: Final = re.compile(r"[（(【\[].*?[)）】\]]")
_PHONE_OK: Final = re.compile(r"^[\d\s+\-—/、,，]*$")
_CENTI: Final = Decimal("0.01")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the sheet: catalogue key ``registry.problem.<key>``."""

    row: int
    key: str
    values: Mapping[str, Any] = field(default_factory=dict)


class ImportRefused(UserError):
    """The sheet has problems; nothing was imported. ``problems`` lists all of them."""

    key = "registry.import.refused"

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(count=len(problems))
        self.problems = tuple(problems)


def read_rows(data: bytes, filename: str) -> list[list[str]]:
    """The sheet's cells as text, header first; .xlsx (first sheet) or .csv (UTF-8 or GBK)."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _xlsx_rows(data)
    if name.endswith(".csv"):
        return [list(row) for row in csv.reader(io.StringIO(_decode(data)))]
    raise ImportRefused([Problem(0, "bad_format", {"name": filename})])


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")  # Excel on Chinese Windows saves CSV as GBK


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ImportRefused([Problem(0, "bad_xlsx", {"detail": type(exc).__name__})]) from exc
    try:
        return [[_cell(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = format(Decimal(repr(value)).normalize(), "f")
        return text
    return str(value).strip()


def _header_key(text: str) -> str | None:
    plain = _BRACKETS.sub("", text).replace(" ", "").replace("\u3000", "").lower()
    for key, names in _ALIASES.items():
        if plain in names:
            return key
    return None


def _columns(header: Sequence[str]) -> tuple[dict[str, int], list[Problem]]:
    columns: dict[str, int] = {}
    for index, text in enumerate(header):
        key = _header_key(text)
        if key is not None and key not in columns:
            columns[key] = index
    missing = [Problem(1, "missing_column", {"column": _ALIASES[k][0]}) for k in REQUIRED]
    return columns, [p for k, p in zip(REQUIRED, missing, strict=True) if k not in columns]


def normalise(kind: str, text: str) -> str:
    """ "3号楼" → "3", "2单元" → "2", "301室" → "301"; other text is kept as written."""
    text = text.strip().replace(" ", "")
    suffixes = {
        "building": ("号楼", "栋", "幢", "号", "楼"),
        "unit": ("单元",),
        "room": ("室", "号"),
    }
    for suffix in suffixes.get(kind, ()):
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def parse_area(text: str) -> int | None:
    """Hundredths of a square metre: "89.5" → 8950; None if not a positive 2-decimal number."""
    try:
        area = Decimal(text.replace(",", "").replace("㎡", "").strip())
    except InvalidOperation:
        return None
    if not area.is_finite() or area <= 0 or area.quantize(_CENTI) != area:
        return None
    return int(area * 100)


def parse_sheet(rows: Sequence[Sequence[str]], grids: Mapping[str, str]) -> list[HouseholdData]:
    """Check every row; return the households or raise :class:`ImportRefused` with them all.

    ``grids`` maps what a sheet may write in 网格 (a key or a display name) to the grid key.
    """
    if not rows:
        raise ImportRefused([Problem(0, "empty")])
    columns, problems = _columns(rows[0])
    if problems:
        raise ImportRefused(problems)
    households: list[HouseholdData] = []
    first_row: dict[tuple[str, str, str], int] = {}
    for number, row in enumerate(rows[1:], start=2):
        cells = {key: (row[i] if i < len(row) else "").strip() for key, i in columns.items()}
        if not any(cells.values()):
            continue  # blank rows between blocks are common in hand-kept sheets
        found = _check_row(number, cells, grids)
        household = _household(cells, grids) if not found else None
        place = tuple(normalise(k, cells[k]) for k in ("building", "unit", "room"))
        if all(place) and place in first_row:
            found.append(
                Problem(number, "duplicate", {"place": "-".join(place), "first": first_row[place]})
            )
        first_row.setdefault((place[0], place[1], place[2]), number)
        problems.extend(found)
        if household is not None:
            households.append(household)
    if problems:
        raise ImportRefused(problems)
    return households


def _check_row(number: int, cells: Mapping[str, str], grids: Mapping[str, str]) -> list[Problem]:
    found = [Problem(number, f"missing_{key}") for key in REQUIRED if not cells.get(key)]
    area = cells.get("area", "")
    if area and parse_area(area) is None:
        found.append(Problem(number, "bad_area", {"value": area}))
    grid = cells.get("grid", "")
    if grid and grid not in grids:
        known = "、".join(sorted(set(grids.values())))
        found.append(Problem(number, "unknown_grid", {"value": grid, "known": known}))
    phone = cells.get("phone", "")
    if phone and not _PHONE_OK.match(phone):
        found.append(Problem(number, "bad_phone", {"value": phone}))
    return found


def _household(cells: Mapping[str, str], grids: Mapping[str, str]) -> HouseholdData:
    area = parse_area(cells["area"])
    assert area is not None
    return HouseholdData(
        building=normalise("building", cells["building"]),
        unit=normalise("unit", cells["unit"]),
        room=normalise("room", cells["room"]),
        area_centi=area,
        owner_names=cells.get("owner", ""),
        phone=cells.get("phone", ""),
        grid=grids[cells["grid"]],
        owner_key=cells.get("owner_key", "").replace(" ", ""),
    )


def grid_names(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Accept a grid's key or its name in the sheet: {"g1": "g1", "第一网格": "g1"}."""
    names: dict[str, str] = {}
    for key, name in pairs:
        names[key] = key
        names[name] = key
    return names
