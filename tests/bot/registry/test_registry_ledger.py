"""The 台账: opened with openpyxl, it matches the database row for row (issue #4)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.__main__ import main
from bot.core.errors import NotPermitted
from bot.core.rendering import Renderer
from bot.issues.ledger_xlsx import ledger_xlsx
from bot.issues.model import NoticeKind
from bot.issues.rates import Satisfaction, Solved
from bot.issues.transcribe import VoiceNote
from tests.support import factories as f
from tests.support.registry import RegistryWorld, registry_world

HEADERS = [
    "编号",
    "受理时间",
    "诉求类型",
    "类别",
    "网格",
    "位置",
    "诉求内容",
    "照片数",
    "诉求人",
    "承办单位",
    "办理时限",
    "办结时间",
    "是否超期",
    "按期办结",
    "改时限次数",
    "回访结果",
    "状态",
    "坐标",
]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[RegistryWorld]:
    async with registry_world(tmp_path) as world:
        service = world.issues
        first = await service.report(
            chat_id=f.G1_CHAT,
            user_id=f.RESIDENT,
            display_name="李四",
            text="#报事 3号楼2单元路灯坏了",
            photos=("album-photo-1", "album-photo-2", "album-photo-3"),
        )
        number = first.issue.number
        await service.assign(f.WORKER_G1, number, "property")
        resolved = await service.handler_resolve(f.PROPERTY_USER, number, "已修好")
        [slip] = [n.slip_id for n in resolved.notices if n.kind is NoticeKind.FEEDBACK_SLIP]
        assert slip is not None
        await service.answer_slip(
            slip,
            f.RESIDENT,
            contacted=True,
            solved=Solved.SOLVED,
            satisfaction=Satisfaction.BASIC,
        )
        world.clock.advance(hours=1)
        await service.report(
            chat_id=f.G2_CHAT, user_id=f.NEIGHBOUR, display_name="王小明", text="#投诉 楼下噪音"
        )
        yield world


def read_back(data: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["G"].width >= 40  # 诉求内容 is wide
    return [list(row) for row in sheet.iter_rows(values_only=True)]


async def test_ledger_matches_the_database_row_for_row(world: RegistryWorld) -> None:
    rows = await world.ledger.rows(date(2025, 3, 1), date(2025, 3, 31), actor=f.SECRETARY)
    table = read_back(ledger_xlsx(rows, Renderer()))
    assert table[0] == HEADERS
    db_rows = await world.db.fetchall("SELECT * FROM issues ORDER BY number")
    assert [r[0] for r in table[1:]] == [row["number"] for row in db_rows]
    first, second = table[1], table[2]
    assert first[1] == datetime(2025, 3, 5, 10, 0)  # a real date, local time
    assert first[2:5] == ["报事", "路灯/市政设施", "第一网格"]
    assert first[5] == "3-2" and first[8] == "李四" and first[9] == "万象美物业"
    assert (first[7], second[7]) == (3, 0)  # the report's photos (an album's, issue #18)
    assert isinstance(first[10], datetime) and isinstance(first[11], datetime)
    assert first[12:] == ["否", "是", 0, "已联系 / 已解决 / 基本满意", "已关闭", None]
    assert second[2] == "投诉" and second[4] == "第二网格" and second[8] == "王小明"
    assert second[11] is None and second[13] is None  # not resolved: no 按期办结 verdict
    assert second[15] == "未回访" and second[16] == "已登记"


async def test_ledger_masks_requesters_for_the_command_line(world: RegistryWorld) -> None:
    rows = await world.ledger.rows(date(2025, 3, 1), date(2025, 3, 31))
    assert [r.requester for r in rows] == ["李*", "王**"]


async def test_ledger_is_refused_to_a_worker(world: RegistryWorld) -> None:
    with pytest.raises(NotPermitted):
        await world.ledger.rows(date(2025, 3, 1), date(2025, 3, 31), actor=f.WORKER_G1)


def test_cli_imports_registry_and_exports_ledger(tmp_path: Path) -> None:
    from tests.support.registry import as_csv, sample_rows

    config = tmp_path / "config.toml"
    config.write_text(
        'locale = "zh_CN"\n[telegram]\ntoken = "1:x"\n[storage]\npath = "db.sqlite3"\n'
        '[community]\nname = "阅海湾社区"\nsecretaries = [201]\n'
        '[[community.grids]]\nkey = "g1"\nname = "第一网格"\nworkers = [101]\n'
        '[[community.grids]]\nkey = "g2"\nname = "第二网格"\nworkers = [102]\n',
        encoding="utf-8",
    )
    sheet = tmp_path / "住户.csv"
    sheet.write_bytes(as_csv(sample_rows()))
    assert main(["import", "registry", str(sheet), "--config", str(config)]) == 0
    assert main(["import", "registry", str(sheet), "--config", str(config)]) == 0
    out = tmp_path / "ledger.xlsx"
    args = ["export", "ledger", "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(out)]
    assert main([*args, "--config", str(config)]) == 0
    assert read_back(out.read_bytes()) == [HEADERS]


async def test_ledger_says_a_report_was_a_voice_note(world: RegistryWorld) -> None:
    async def no_audio() -> bytes:
        raise AssertionError("no transcriber: the audio is never fetched")

    voice = VoiceNote("AwACAgUAAxkBAAI-voice", 31, no_audio)
    spoken = await world.issues.report(
        chat_id=f.G1_CHAT, user_id=f.RESIDENT, display_name="李四", text="#报事", voice=voice
    )
    rows = await world.ledger.rows(date(2025, 3, 1), date(2025, 3, 31), actor=f.SECRETARY)
    table = read_back(ledger_xlsx(rows, Renderer()))
    assert table[-1][0] == spoken.issue.number and table[-1][6] == "语音，约 31 秒"
    await world.issues.note(f.WORKER_G1, spoken.issue.number, "楼道堆满杂物")
    rows = await world.ledger.rows(date(2025, 3, 1), date(2025, 3, 31), actor=f.SECRETARY)
    table = read_back(ledger_xlsx(rows, Renderer()))
    assert table[-1][6] == "语音，约 31 秒：楼道堆满杂物"
