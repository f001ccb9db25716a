"""End to end: residents learn what was done (issue #13 items 12–13).

The handler's result (办理结果) reaches the residents on the feedback slip, on the group's
去评价 line and in /issue N; a resident the bot cannot write to privately is told how to get
progress (a deep link), and once they open it they get what they missed.
"""

from __future__ import annotations

from pathlib import Path

from bot.app import GridBot
from sandbox.models import SentRecord
from tests.support import factories as f
from tests.support.harness import FAST, World, running_bot, sandbox_world, step

RESULT = "已协调顺丰驿站撤出消防通道"


def buttons(record: SentRecord) -> dict[str, str]:
    """Button label → callback data or URL of a sent message."""
    rows = (record.reply_markup or {}).get("inline_keyboard", [])
    return {b["text"]: b.get("callback_data") or b.get("url", "") for row in rows for b in row}


def current(world: World, record: SentRecord) -> SentRecord:
    """The message as it is now (after edits): the newest record of it."""
    same = [
        r
        for r in world.server.sent
        if (r.chat_id, r.message_id) == (record.chat_id, record.message_id)
    ]
    return same[-1]


async def press(world: World, gridbot: GridBot, record: SentRecord, user: int, label: str) -> None:
    assert record.message_id is not None
    await world.server.press_button(record.chat_id, record.message_id, user, button_text=label)
    await step(world, gridbot)


async def sends(world: World, gridbot: GridBot, chat_id: int, user: int, text: str) -> None:
    await world.server.user_sends(chat_id, user, text)
    await step(world, gridbot)


async def resolved_in_group(world: World, gridbot: GridBot, *private: int) -> None:
    """``private`` open their chats; the resident reports #1 in grid 1's group; the worker
    assigns it to the property company, which resolves it with ``RESULT`` and a phone."""
    for user in (f.WORKER_G1, f.PROPERTY_USER, *private):
        await world.server.start_private(user)
    await step(world, gridbot)
    await sends(world, gridbot, f.G1_CHAT, f.RESIDENT, "#报事 5号楼消防通道被快递车堵了")
    card = await world.wait_sent(f.WORKER_G1, "#1")
    for label in ("交办", "万象美物业"):
        await press(world, gridbot, card, f.WORKER_G1, label)
    done = f"/done 1 {RESULT}，驿站电话13812345678"
    await sends(world, gridbot, f.PROPERTY_USER, f.PROPERTY_USER, done)


async def test_the_slip_and_issue_view_carry_the_result(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await resolved_in_group(world, gridbot, f.RESIDENT)
        slip = (await world.wait_sent(f.RESIDENT, "请您评价")).text or ""
        ack = await world.wait_sent(f.G1_CHAT, "已登记 #1")
        status = current(world, ack).text or ""
        await sends(world, gridbot, f.RESIDENT, f.RESIDENT, "/issue 1")
        mine = (await world.wait_sent(f.RESIDENT, "办理过程")).text or ""
        await sends(world, gridbot, f.G1_CHAT, f.NEIGHBOUR, "/issue 1")
        group = (await world.wait_sent(f.G1_CHAT, "办理过程")).text or ""

    assert f"办理结果：{RESULT}" in slip
    # The group's ack became the status line: what was done, the phone masked.
    assert "当前状态：已办结" in status and f"办理结果：{RESULT}" in status
    assert "13812345678" not in status and "138****5678" in status
    assert RESULT in mine.split("办理过程")[0]
    assert f"办理结果</b>：{RESULT}" in group or f"办理结果：{RESULT}" in group
    assert "13812345678" not in group and "138****5678" in group


async def test_the_group_link_carries_the_result(tmp_path: Path) -> None:
    """The reporter never opened a private chat: the group's 去评价 line says what was done,
    and the slip they open from it too."""
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await resolved_in_group(world, gridbot)
        link = await world.wait_sent(f.G1_CHAT, "私聊评价")
        url = buttons(link)["去评价 #1"]
        await world.server.start_private(f.RESIDENT, payload=url.split("start=")[1])
        await step(world, gridbot)
        slip = (await world.wait_sent(f.RESIDENT, "请您评价")).text or ""

    assert f"办理结果：{RESULT}" in (link.text or "")
    assert "13812345678" not in (link.text or "")
    assert f"办理结果：{RESULT}" in slip


async def test_an_unreachable_reporter_gets_the_link_then_what_they_missed(
    tmp_path: Path,
) -> None:
    """The resident never opened a private chat: the group ack does not promise private
    progress but offers the deep link; opening it brings the status, the progress note, the
    result and the waiting slip; the next step then reaches them privately."""
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        for user in (f.WORKER_G1, f.PROPERTY_USER):
            await world.server.start_private(user)
        await step(world, gridbot)
        await sends(world, gridbot, f.G1_CHAT, f.RESIDENT, "#报事 5号楼消防通道被快递车堵了")
        ack = await world.wait_sent(f.G1_CHAT, "#1")
        card = await world.wait_sent(f.WORKER_G1, "#1")
        for label in ("受理", "交办", "万象美物业"):
            await press(world, gridbot, card, f.WORKER_G1, label)
        await sends(world, gridbot, f.PROPERTY_USER, f.PROPERTY_USER, "/note 1 已联系驿站负责人")
        await sends(world, gridbot, f.PROPERTY_USER, f.PROPERTY_USER, f"/done 1 {RESULT}")
        missed = [r for r in world.sent_to(f.RESIDENT) if r.message_id is not None]
        status = current(world, ack)

        url = buttons(ack)["私聊接收进展 #1"]
        await world.server.start_private(f.RESIDENT, payload=url.split("start=")[1])
        await step(world, gridbot)
        detail = (await world.wait_sent(f.RESIDENT, "办理过程")).text or ""
        slip = await world.wait_sent(f.RESIDENT, "请您评价")
        for label in ("是", "未解决", "不满意", "提交评价"):
            await press(world, gridbot, slip, f.RESIDENT, label)
        await sends(world, gridbot, f.PROPERTY_USER, f.PROPERTY_USER, "/note 1 驿站今天搬走")
        later = await world.wait_sent(f.RESIDENT, "驿站今天搬走")

    assert "私聊告诉您" not in (ack.text or "") and "点下方按钮与我私聊" in (ack.text or "")
    assert url == "https://t.me/gridbot?start=issue_1"
    assert RESULT in (status.text or "") and buttons(status)["私聊接收进展 #1"] == url
    assert missed == []  # nothing reached them before they opened the chat
    assert "已办结" in detail and "已联系驿站负责人" in detail and f"办理结果：{RESULT}" in detail
    assert "之后每一步进展我都会私聊告诉您" in detail
    assert f"办理结果：{RESULT}" in (slip.text or "")
    assert later.message_id is not None


async def test_a_reachable_reporter_is_promised_private_progress(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await world.server.start_private(f.RESIDENT)
        await step(world, gridbot)
        await sends(world, gridbot, f.G1_CHAT, f.RESIDENT, "#报事 5号楼消防通道被快递车堵了")
        ack = await world.wait_sent(f.G1_CHAT, "#1")

    assert "进展会私聊告诉您" in (ack.text or "") and not buttons(ack)
