"""Entity detection and formatting, checked against PTB's own entity parsing."""

from __future__ import annotations

import pytest
from telegram import Bot, Message

from sandbox.entities import EntityParseError, derive_entities, parse_html, utf16_len
from sandbox.markdown import parse_markdown, parse_markdown_v2
from sandbox.models import ChatState, SandboxUser
from sandbox.server import SandboxServer


def test_utf16_len_counts_surrogate_pairs() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("报修") == 2
    assert utf16_len("😀") == 2
    assert utf16_len("👨‍👩‍👧") == 8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#报修 电梯", [("hashtag", "#报修")]),
        ("😀 #报修，谢谢", [("hashtag", "#报修")]),
        ("看这个#报修", []),  # must not be glued to a preceding letter
        ("#123", []),
        ("/start", [("bot_command", "/start")]),
        ("/report@gridbot 5号楼", [("bot_command", "/report@gridbot")]),
        ("请 @wang_ayi 看看", [("mention", "@wang_ayi")]),
        ("见 https://example.com/a?b=1。", [("url", "https://example.com/a?b=1")]),
        ("邮件 a.b@example.com", [("email", "a.b@example.com")]),
        (
            "🏠#物业 #停车 /help",
            [("hashtag", "#物业"), ("hashtag", "#停车"), ("bot_command", "/help")],
        ),
    ],
)
def test_derive_entities(text: str, expected: list[tuple[str, str]]) -> None:
    msg = Message.de_json(
        {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 1, "type": "private"},
            "text": text,
            "entities": derive_entities(text),
        },
        None,
    )
    assert [(e.type, v) for e, v in msg.parse_entities().items()] == expected


async def test_user_message_entities_parse_with_ptb(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser
) -> None:
    text = "🚨👨‍👩‍👧 #电梯故障 在 3号楼，@wang_ayi /report@gridbot"
    await server.user_sends(group.id, alice.id, text)
    (update,) = await bot.get_updates()
    assert update.message is not None
    parsed = {e.type: v for e, v in update.message.parse_entities().items()}
    assert parsed == {
        "hashtag": "#电梯故障",
        "mention": "@wang_ayi",
        "bot_command": "/report@gridbot",
    }
    hashtag = update.message.entities[0]
    assert hashtag.offset == utf16_len("🚨👨‍👩‍👧 ")


async def test_bot_html_entities_offsets_in_utf16(bot: Bot, group: ChatState) -> None:
    msg = await bot.send_message(
        group.id, "😀 <b>加粗</b> #标签 <code>x&amp;y</code>", parse_mode="HTML"
    )
    assert msg.text == "😀 加粗 #标签 x&y"
    assert {e.type: v for e, v in msg.parse_entities().items()} == {
        "bold": "加粗",
        "hashtag": "#标签",
        "code": "x&y",
    }


def test_html_parser_details() -> None:
    text, ents = parse_html('<pre><code class="language-python">print(1)</code></pre>')
    assert text == "print(1)"
    assert ents == [{"type": "pre", "offset": 0, "length": 8, "language": "python"}]
    text, ents = parse_html(
        "<tg-spoiler>秘</tg-spoiler><span class='tg-spoiler'>密</span>"
        "<blockquote expandable>引用</blockquote>"
    )
    assert [e["type"] for e in ents] == ["spoiler", "spoiler", "expandable_blockquote"]
    text, ents = parse_html('<a href="tg://user?id=5">某人</a> &#128512; &unknown; a&b')
    assert text == "某人 😀 &unknown; a&b"
    assert ents[0]["type"] == "text_mention" and ents[0]["user"]["id"] == 5
    with pytest.raises(EntityParseError, match="Unclosed start tag at byte offset 6"):
        parse_html("报修<b")  # offsets in errors are UTF-8 byte offsets, like Telegram's
    with pytest.raises(EntityParseError, match='Unsupported start tag "" at byte offset 2'):
        parse_html("1 < 2")


def test_markdown_v2_details() -> None:
    text, ents = parse_markdown_v2("__下划线__ ||剧透|| ~删除~ `代码\\`` ```py\nx = 1```")
    assert text == "下划线 剧透 删除 代码` x = 1"
    types = [(e["type"], e.get("language")) for e in ents]
    assert types == [
        ("underline", None),
        ("spoiler", None),
        ("strikethrough", None),
        ("code", None),
        ("pre", "py"),
    ]
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity"):
        parse_markdown_v2("*未结束")


def test_legacy_markdown() -> None:
    text, ents = parse_markdown("*粗* _斜_ `码` [链](https://a.io) a\\_b")
    assert text == "粗 斜 码 链 a_b"
    assert [e["type"] for e in ents] == ["bold", "italic", "code", "text_link"]
    with pytest.raises(EntityParseError, match="Can't find end of the entity"):
        parse_markdown("*未结束")
