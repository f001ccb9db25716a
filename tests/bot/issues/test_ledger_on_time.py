"""按期办结率 in the 台账 (issue #18 item 4): each row says whether its latest 办结 was on time
and how often the deadline was changed; a second sheet has the period's rate per community,
grid, handler and category. Opened back with openpyxl."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook

from bot.core.rendering import Renderer
from bot.issues.ledger_xlsx import ledger_xlsx
from bot.issues.rates import OnTime
from tests.support import factories as f
from tests.support.registry import registry_world


def at(day: int, hour: int) -> datetime:
    return datetime(2025, 3, day, hour, tzinfo=f.SHANGHAI)


async def test_ledger_has_the_on_time_column_and_sheet(tmp_path: Path) -> None:
    async with registry_world(tmp_path) as world:
        service = world.issues
        numbers = []
        for chat, text in ((f.G1_CHAT, "#报事 3号楼路灯坏了"), (f.G2_CHAT, "#报事 5号楼电梯停运")):
            world.clock.set(at(5, 10))
            outcome = await service.report(
                chat_id=chat, user_id=f.RESIDENT, display_name="李四", text=text
            )
            numbers.append(outcome.issue.number)
        lamp, lift = numbers
        await service.assign(f.WORKER_G1, lamp, "property", resolve_by=at(6, 18))
        await service.assign(f.WORKER_G2, lift, "property", resolve_by=at(6, 18))
        world.clock.set(at(6, 9))
        await service.change_deadline(f.WORKER_G1, lamp, "2025-03-10")  # 改时限: later
        world.clock.set(at(7, 10))
        await service.handler_resolve(f.PROPERTY_USER, lamp, "已修好")  # on time, moved deadline
        await service.handler_resolve(f.PROPERTY_USER, lift, "已修好")  # late
        book = await world.ledger.book(date(2025, 3, 1), date(2025, 3, 31), actor=f.SECRETARY)
        data = ledger_xlsx(book.rows, Renderer(), book.on_time)

    assert [(r.number, r.on_time, r.deadline_changes) for r in book.rows] == [
        (lamp, True, 1),
        (lift, False, 0),
    ]
    assert [(line.scope, line.name, line.counts) for line in book.on_time] == [
        ("community", "阅海湾社区", OnTime(2, 1)),
        ("grid", "第一网格", OnTime(1, 1)),
        ("grid", "第二网格", OnTime(1, 0)),
        ("handler", "万象美物业", OnTime(2, 1)),
        ("category", "电梯", OnTime(1, 0)),
        ("category", "路灯/市政设施", OnTime(1, 1)),
    ]
    workbook = load_workbook(io.BytesIO(data))
    ledger, rates = workbook.worksheets
    table = [list(row) for row in ledger.iter_rows(values_only=True)]
    assert table[0][13:15] == ["按期办结", "改时限次数"]
    assert [row[13:15] for row in table[1:]] == [["是", 1], ["否", 0]]
    assert rates.title == "按期办结率"
    lines = [list(row) for row in rates.iter_rows(values_only=True)]
    assert lines[0] == ["范围", "名称", "办结", "按期", "按期办结率"]
    assert lines[1] == ["社区", "阅海湾社区", 2, 1, 0.5]
    assert lines[3] == ["网格", "第二网格", 1, 0, 0]
    assert rates.cell(row=2, column=5).number_format == "0.0%"
    assert str(lines[-1][0]).startswith("按期办结率＝")
