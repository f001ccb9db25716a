"""getUpdates semantics and a full PTB Application polling against the sandbox."""

from __future__ import annotations

import asyncio
import time

import pytest
from telegram import Bot, Update
from telegram.error import Conflict
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from sandbox.models import ChatState, SandboxUser
from sandbox.server import SandboxServer
from tests.sandbox.conftest import TOKEN, FakeClock, ptb_bot


async def test_offset_confirmation(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser
) -> None:
    for i in range(3):
        await server.user_sends(group.id, alice.id, f"消息{i}")
    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["消息0", "消息1", "消息2"]
    ids = [u.update_id for u in first]
    assert ids == sorted(ids) and len(set(ids)) == 3
    again = await bot.get_updates()  # not confirmed yet
    assert [u.update_id for u in again] == ids
    part = await bot.get_updates(offset=ids[1], limit=1)
    assert [u.update_id for u in part] == [ids[1]]
    assert [u["update_id"] for u in server.pending_updates()] == ids[1:]
    assert await bot.get_updates(offset=ids[-1] + 1) == ()
    assert server.pending_updates() == []


async def test_negative_offset_keeps_the_tail(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser
) -> None:
    for i in range(4):
        await server.user_sends(group.id, alice.id, str(i))
    tail = await bot.get_updates(offset=-2)
    assert [u.message.text for u in tail if u.message] == ["2", "3"]
    assert len(server.pending_updates()) == 2


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await server.wait_for(lambda s: s.bots[TOKEN].poll_generation == 1, timeout=2)
    await server.user_sends(group.id, alice.id, "到了")
    updates = await asyncio.wait_for(poll, 3)
    assert [u.message.text for u in updates if u.message] == ["到了"]
    assert time.monotonic() - started < 2


async def test_long_poll_times_out_empty_on_the_sandbox_clock(clock: FakeClock) -> None:
    """A long poll stays open until its timeout has passed on the sandbox's clock, then
    returns nothing; the test moves that clock instead of waiting out the seconds."""
    async with SandboxServer(clock=clock) as server:
        server.add_bot(TOKEN, username="gridbot", first_name="网格通")
        user = server.add_user("王", "阿姨")
        group = server.add_group("楼栋群", members=[user.id])
        polls = server.bots[TOKEN]
        async with ptb_bot(TOKEN, base_url=server.base_url) as bot:
            first = asyncio.create_task(bot.get_updates(timeout=30))
            await server.wait_for(lambda _: polls.poll_generation == 1)
            clock.advance(29)
            server.notify()  # a second short of its timeout: a message still arrives in it
            await server.user_sends(group.id, user.id, "还在等")
            updates = await first
            assert [u.message.text for u in updates if u.message] == ["还在等"]
            second = asyncio.create_task(
                bot.get_updates(offset=updates[-1].update_id + 1, timeout=30)
            )
            await server.wait_for(lambda _: polls.poll_generation == 2)
            clock.advance(30)
            server.notify()
            assert await asyncio.wait_for(second, 5) == ()  # not the 30 real seconds


async def test_concurrent_getupdates_conflict(server: SandboxServer, bot: Bot) -> None:
    # Like Telegram, the *older* long poll is terminated when a second instance polls.
    older = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_for(lambda s: s.bots[TOKEN].poll_generation == 1)
    async with ptb_bot(TOKEN, base_url=server.base_url) as second_instance:
        newer = asyncio.create_task(second_instance.get_updates(timeout=0))
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates request"):
            await asyncio.wait_for(older, 3)
        assert await newer == ()
    assert sorted(c.status for c in server.calls if c.method == "getUpdates") == [200, 409]


async def test_allowed_updates_is_remembered(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser
) -> None:
    await bot.get_updates(allowed_updates=["callback_query"])
    await server.user_sends(group.id, alice.id, "被过滤")
    assert await bot.get_updates() == ()
    msg = await bot.send_message(
        group.id,
        "按钮",
        reply_markup={"inline_keyboard": [[{"text": "好", "callback_data": "ok"}]]},
    )
    await server.press_button(group.id, msg.message_id, alice.id, "ok")
    updates = await bot.get_updates()
    assert [u.callback_query.data for u in updates if u.callback_query] == ["ok"]
    await bot.get_updates(offset=updates[-1].update_id + 1, allowed_updates=[])
    await server.user_sends(group.id, alice.id, "默认恢复")
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["默认恢复"]


async def test_queued_updates_follow_a_change_of_allowed_updates(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser
) -> None:
    """A queue is filtered again when allowed_updates changes (not on every getUpdates: the
    walk over a long queue cost the sandbox a quarter of its CPU, issue #15 item 6)."""
    await server.user_sends(group.id, alice.id, "先到")
    assert len(await bot.get_updates()) == 1  # filtered once for the default
    assert await bot.get_updates(allowed_updates=["callback_query"]) == ()
    assert server.pending_updates() == []


