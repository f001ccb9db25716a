"""End to end (issue #4): a secretary imports the sheet in chat; a resident consents, picks
building → unit → room, the grid worker approves; declining stores nothing; /mydata; /forget."""

from __future__ import annotations

import json
from pathlib import Path

from bot.app import GridBot
from bot.registry.service import RegistryService
from tests.support import factories as f
from tests.support import postgres as pg
from tests.support.harness import FAST, World, press, running_bot, sandbox_world, step
from tests.support.registry import as_xlsx, sample_rows


def registry(gridbot: GridBot) -> RegistryService:
    found: RegistryService = gridbot.services.features.registry
    return found


async def import_in_chat(world: World, gridbot: GridBot) -> None:
    await world.server.start_private(f.SECRETARY)
    await world.server.user_sends_document(
        f.SECRETARY, f.SECRETARY, "住户.xlsx", as_xlsx(sample_rows())
    )
    await step(world, gridbot)
    await world.wait_sent(f.SECRETARY, "新增 72 户，更新 0 户，未变 0 户")


async def test_consent_room_picker_and_worker_approval(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await import_in_chat(world, gridbot)
        await world.server.start_private(f.WORKER_G1)
        await world.server.start_private(f.RESIDENT)
        await step(world, gridbot)
        card = await world.wait_sent(f.RESIDENT, "个人信息告知书")
        assert "365 天" in (card.text or "") and "/forget" in (card.text or "")
        await press(world, gridbot, card, f.RESIDENT, "同意")
        await press(world, gridbot, await world.wait_sent(f.RESIDENT, "楼栋"), f.RESIDENT, "1")
        await press(world, gridbot, await world.wait_sent(f.RESIDENT, "单元"), f.RESIDENT, "2")
        await press(world, gridbot, await world.wait_sent(f.RESIDENT, "房号"), f.RESIDENT, "301")
        await press(
            world, gridbot, await world.wait_sent(f.RESIDENT, "1-2-301"), f.RESIDENT, "业主"
        )
        await world.wait_sent(f.RESIDENT, "已提交认证申请")
        request = await world.wait_sent(f.WORKER_G1, "住户认证申请")
        assert "业主1231" in (request.text or "")
        household = await registry(gridbot).find_room("1-2-301")
        assert not await registry(gridbot).is_verified(f.RESIDENT, household.id)
        await press(world, gridbot, request, f.WORKER_G1, "通过")
        await world.wait_sent(f.RESIDENT, "住户认证已通过")
        assert await registry(gridbot).is_verified(f.RESIDENT, household.id)


async def test_mydata_reads_in_chinese_with_the_json_attached(tmp_path: Path) -> None:
    """/mydata (issue #13 item 22): a summary in words — what, from where, seen by whom —
    then the JSON file."""
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await import_in_chat(world, gridbot)
        await world.server.start_private(f.WORKER_G1)
        await world.server.start_private(f.RESIDENT)
        await step(world, gridbot)
        await press(
            world, gridbot, await world.wait_sent(f.RESIDENT, "告知书"), f.RESIDENT, "同意"
        )
        await world.server.user_sends(f.RESIDENT, f.RESIDENT, "1-2-302")
        await step(world, gridbot)
        await press(
            world, gridbot, await world.wait_sent(f.RESIDENT, "1-2-302"), f.RESIDENT, "业主"
        )
        await press(
            world, gridbot, await world.wait_sent(f.WORKER_G1, "住户认证申请"), f.WORKER_G1, "通过"
        )
        await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "#报事 1号楼2单元门口路灯坏了")
        await step(world, gridbot)
        await world.wait_sent(f.G1_CHAT, "#1")

        await world.server.user_sends(f.RESIDENT, f.RESIDENT, "/mydata")
        await step(world, gridbot)
        summary = await world.wait_sent(f.RESIDENT, "我们保存的您的个人信息")
        text = summary.text or ""
        for words in (
            "住户认证",
            "1号楼2单元302，业主，已认证，面积 120.25㎡",
            "您报的事",
            "#1 路灯/市政设施，已登记",
            "来源：",
            "谁能看到：",
        ):
            assert words in text, words
        for code in ("area_centi", "streetlight", "verified", "owner", "{", "_"):
            assert code not in text, code
        document = next(r for r in world.sent_to(f.RESIDENT) if r.method == "sendDocument")
        assert document.message_id is not None and summary.message_id is not None
        assert document.message_id > summary.message_id
        stored = world.server.chat(f.RESIDENT).messages[document.message_id].data["document"]
        assert stored["file_name"] == "mydata.json"
        data = json.loads(world.server.files[stored["file_id"]].data)
        assert data["households"][0]["area_centi"] == 12025


async def test_typed_room_goes_to_relation_buttons(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await import_in_chat(world, gridbot)
        await world.server.start_private(f.NEIGHBOUR)
        await step(world, gridbot)
        await press(
            world, gridbot, await world.wait_sent(f.NEIGHBOUR, "告知书"), f.NEIGHBOUR, "同意"
        )
        await world.server.user_sends(f.NEIGHBOUR, f.NEIGHBOUR, "2-3-602")
        await step(world, gridbot)
        relation = await world.wait_sent(f.NEIGHBOUR, "2-3-602")
        assert {b["text"] for row in relation.reply_markup["inline_keyboard"] for b in row} == {
            "业主",
            "租户",
            "家属",
        }


async def test_declining_consent_stores_nothing(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await world.server.start_private(f.RESIDENT)
        await step(world, gridbot)
        await press(
            world, gridbot, await world.wait_sent(f.RESIDENT, "告知书"), f.RESIDENT, "不同意"
        )
        await world.wait_sent(f.RESIDENT, "没有保存您的任何个人信息")
        for table in ("persons", "person_households", "role_grants", "sensitive_data"):
            row = await gridbot.db.fetchone(f"SELECT COUNT(*) FROM {table}")
            assert row is not None and row[0] == 0, table


async def test_forget_in_chat_erases_the_name_from_the_database_files(tmp_path: Path) -> None:
    name = "欧阳娜娜"
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        world.server.add_user(name, "", id=777)
        await world.server.start_private(777)
        await step(world, gridbot)
        await press(world, gridbot, await world.wait_sent(777, "告知书"), 777, "同意")
        await world.server.user_sends(777, 777, "/forget")
        await step(world, gridbot)
        await press(world, gridbot, await world.wait_sent(777, "确认删除"), 777, "确认删除")
        await world.wait_sent(777, "已删除您的个人信息")
        await gridbot.services.features.personal_data.wait_checkpoints()
        assert not await registry(gridbot).has_consent(777)
        if pg.ACTIVE:
            raw = await pg.stored_text(gridbot.db)
        else:
            path = gridbot.db.path
            wal = path.with_name(path.name + "-wal")
            raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert name.encode() not in raw
