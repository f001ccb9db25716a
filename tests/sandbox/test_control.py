"""The HTTP control API (via SandboxClient) and the standalone CLI."""

from __future__ import annotations

import asyncio
import os
import ssl
import sys
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from sandbox.client import SandboxClient, SandboxControlError
from sandbox.server import SandboxServer
from sandbox.state import SAVED_STATE
from tests.sandbox.conftest import TOKEN, ptb_bot, raw_call

ROOT = Path(__file__).resolve().parents[2]


async def test_clients_share_one_tls_context(
    server: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the CA bundle for each client cost 25 ms of CPU at every playground start."""
    built: list[object] = []
    real = ssl.create_default_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        built.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counted)
    root = server.base_url.removesuffix("/bot")
    for _ in range(3):
        async with SandboxClient(root) as client:
            assert (await client.call("stats"))["calls"] == 0
    assert len(built) <= 1  # none when an earlier test of this process made it


async def test_control_api_round_trip(server: SandboxServer, bot: Bot) -> None:
    root = server.base_url.removesuffix("/bot")
    async with SandboxClient(root) as client:
        assert client.base_url == server.base_url
        alice = await client.add_user("王", "阿姨", username="wang_ayi")
        grp = await client.add_group("阅海湾一网格", [alice["id"]], bot_is_admin=True)
        await client.start_private(alice["id"])
        sent_msg = await bot.send_message(
            grp["id"],
            "选择",
            reply_markup={"inline_keyboard": [[{"text": "好", "callback_data": "ok"}]]},
        )
        msg = await client.user_sends(grp["id"], alice["id"], "#报修 水管")
        assert msg["entities"][0]["type"] == "hashtag"
        cq = await client.press_button(grp["id"], sent_msg.message_id, alice["id"], "ok")
        updates = await bot.get_updates()
        assert updates[-1].callback_query is not None and updates[-1].callback_query.id == cq
        await bot.get_updates(offset=updates[-1].update_id + 1)
        await client.user_sends_photo(grp["id"], alice["id"], caption="图")
        await client.user_sends_document(grp["id"], alice["id"], "a.txt", b"hello")
        await client.inject_raw_update({"message": {"bogus": True}})
        pending = await client.pending_updates()
        assert len(pending) == 3 and pending[-1]["message"] == {"bogus": True}
        # PTB can't parse the bogus update, so confirm everything with a raw call
        status, _ = await raw_call(server, "getUpdates", offset=pending[-1]["update_id"] + 1)
        assert status == 200 and await client.pending_updates() == []
        await client.wait_idle(quiet=0.05, timeout=3)

        records = await client.sent()
        assert records[0]["text"] == "选择"
        assert records[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "ok"
        assert await client.sent(since=1) == []
        calls = await client.calls()
        assert {c["method"] for c in calls} >= {"sendMessage", "getUpdates"}

        await client.set_flood(global_per_second=30, group_per_minute=2, private_per_second=1)
        await bot.send_message(grp["id"], "一")
        with pytest.raises(RetryAfter):
            await bot.send_message(grp["id"], "二")
        stats = await client.stats()
        assert stats["rate_limited"] == 1 and stats["flood"]["group_per_minute"] == 2
        assert await client.max_in_window(grp["id"], 60) == 2
        assert await client.set_flood(enabled=False) is None

        await client.fail_next("sendMessage", error_code=400, description="Bad Request: boom")
        with pytest.raises(Exception, match=r"(?i)boom"):
            await bot.send_message(grp["id"], "x")
        new_id = await client.migrate_to_supergroup(grp["id"])
        assert new_id < -1_000_000_000_000
        await client.block_bot(alice["id"])
        await client.unblock_bot(alice["id"])
        assert (await client.chat_messages(new_id))[0]["migrate_from_chat_id"] == grp["id"]
        with pytest.raises(SandboxControlError, match="unknown user"):
            await client.user_sends(new_id, 12345, "x")
        with pytest.raises(SandboxControlError, match="unknown control operation"):
            await client.call("no_such_thing")
        await bot.send_message(new_id, "好")
        assert await client.wait_sent(len(records) + 2, timeout=2) >= len(records) + 2


async def test_cli_runs_standalone(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        "--port",
        "0",
        "--flood",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 15)).decode()
        assert line.startswith("sandbox Bot API: http://127.0.0.1:")
        base_url = line.split(": ", 1)[1].strip()
        async with ptb_bot(TOKEN, base_url=base_url) as bot:
            assert bot.username == "gridbot"
            async with SandboxClient(base_url.removesuffix("/bot")) as client:
                stats = await client.stats()
                assert stats["flood"] == {
                    "global_per_second": 30,
                    "group_per_minute": 20,
                    "private_per_second": 1,
                }
                user = await client.add_user("张")
                await client.start_private(user["id"])
                (update,) = await bot.get_updates()
                assert update.message is not None and update.message.text == "/start"
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
    assert proc.returncode == 0


async def test_a_voice_note_carries_its_recording_over_the_control_api(
    server: SandboxServer,
) -> None:
    """The playground uploads what was recorded: the bytes travel base64 and are stored."""
    root = server.base_url.removesuffix("/bot")
    async with SandboxClient(root) as client:
        alice = await client.add_user("王", "阿姨")
        await client.start_private(alice["id"])
        note = await client.user_sends_voice(alice["id"], alice["id"], 3, data=b"OggS recorded")
        assert server.files[note["voice"]["file_id"]].data == b"OggS recorded"
        plain = await client.user_sends_voice(alice["id"], alice["id"], 2)
        assert server.files[plain["voice"]["file_id"]].data.startswith(b"OggS")


async def test_a_saved_sandbox_is_everything_said_and_done_and_loads_as_a_copy(
    server: SandboxServer,
) -> None:
    """``saved`` keeps what SAVED_STATE names; every other attribute belongs to the running
    server (its clock, sockets, notification, injected faults). A new attribute fails here
    until it is sorted into one or the other. A loaded state is a copy: the server that
    loaded it goes on without changing what was saved."""
    own = {
        "clock", "spec", "closing", "_changed", "host", "port", "webhook_retry_delay",
        "internal_errors", "_injections", "_runner", "_session", "_hook_tasks",
        "_in_flight", "_last_activity",
    }  # fmt: skip
    assert set(vars(server)) == set(SAVED_STATE) | own
    user = server.add_user("王", "阿姨")
    group = server.add_group("网格群", members=[user.id])
    await server.user_sends(group.id, user.id, "#报事 路灯坏了")
    saved = server.saved()

    other = SandboxServer()
    other.load(saved)
    assert other.chat_messages(group.id) == server.chat_messages(group.id)
    assert other.pending_updates(TOKEN) == server.pending_updates(TOKEN)
    await other.user_sends(group.id, user.id, "还有楼道灯")
    assert len(other.chat_messages(group.id)) == 2
    assert len(server.chat_messages(group.id)) == 1
    again = SandboxServer()
    again.load(saved)
    assert len(again.chat_messages(group.id)) == 1
