"""Files, polls, chat/member queries, commands, pins and other chat methods."""

from __future__ import annotations

import io

import pytest
from telegram import Bot, BotCommand, BotCommandScopeAllGroupChats, InputFile, InputMediaPhoto
from telegram.error import BadRequest

from sandbox.models import ChatState, SandboxUser, UploadedFile
from sandbox.server import SandboxServer
from sandbox.spec import load_spec
from sandbox.users import TINY_PNG


async def test_bot_uploads_photo_and_document(
    server: SandboxServer, bot: Bot, group: ChatState
) -> None:
    png = TINY_PNG
    photo_msg = await bot.send_photo(group.id, png, caption="<i>现场</i>", parse_mode="HTML")
    assert photo_msg.caption == "现场" and photo_msg.caption_entities[0].type == "italic"
    assert photo_msg.photo[-1].width == 1 and photo_msg.photo[-1].file_size == len(png)
    upload = server.sent[-1].params["photo"]
    assert isinstance(upload, UploadedFile) and upload.data == png
    doc = await bot.send_document(
        group.id, InputFile(io.BytesIO(b"a,b\n1,2\n"), filename="台账.csv")
    )
    assert doc.document is not None
    assert (doc.document.file_name, doc.document.file_size) == ("台账.csv", 8)
    assert doc.document.mime_type == "text/csv"
    again = await bot.send_document(group.id, doc.document.file_id)  # resend by file_id
    assert again.document is not None and again.document.file_name == "台账.csv"
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(group.id, "no-such-file-id")


async def test_user_files_can_be_downloaded(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser, bob: SandboxUser
) -> None:
    await server.user_sends_photo(group.id, alice.id, caption="漏水 #报修", image_bytes=TINY_PNG)
    await server.user_sends_document(group.id, bob.id, "名单.xlsx", b"PK\x03\x04xlsx")
    await server.user_sends_sticker(group.id, bob.id)
    photo_update, doc_update, sticker_update = await bot.get_updates()
    assert photo_update.message is not None and doc_update.message is not None
    assert photo_update.message.caption_entities[0].type == "hashtag"
    photo_file = await photo_update.message.photo[-1].get_file()
    assert bytes(await photo_file.download_as_bytearray()) == TINY_PNG
    assert doc_update.message.document is not None
    doc_file = await doc_update.message.document.get_file()
    assert bytes(await doc_file.download_as_bytearray()) == b"PK\x03\x04xlsx"
    assert sticker_update.message is not None and sticker_update.message.sticker is not None
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nope")


async def test_polls_and_votes(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser, bob: SandboxUser
) -> None:
    msg = await bot.send_poll(
        group.id,
        "周六几点开会？",
        ["上午", "下午", "晚上"],
        is_anonymous=False,
        allows_multiple_answers=True,
    )
    assert msg.poll is not None
    await server.vote_poll(msg.poll.id, alice.id, [0, 2])
    await server.vote_poll(msg.poll.id, bob.id, [2])
    updates = await bot.get_updates()
    answers = [u.poll_answer for u in updates if u.poll_answer]
    assert [(a.user.id, a.option_ids) for a in answers if a.user] == [
        (alice.id, (0, 2)),
        (bob.id, (2,)),
    ]
    last_poll = [u.poll for u in updates if u.poll][-1]
    assert [o.voter_count for o in last_poll.options] == [1, 0, 2]
    assert last_poll.total_voter_count == 2
    stopped = await bot.stop_poll(group.id, msg.message_id)
    assert stopped.is_closed
    with pytest.raises(BadRequest, match=r"(?i)poll has already been closed"):
        await bot.stop_poll(group.id, msg.message_id)
    with pytest.raises(BadRequest, match=r"(?i)poll question length"):
        await bot.send_poll(group.id, "问" * 301, ["a", "b"])
    with pytest.raises(BadRequest, match=r"(?i)poll must have 1-12 options"):
        await bot.send_poll(group.id, "问", [str(i) for i in range(13)])
    with pytest.raises(BadRequest, match=r"(?i)poll options length"):
        await bot.send_poll(group.id, "问", ["a", "b" * 101])
    quiz = await bot.send_poll(group.id, "1+1?", ["1", "2"], type="quiz", correct_option_ids=[1])
    assert quiz.poll is not None and quiz.poll.correct_option_ids == (1,)


async def test_chat_and_member_queries(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser, bob: SandboxUser
) -> None:
    chat = await bot.get_chat(group.id)
    assert (chat.title, chat.type) == ("阅海湾一网格", "group")
    assert await bot.get_chat_member_count(group.id) == 3  # two residents + the bot
    owner = await bot.get_chat_member(group.id, alice.id)
    assert owner.status == "creator"
    assert (await bot.get_chat_member(group.id, bob.id)).status == "member"
    admins = await bot.get_chat_administrators(group.id)
    assert [a.user.id for a in admins] == [alice.id]
    stranger = server.add_user("陌生人")
    assert (await bot.get_chat_member(group.id, stranger.id)).status == "left"
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.get_chat(stranger.id)
    await server.start_private(stranger.id)
    private = await bot.get_chat(stranger.id)
    assert private.first_name == "陌生人" and private.type == "private"