async def test_confirming_an_offset_drops_every_lower_update_in_any_order(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser
) -> None:
    for text in ("一", "二"):
        await server.user_sends(group.id, alice.id, text)
    high = server.inject_raw_update({"update_id": 10**9, "weird_update": {}})
    low = server.inject_raw_update({"update_id": 5, "weird_update": {}})  # out of order
    await server.user_sends(group.id, alice.id, "三")
    ids = [u["update_id"] for u in server.pending_updates()]
    assert ids[2:4] == [high["update_id"], low["update_id"]]
    await bot.get_updates(offset=ids[1] + 1)  # confirms both messages and the low one
    assert [u["update_id"] for u in server.pending_updates()] == [high["update_id"], ids[-1]]


async def test_chat_member_updates_need_opt_in_and_admin(
    server: SandboxServer, bot: Bot, alice: SandboxUser, bob: SandboxUser
) -> None:
    admin_group = server.add_group("管理群", [alice.id], bot_is_admin=True)
    await server.join(admin_group.id, bob.id)
    kinds = [k for u in server.pending_updates() for k in u if k != "update_id"]
    assert kinds == ["message"]  # chat_member is not delivered by default
    await bot.get_updates(offset=-1, allowed_updates=list(Update.ALL_TYPES))
    await bot.get_updates(offset=server.pending_updates()[-1]["update_id"] + 1)
    await server.leave(admin_group.id, bob.id)
    updates = await bot.get_updates()
    assert updates[0].message is not None and updates[0].message.left_chat_member is not None
    assert updates[1].chat_member is not None
    assert updates[1].chat_member.new_chat_member.status == "left"


async def test_raw_updates_are_passed_through(server: SandboxServer, bot: Bot) -> None:
    raw = server.inject_raw_update({"weird_update": {"x": 1}})
    assert raw["update_id"] >= 1
    injected = await bot.get_updates()
    assert injected[0].update_id == raw["update_id"]
    assert injected[0].api_kwargs == {"weird_update": {"x": 1}}


async def test_application_polling_end_to_end(
    server: SandboxServer, group: ChatState, alice: SandboxUser
) -> None:
    seen: list[str] = []

    async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id,
            "欢迎",
            reply_markup={"inline_keyboard": [[{"text": "报修", "callback_data": "report"}]]},
        )

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        seen.append(update.message.text)

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("已收到", show_alert=True)
        await update.callback_query.edit_message_text("请描述问题")

    app: Application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            await server.start_private(alice.id)
            welcome = await server.wait_for(
                lambda s: next((r for r in s.sent if r.text == "欢迎"), None)
            )
            await server.user_sends(group.id, alice.id, "楼道灯不亮")
            await server.press_button(alice.id, welcome.message_id, alice.id, button_text="报修")
            await server.wait_for(lambda s: s.sent[-1].text == "请描述问题")
            await server.wait_for(lambda s: seen == ["楼道灯不亮"])
            assert server.callback_answers[0].text == "已收到"
            assert server.callback_answers[0].show_alert is True
        finally:
            await app.updater.stop()
            await app.stop()
    assert server.pending_updates() == []
    assert server.unknown_params == []


async def test_privacy_mode_and_second_bot(
    server: SandboxServer, bot: Bot, alice: SandboxUser
) -> None:
    server.add_bot(
        TOKEN, username="gridbot", first_name="网格通", can_read_all_group_messages=False
    )
    other = server.add_bot("777:OTHER", username="otherbot", first_name="其他")
    grp = server.add_group("隐私群", [alice.id])
    grp.members[other.id] = grp.members[server.bot_for().id]
    own = await bot.send_message(grp.id, "机器人消息")
    await server.user_sends(grp.id, alice.id, "闲聊")
    await server.user_sends(grp.id, alice.id, "/report@gridbot 漏水")
    await server.user_sends(grp.id, alice.id, "/help@otherbot")
    await server.user_sends(grp.id, alice.id, "回复", reply_to_message_id=own.message_id)
    await server.user_edits(grp.id, alice.id, 2, "闲聊（改）")
    seen = [u.effective_message.text for u in await bot.get_updates() if u.effective_message]
    assert seen == ["/report@gridbot 漏水", "回复"]
    other_seen = [
        u["message"]["text"] if "message" in u else "edit:" + u["edited_message"]["text"]
        for u in server.pending_updates("777:OTHER")
    ]
    assert other_seen == [
        "闲聊",
        "/report@gridbot 漏水",
        "/help@otherbot",
        "回复",
        "edit:闲聊（改）",
    ]
    me = await bot.get_me()
    assert me.can_read_all_group_messages is False


async def test_bot_added_to_group_gets_both_updates(
    server: SandboxServer, bot: Bot, alice: SandboxUser
) -> None:
    grp = server.add_group("新群", [alice.id], bot_is_member=False)
    await server.add_bot_to_group(grp.id, by_user_id=alice.id)
    first, second = await bot.get_updates()
    assert first.my_chat_member is not None
    assert first.my_chat_member.old_chat_member.status == "left"
    assert first.my_chat_member.new_chat_member.status == "member"
    assert second.message is not None and second.message.new_chat_members[0].id == bot.id
