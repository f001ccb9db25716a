"""Telegram-style failures: access errors, migration, flood control, injected faults."""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)

from sandbox.flood import FloodLimits
from sandbox.models import ChatState, SandboxUser
from sandbox.server import SandboxServer
from tests.sandbox.conftest import TOKEN, FakeClock, ptb_bot, raw_call


async def test_private_chat_access(server: SandboxServer, bot: Bot, alice: SandboxUser) -> None:
    with pytest.raises(Forbidden, match=r"(?i)bot can't initiate conversation with a user"):
        await bot.send_message(alice.id, "你好")
    await server.start_private(alice.id)
    await bot.send_message(alice.id, "你好")
    server.block_bot(alice.id)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(alice.id, "还在吗")
    kinds = [next(k for k in u if k != "update_id") for u in server.pending_updates()]
    assert kinds == ["message", "my_chat_member"]
    assert server.pending_updates()[-1]["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(42, "?")


async def test_group_membership_errors(
    server: SandboxServer, bot: Bot, alice: SandboxUser
) -> None:
    outside = server.add_group("别的群", [alice.id], bot_is_member=False)
    with pytest.raises(Forbidden, match=r"(?i)bot is not a member of the group chat"):
        await bot.send_message(outside.id, "x")
    sg = server.add_group("超级群", [alice.id], supergroup=True)
    assert str(sg.id).startswith("-100")
    await bot.send_message(sg.id, "在")
    await server.remove_bot(sg.id, by_user_id=alice.id)
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked from the supergroup chat"):
        await bot.send_message(sg.id, "x")
    update = (await bot.get_updates())[-1]
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"
    await server.add_bot_to_group(outside.id, by_user_id=alice.id)
    await bot.send_message(outside.id, "大家好")


async def test_migrated_group(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser
) -> None:
    new_id = await server.migrate_to_supergroup(group.id)
    assert str(new_id).startswith("-100")
    with pytest.raises(ChatMigrated) as info:
        await bot.send_message(group.id, "x")
    assert info.value.new_chat_id == new_id
    status, body = await raw_call(server, "sendMessage", chat_id=group.id, text="x")
    assert (status, body["description"]) == (
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
    )
    assert body["parameters"] == {"migrate_to_chat_id": new_id}
    await bot.send_message(new_id, "迁移后")
    updates = await bot.get_updates()
    service = [u.message for u in updates if u.message]
    assert service[0].migrate_to_chat_id == new_id
    assert service[1].migrate_from_chat_id == group.id
    await server.user_sends(new_id, alice.id, "新群也能说话")


async def test_unknown_token_and_method(server: SandboxServer) -> None:
    with pytest.raises(InvalidToken, match="rejected by the server"):
        async with ptb_bot("999:NOPE", base_url=server.base_url):
            pass
    assert await raw_call(server, "getMe", token="999:NOPE") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert (await raw_call(server, "getMe", token="garbage"))[0] == 404
    status, body = await raw_call(server, "noSuchMethod")
    assert (status, body["description"]) == (404, "Not Found: method not found")


@pytest.fixture
async def flood_server(clock: FakeClock) -> AsyncIterator[SandboxServer]:
    srv = SandboxServer(
        flood=FloodLimits(global_per_second=30, group_per_minute=20, private_per_second=1),
        clock=clock,
    )
    srv.add_bot(TOKEN)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


async def test_flood_control_group_window(flood_server: SandboxServer, clock: FakeClock) -> None:
    srv = flood_server
    alice = srv.add_user("王")
    grp = srv.add_group("群", [alice.id])
    async with ptb_bot(TOKEN, base_url=srv.base_url) as bot:
        for i in range(20):
            await bot.send_message(grp.id, f"第{i}条")
            clock.advance(0.5)  # 20 messages in 10 s
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(grp.id, "太快了")
        assert info.value.retry_after == dtm.timedelta(seconds=50)
        assert srv.stats.rate_limited == 1
        clock.advance(50)
        await bot.send_message(grp.id, "窗口空出来了")
        with pytest.raises(RetryAfter):
            await bot.edit_message_text("改", grp.id, 1)
    assert srv.max_in_window(grp.id, 60) == 20
    assert srv.max_in_window_global(1) <= 30
    assert srv.stats.rate_limited == 2


async def test_flood_control_private_and_global(
    flood_server: SandboxServer, clock: FakeClock
) -> None:
    srv = flood_server
    users = [srv.add_user(f"居民{i}") for i in range(31)]
    async with ptb_bot(TOKEN, base_url=srv.base_url) as bot:
        for user in users:
            await srv.start_private(user.id)
        await bot.send_message(users[0].id, "一")
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(users[0].id, "二")
        assert info.value.retry_after == dtm.timedelta(seconds=1)
        for user in users[1:30]:
            await bot.send_message(user.id, "群发")
        with pytest.raises(RetryAfter):  # 31st message within one second: global limit
            await bot.send_message(users[30].id, "群发")
        clock.advance(1.0)
        await bot.send_message(users[30].id, "群发")
    assert srv.max_in_window_global(1.0) == 30
    assert srv.max_in_window(users[0].id, 1.0) == 1
    srv.set_flood(None)
    async with ptb_bot(TOKEN, base_url=srv.base_url) as bot:
        await bot.send_message(users[0].id, "不限速了")
        await bot.send_message(users[0].id, "不限速了")
    assert srv.max_in_window(users[0].id, 1.0) == 2


async def test_fail_next_and_drop_connection(
    server: SandboxServer, bot: Bot, group: ChatState
) -> None:
    server.fail_next("sendMessage", error_code=429, retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(group.id, "x")
    assert info.value.retry_after == dtm.timedelta(seconds=7)
    assert server.stats.rate_limited == 1
    server.fail_next(
        "sendMessage", error_code=403, description="Forbidden: custom", chat_id=group.id, count=2
    )
    for _ in range(2):
        with pytest.raises(Forbidden, match=r"(?i)custom"):
            await bot.send_message(group.id, "x")
    await bot.send_message(group.id, "ok now")
    server.drop_connection_next("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(group.id, "lost request")
    server.drop_connection_next("sendMessage", after_processing=True)
    with pytest.raises(NetworkError):
        await bot.send_message(group.id, "lost response")
    texts = [m["text"] for m in server.chat_messages(group.id)]
    assert texts == ["ok now", "lost response"]  # the second one was executed
    assert server.stats.dropped_connections == 2
    assert [c.status for c in server.calls if c.method == "sendMessage"] == [
        429,
        403,
        403,
        200,
        0,
        0,
    ]