async def test_commands_pin_action_leave(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser
) -> None:
    cmds = [BotCommand("report", "报修"), BotCommand("status", "查询进度")]
    assert await bot.set_my_commands(cmds)
    assert await bot.set_my_commands(cmds[:1], scope=BotCommandScopeAllGroupChats())
    assert tuple(await bot.get_my_commands()) == tuple(cmds)
    assert len(await bot.get_my_commands(scope=BotCommandScopeAllGroupChats())) == 1
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    msg = await bot.send_message(group.id, "公告")
    with pytest.raises(BadRequest, match=r"(?i)not enough rights"):
        await bot.pin_chat_message(group.id, msg.message_id)
    group.members[server.bot_for().id].status = "administrator"
    assert await bot.pin_chat_message(group.id, msg.message_id)
    pinned = (await bot.get_chat(group.id)).pinned_message
    assert pinned is not None and pinned.message_id == msg.message_id
    assert server.chat_messages(group.id)[-1]["pinned_message"]["text"] == "公告"
    assert await bot.unpin_chat_message(group.id)
    assert (await bot.get_chat(group.id)).pinned_message is None
    assert await bot.send_chat_action(group.id, "typing")
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(group.id, "dancing")
    assert await bot.leave_chat(group.id)
    update = (await bot.get_updates())[-1]
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "left"


async def test_answer_callback_query_once(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser
) -> None:
    msg = await bot.send_message(
        group.id,
        "选",
        reply_markup={
            "inline_keyboard": [
                [{"text": "甲", "callback_data": "a"}, {"text": "乙", "callback_data": "b"}]
            ]
        },
    )
    cq_id = await server.press_button(group.id, msg.message_id, alice.id, button_text="乙")
    (update,) = await bot.get_updates()
    assert update.callback_query is not None and update.callback_query.data == "b"
    assert update.callback_query.id == cq_id
    with pytest.raises(BadRequest, match=r"(?i)MESSAGE_TOO_LONG"):
        await update.callback_query.answer("长" * 201)
    assert await update.callback_query.answer("好")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await update.callback_query.answer("再来")
    forged = await server.press_button(group.id, msg.message_id, alice.id, "evil", forge=True)
    assert server.callbacks[forged].data == "evil"
    with pytest.raises(Exception, match="no matching callback button"):
        await server.press_button(group.id, msg.message_id, alice.id, "evil")
    assert [(a.text, a.show_alert) for a in server.callback_answers] == [("好", False)]


async def test_albums_both_ways(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser
) -> None:
    """A user's album arrives as photos sharing a media_group_id (the caption on one); the
    bot sends one with sendMediaGroup, by file_id, and gets one Message per photo."""
    await server.user_sends_photo(group.id, alice.id, media_group_id="77")
    await server.user_sends_photo(group.id, alice.id, caption="#报事 漏水", media_group_id="77")
    first, second = await bot.get_updates()
    assert first.message is not None and second.message is not None
    assert first.message.media_group_id == second.message.media_group_id == "77"
    assert first.message.caption is None and second.message.caption == "#报事 漏水"
    spec = load_spec()
    assert spec.validate_object("Message", first.message.to_dict()) == []
    ids = [first.message.photo[-1].file_id, second.message.photo[-1].file_id]
    album = await bot.send_media_group(
        group.id, [InputMediaPhoto(ids[0], caption="#1 现场照片"), InputMediaPhoto(ids[1])]
    )
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    assert album[0].caption == "#1 现场照片" and album[1].photo
    assert server.sent[-1].method == "sendMediaGroup"
    with pytest.raises(BadRequest, match="2-10"):
        await bot.send_media_group(group.id, [InputMediaPhoto(ids[0])])


async def test_voice_notes_both_ways(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser
) -> None:
    """A user's voice note carries a Voice (file id, duration, audio/ogg); the bot passes it on
    with sendVoice by file_id; a photo's file id is no voice note."""
    await server.user_sends_voice(group.id, alice.id, 17, caption="#报事")
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.voice is not None
    voice = update.message.voice
    assert (voice.duration.total_seconds(), voice.mime_type) == (17, "audio/ogg")
    assert load_spec().validate_object("Message", update.message.to_dict()) == []
    data = await (await voice.get_file()).download_as_bytearray()
    assert bytes(data).startswith(b"OggS")
    sent = await bot.send_voice(group.id, voice.file_id, caption="#1 语音")
    assert sent.voice is not None and sent.voice.file_id == voice.file_id
    assert sent.voice.duration.total_seconds() == 17 and sent.caption == "#1 语音"
    photo = await server.user_sends_photo(group.id, alice.id)
    with pytest.raises(BadRequest, match=r"(?i)wrong file type"):
        await bot.send_voice(group.id, photo["photo"][-1]["file_id"])


async def test_locations_and_venues_both_ways(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser
) -> None:
    """Issue #18 item 3: a user shares a location or a venue; the bot sends either back."""
    await server.start_private(alice.id)
    pin = await server.user_sends_location(alice.id, alice.id, 38.4872, 106.2309)
    assert pin["location"] == {"latitude": 38.4872, "longitude": 106.2309}
    shop = await server.user_sends_location(
        group.id, alice.id, 38.49, 106.23, title="阅海湾菜市场", address="亲水大街 88 号"
    )
    assert shop["venue"]["title"] == "阅海湾菜市场"
    assert shop["location"] == shop["venue"]["location"]
    updates = await bot.get_updates()
    seen = [u.message for u in updates if u.message is not None]
    assert seen[-2].location is not None and seen[-2].location.latitude == 38.4872
    assert seen[-1].venue is not None and seen[-1].venue.address == "亲水大街 88 号"
    sent = await bot.send_location(alice.id, 38.4872, 106.2309)
    assert sent.location is not None and sent.location.longitude == 106.2309
    venue = await bot.send_venue(alice.id, 38.49, 106.23, "阅海湾菜市场", "亲水大街 88 号")
    assert venue.venue is not None and venue.venue.title == "阅海湾菜市场"
    assert [c.method for c in server.sent[-2:]] == ["sendLocation", "sendVenue"]
    with pytest.raises(BadRequest, match="latitude"):
        await bot.send_location(alice.id, 91.0, 0.0)
