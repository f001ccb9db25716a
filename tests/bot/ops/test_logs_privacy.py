"""No personal data and no token in the logs (issue #17 item 4).

The whole issue loop runs against the sandbox with every gridbot logger at DEBUG; the names,
phones and texts the people typed must appear in no log record, and the bot token in nothing
the log handler of ``gridbot run`` writes.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from bot.app import GridBot
from bot.issues.model import State
from bot.logs import hide_secrets, setup_logging
from sandbox.models import SentRecord
from tests.support import factories as f
from tests.support import harness
from tests.support.harness import FAST, World, running_bot, sandbox_world, step

RESIDENT_NAME = ("欧阳", "秀英")
RESIDENT_PHONE = "13812345678"
REPORT = f"5号楼1单元楼道灯不亮了，晚上看不清台阶，联系电话{RESIDENT_PHONE}"
HANDLER_PHONE = "13987654321"
RESULT = f"已更换楼道灯泡，如再坏请拨{HANDLER_PHONE}"


def buttons(record: SentRecord) -> dict[str, str]:
    rows = (record.reply_markup or {}).get("inline_keyboard", [])
    return {b["text"]: b.get("callback_data") or b.get("url", "") for row in rows for b in row}


def latest(world: World, chat_id: int, message_id: int | None) -> SentRecord:
    """The message as it is now, after edits."""
    return [r for r in world.sent_to(chat_id) if r.message_id == message_id][-1]


async def press(world: World, gridbot: GridBot, record: SentRecord, user: int, label: str) -> None:
    assert record.message_id is not None
    await world.server.press_button(record.chat_id, record.message_id, user, button_text=label)
    await step(world, gridbot)


async def play_the_issue_loop(world: World, gridbot: GridBot) -> None:
    """Report with a phone → accept → assign → resolve with a phone → the resident rates."""
    server = world.server
    for user in (f.WORKER_G1, f.PROPERTY_USER, f.RESIDENT):
        await server.start_private(user)
    await step(world, gridbot)
    await server.user_sends(f.G1_CHAT, f.RESIDENT, f"#报事 {REPORT}")
    await step(world, gridbot)
    card = await world.wait_sent(f.WORKER_G1, "#1")
    await press(world, gridbot, card, f.WORKER_G1, "受理")
    await press(world, gridbot, latest(world, f.WORKER_G1, card.message_id), f.WORKER_G1, "交办")
    await press(
        world, gridbot, latest(world, f.WORKER_G1, card.message_id), f.WORKER_G1, "万象美物业"
    )
    await world.wait_sent(f.PROPERTY_USER, "交办单")
    await server.user_sends(f.PROPERTY_USER, f.PROPERTY_USER, f"/done 1 {RESULT}")
    await step(world, gridbot)
    slip = await world.wait_sent(f.RESIDENT, "经办人是否联系过您")
    for label in ("是", "已解决", "满意", "提交评价"):
        await press(world, gridbot, latest(world, f.RESIDENT, slip.message_id), f.RESIDENT, label)
    issue = await gridbot.services.features.issues.get(1, f.WORKER_G1)
    assert issue.state is State.CLOSED


def record_text(record: logging.LogRecord) -> str:
    """Everything a formatter could print of ``record``: message, exception, stack."""
    formatter = logging.Formatter()
    parts = [record.getMessage(), record.name]
    if record.exc_info:
        parts.append(formatter.formatException(record.exc_info))
    if record.stack_info:
        parts.append(record.stack_info)
    return "\n".join(parts)


async def test_the_issue_loop_logs_no_names_phones_or_report_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(harness.PEOPLE, f.RESIDENT, RESIDENT_NAME)
    for name in ("bot", "handlers", "storage"):
        caplog.set_level(logging.DEBUG, logger=name)
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await play_the_issue_loop(world, gridbot)
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("bot", "handlers", "storage")]
    assert ours, "the loop logged nothing at DEBUG: the test would prove nothing"
    secrets = [
        "".join(RESIDENT_NAME),
        RESIDENT_NAME[1],
        RESIDENT_PHONE,
        HANDLER_PHONE,
        REPORT[:8],
        RESULT[:8],
    ]
    leaks = [(r.name, s) for r in ours for s in secrets if s in record_text(r)]
    assert leaks == []


async def test_the_token_and_personal_data_never_reach_gridbots_log_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every logger at DEBUG (PTB, aiosqlite, aiohttp, asyncio too), through the handler
    ``gridbot run`` installs: PTB logs its API URL, token included, and aiosqlite every
    statement with its parameters."""
    monkeypatch.setitem(harness.PEOPLE, f.RESIDENT, RESIDENT_NAME)
    root = logging.getLogger()
    level = root.level
    out = io.StringIO()
    async with sandbox_world(tmp_path, outbox=FAST) as world:
        token = world.config.telegram.token
        handler = setup_logging("DEBUG", "json", stream=out)
        hide_secrets(handler, token)
        try:
            async with running_bot(world) as gridbot:
                await play_the_issue_loop(world, gridbot)
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
    written = out.getvalue()
    assert "gridbot started" in written and '"level": "DEBUG"' in written
    assert token not in written and token.split(":")[1] not in written
    for secret in ("".join(RESIDENT_NAME), RESIDENT_PHONE, HANDLER_PHONE, REPORT[:8], RESULT[:8]):
        assert secret not in written
