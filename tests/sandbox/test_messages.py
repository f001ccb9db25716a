"""Sending, editing and deleting messages through the real PTB Bot."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyKeyboardMarkup,
    ReplyParameters,
)
from telegram.error import BadRequest

from sandbox.models import ChatState, SandboxUser
from sandbox.server import SandboxServer
from tests.sandbox.conftest import raw_call


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in pairs]])


async def test_send_message_with_inline_keyboard_is_recorded(
    server: SandboxServer, bot: Bot, group: ChatState
) -> None:
    msg = await bot.send_message(group.id, "请选择", reply_markup=keyboard(("受理", "ok:1")))
    assert isinstance(msg, Message)
    assert msg.chat.title == "阅海湾一网格"
    assert msg.from_user is not None and msg.from_user.username == "gridbot"
    record = server.sent[-1]
    assert (record.method, record.chat_id, record.message_id) == ("sendMessage", group.id, 1)
    assert record.text == "请选择"
    assert record.reply_markup == {
        "inline_keyboard": [[{"text": "受理", "callback_data": "ok:1"}]]
    }
    second = await bot.send_message(group.id, "第二条")
    assert second.message_id == 2  # per-chat increasing ids
    assert server.unknown_params == []


async def test_html_is_parsed_into_entities(bot: Bot, group: ChatState) -> None:
    msg = await bot.send_message(
        group.id,
        "<b>工单</b> &lt;3&gt; <a href='https://ex.com/a?b=1'>详情</a>",
        parse_mode="HTML",
    )
    assert msg.text == "工单 <3> 详情"
    types = [(e.type, e.offset, e.length) for e in msg.entities]
    assert types == [("bold", 0, 2), ("text_link", 7, 2)]
    assert msg.entities[1].url == "https://ex.com/a?b=1"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("<b>未闭合", 'end tag corresponding to start tag "b"'),
        ("<b><i>交叉</b></i>", "Unmatched end tag"),
        ("<div>块</div>", 'Unsupported start tag "div"'),
        ("<span>x</span>", 'must have class "tg-spoiler"'),
        ("a </b>", "Unexpected end tag"),
    ],
)
async def test_malformed_html_is_rejected(
    bot: Bot, group: ChatState, text: str, fragment: str
) -> None:
    with pytest.raises(BadRequest, match="parse entities") as info:
        await bot.send_message(group.id, text, parse_mode="HTML")
    assert fragment.lower() in str(info.value).lower()  # PTB lower-cases the message


async def test_text_is_trimmed_and_empty_rejected(bot: Bot, group: ChatState) -> None:
    msg = await bot.send_message(group.id, "\n  <b>你好</b>  \n", parse_mode="HTML")
    assert msg.text == "你好"
    assert [(e.offset, e.length) for e in msg.entities] == [(0, 2)]
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(group.id, "  <b></b> ", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(group.id, "长" * 4097)
    await bot.send_message(group.id, "长" * 4096)


async def test_callback_data_limit(bot: Bot, group: ChatState) -> None:
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(group.id, "x", reply_markup=keyboard(("a", "x" * 65)))
    # 64 bytes is fine, but 22 CJK characters are 66 bytes
    await bot.send_message(group.id, "x", reply_markup=keyboard(("a", "x" * 64)))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(group.id, "x", reply_markup=keyboard(("a", "报" * 22)))


async def test_other_keyboards_and_bad_buttons(bot: Bot, group: ChatState) -> None:
    await bot.send_message(group.id, "x", reply_markup=ReplyKeyboardMarkup([["是", "否"]]))
    await bot.send_message(group.id, "x", reply_markup=ForceReply())
    url = InlineKeyboardMarkup([[InlineKeyboardButton("打开", url="https://example.com")]])
    msg = await bot.send_message(group.id, "x", reply_markup=url)
    assert msg.reply_markup == url
    bad_url = InlineKeyboardMarkup([[InlineKeyboardButton("打开", url="notaurl")]])
    with pytest.raises(BadRequest, match="is invalid"):
        await bot.send_message(group.id, "x", reply_markup=bad_url)
    with pytest.raises(BadRequest, match=r"(?i)Text buttons are unallowed"):
        await bot.send_message(group.id, "x", reply_markup={"inline_keyboard": [[{"text": "x"}]]})
    with pytest.raises(BadRequest, match="non-empty"):
        await bot.send_message(group.id, "x", reply_markup=keyboard(("", "d")))


async def test_reply_parameters_and_link_preview(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser
) -> None:
    question = await server.user_sends(group.id, alice.id, "电梯坏了")
    msg = await bot.send_message(
        group.id,
        "收到",
        reply_parameters=ReplyParameters(question["message_id"]),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        disable_notification=True,
    )
    assert msg.reply_to_message is not None
    assert msg.reply_to_message.text == "电梯坏了"
    assert msg.link_preview_options == LinkPreviewOptions(is_disabled=True)
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(group.id, "x", reply_parameters=ReplyParameters(999))
    ok = await bot.send_message(
        group.id, "x", reply_parameters=ReplyParameters(999, allow_sending_without_reply=True)
    )
    assert ok.reply_to_message is None


async def test_edit_text_and_markup(server: SandboxServer, bot: Bot, group: ChatState) -> None:
    msg = await bot.send_message(group.id, "待处理", reply_markup=keyboard(("受理", "a")))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "待处理", group.id, msg.message_id, reply_markup=keyboard(("受理", "a"))
        )
    edited = await bot.edit_message_text("已受理", group.id, msg.message_id)
    assert isinstance(edited, Message)
    assert edited.text == "已受理" and edited.edit_date is not None
    assert edited.reply_markup is None  # Telegram drops the keyboard when not re-sent
    done = keyboard(("完成", "done"))
    again = await bot.edit_message_reply_markup(group.id, msg.message_id, reply_markup=done)
    assert isinstance(again, Message) and again.reply_markup == keyboard(("完成", "done"))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(
            group.id, msg.message_id, reply_markup=keyboard(("完成", "done"))
        )
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", group.id, 999)
    state = server.chat_messages(group.id)[-1]
    assert state["text"] == "已受理"
    assert state["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "done"
    assert [s.method for s in server.sent] == [
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
    ]


async def test_cannot_edit_user_messages(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser
) -> None:
    theirs = await server.user_sends(group.id, alice.id, "hello")
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("x", group.id, theirs["message_id"])


async def test_delete_message(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser
) -> None:
    msg = await bot.send_message(group.id, "临时")
    assert await bot.delete_message(group.id, msg.message_id) is True
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(group.id, msg.message_id)
    theirs = await server.user_sends(group.id, alice.id, "广告")
    with pytest.raises(BadRequest, match=r"(?i)message can't be deleted"):
        await bot.delete_message(group.id, theirs["message_id"])
    group.members[server.bot_for().id].status = "administrator"
    assert await bot.delete_message(group.id, theirs["message_id"])
    assert server.chat_messages(group.id) == []
    assert len(server.chat_messages(group.id, include_deleted=True)) == 2


async def test_markdown_v2(bot: Bot, group: ChatState) -> None:
    msg = await bot.send_message(
        group.id, r"*粗体* _斜体_ 价格 1\.5 [链接](https://a.io)", parse_mode="MarkdownV2"
    )
    assert msg.text == "粗体 斜体 价格 1.5 链接"
    assert [e.type for e in msg.entities] == ["bold", "italic", "text_link"]
    with pytest.raises(BadRequest, match="reserved"):
        await bot.send_message(group.id, "价格 1.5", parse_mode="MarkdownV2")


async def test_missing_required_parameter(server: SandboxServer, group: ChatState) -> None:
    status, body = await raw_call(server, "sendMessage", text="x")
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")
    status, body = await raw_call(server, "sendmessage", json_body=True, chat_id=group.id)
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")
    status, body = await raw_call(server, "answerCallbackQuery")
    assert body == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: callback_query_id is required",
    }
    status, body = await raw_call(
        server,
        "SENDMESSAGE",
        json_body=True,
        chat_id=group.id,
        text="大小写",
        reply_markup={"inline_keyboard": []},
    )
    assert status == 200 and body["ok"] is True


async def test_unknown_parameters_are_recorded(
    server: SandboxServer, bot: Bot, group: ChatState
) -> None:
    await bot.send_message(group.id, "x", api_kwargs={"parse_mod": "HTML"})
    assert server.unknown_params == [("sendMessage", "parse_mod")]
