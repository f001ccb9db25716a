"""Registry test building blocks: a sample household sheet and the registry services on a
real database (issue #4)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

from bot.app import build_features
from bot.core.rendering import Renderer
from bot.issues.ledger import LedgerService
from bot.issues.service import IssueService
from bot.privacy.personal_data import PersonalDataService
from bot.registry.service import RegistryService
from storage.db import Database
from tests.support.factories import FakeClock, make_config

HEADER = ["楼栋", "单元", "房号", "建筑面积", "业主姓名", "联系电话", "网格"]


def sample_rows() -> list[list[object]]:
    """2 buildings × 3 units × 6 floors × 2 rooms; building 1 in g1, building 2 in g2."""
    rows: list[list[object]] = []
    for building in (1, 2):
        for unit in (1, 2, 3):
            for floor in range(1, 7):
                for room in (1, 2):
                    area = 89.5 if room == 1 else 120.25
                    owner = f"业主{building}{unit}{floor}{room}"
                    phone = f"139{building}{unit}{floor:02d}{room}0000"[:11]
                    grid = "g1" if building == 1 else "第二网格"
                    rows.append(
                        [f"{building}号楼", unit, f"{floor}0{room}", area, owner, phone, grid]
                    )
    return rows


def as_xlsx(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def as_csv(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


@dataclass
class RegistryWorld:
    db: Database
    clock: FakeClock
    registry: RegistryService
    personal: PersonalDataService
    ledger: LedgerService
    issues: IssueService


@asynccontextmanager
async def registry_world(tmp_path: Path) -> AsyncIterator[RegistryWorld]:
    config = make_config()
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    clock = FakeClock()
    try:
        found = await build_features(db, clock, config, Renderer())
        yield RegistryWorld(
            db, clock, found.registry, found.personal_data, found.ledger, found.issues
        )
    finally:
        await db.close()
