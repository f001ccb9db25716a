"""End to end: the real PTB application talks HTTP to the sandbox Bot API server."""

from __future__ import annotations

from pathlib import Path

from tests.support import factories as f
from tests.support.harness import running_bot, sandbox_world


async def test_private_start_reaches_handler_and_reply_reaches_sandbox(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path) as world, running_bot(world):
        await world.server.start_private(f.RESIDENT)
        record = await world.wait_sent(f.RESIDENT, "网格通小助手")
        assert "阅海湾社区" in (record.text or "")
        assert record.params.get("parse_mode") == "HTML"


async def test_group_command_reaches_handler_and_reply_is_threaded(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path) as world, running_bot(world):
        sent = await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "/help")
        record = await world.wait_sent(f.G1_CHAT, "使用说明")
        assert record.params["reply_parameters"]["message_id"] == sent["message_id"]
        assert "私聊我" in (record.text or "")


async def test_updates_are_stored_before_they_are_confirmed(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path) as world:
        async with running_bot(world) as gridbot:
            await world.server.start_private(f.RESIDENT)
            await world.wait_sent(f.RESIDENT, "网格通")
            counts = await gridbot.intake.inbox.counts()
        assert counts == {"done": 1}
        assert world.server.pending_updates(f.ENV["GRIDBOT_TOKEN"]) == []
