"""The ledger with several communities (issue #15 item 1): a secretary exports their own
community's rows only; the street office exports every community, with a community column."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.core.errors import NotPermitted
from bot.core.permissions import RoleBook
from bot.core.rendering import Renderer
from bot.issues.ledger import LedgerService
from bot.issues.ledger_xlsx import ledger_xlsx
from storage.issues.ledger import LedgerRepo
from tests.support import factories as f
from tests.support.factories import IssueWorld, issue_world


async def _two_reports(world: IssueWorld) -> LedgerService:
    for chat, text in ((f.G1_CHAT, "#报事 3号楼路灯坏了"), (f.H1_CHAT, "#报事 8号楼门禁坏了")):
        await world.service.report(
            chat_id=chat, user_id=f.RESIDENT, display_name="王阿姨", text=text
        )
    return LedgerService(LedgerRepo(world.db), world.clock, world.config, RoleBook())


async def test_a_secretary_exports_their_own_community_only(tmp_path: Path) -> None:
    async with issue_world(tmp_path, f.make_two_communities()) as world:
        ledger = await _two_reports(world)
        today = world.clock.now().date()
        mine = await ledger.book(today, today, actor=f.SECRETARY)
        theirs = await ledger.book(today, today, actor=f.SECRETARY_B)
        with pytest.raises(NotPermitted):
            await ledger.book(today, today, actor=f.WORKER_G1)

    assert [(r.number, r.community) for r in mine.rows] == [(1, "阅海湾社区")]
    assert [(r.number, r.community) for r in theirs.rows] == [(2, "金沙湖社区")]
    assert [(line.scope, line.name) for line in mine.on_time][:3] == [
        ("community", "阅海湾社区"),
        ("grid", "第一网格"),
        ("grid", "第二网格"),
    ]
    assert "金沙湖社区" not in [line.name for line in mine.on_time]


async def test_the_street_office_exports_every_community_with_a_column(tmp_path: Path) -> None:

    async with issue_world(tmp_path, f.make_two_communities()) as world:
        ledger = await _two_reports(world)
        day = world.clock.now().date()
        book = await ledger.book(day, day, actor=f.STREET_STAFF)

    assert [(r.number, r.community) for r in book.rows] == [(1, "阅海湾社区"), (2, "金沙湖社区")]
    assert [line.name for line in book.on_time if line.scope == "community"] == [
        "阅海湾社区",
        "金沙湖社区",
    ]
    sheet = load_workbook(BytesIO(ledger_xlsx(book.rows, Renderer(), communities=True))).active
    assert sheet is not None
    table = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert table[0][-1] == "社区"
    assert [row[-1] for row in table[1:]] == ["阅海湾社区", "金沙湖社区"]
    assert all(row[8] != "王阿姨" for row in table[1:])  # the street office sees no names


async def test_the_ledger_of_one_community_is_unchanged(tmp_path: Path) -> None:
    async with issue_world(tmp_path) as world:
        await world.service.report(
            chat_id=f.G1_CHAT, user_id=f.RESIDENT, display_name="王阿姨", text="#报事 路灯坏了"
        )
        ledger = LedgerService(LedgerRepo(world.db), world.clock, world.config, RoleBook())
        book = await ledger.book(date(2025, 3, 5), date(2025, 3, 5), actor=f.SECRETARY)

    assert [r.number for r in book.rows] == [1]
    assert [line.name for line in book.on_time if line.scope == "community"] == ["阅海湾社区"]
