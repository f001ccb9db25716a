"""Cross-checks between the implementation and the trimmed Bot API description."""

from __future__ import annotations

import ast
import inspect
import json

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update

from sandbox import media, methods_chats, methods_messages
from sandbox.models import ChatState, SandboxUser
from sandbox.server import SandboxServer
from sandbox.spec import IMPLEMENTED_METHODS, SPEC_PATH, load_spec
from sandbox.state import HANDLERS

# Parameters the sandbox deliberately understands although Bot API 10.1 no longer lists them.
LEGACY_PARAMS = {
    "reply_to_message_id",
    "allow_sending_without_reply",
    "correct_option_id",
    "_attachments",
}


def test_spec_copy_is_trimmed_and_licensed() -> None:
    data = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    assert "MIT" in data["_license"]
    assert set(data["methods"]) == set(IMPLEMENTED_METHODS)
    assert data["version"].startswith("Bot API")


def test_every_handler_is_a_spec_method() -> None:
    spec = load_spec()
    assert set(HANDLERS) == set(IMPLEMENTED_METHODS)
    for name in HANDLERS:
        assert spec.canonical(name.lower()) == name


def _param_names(fn: object) -> set[str]:
    """Names used as p["x"] / p.get("x") inside a handler and its helpers."""
    tree = ast.parse(inspect.getsource(fn))  # type: ignore[arg-type]
    names: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id == "p"
            and isinstance(node.slice, ast.Constant)
        ):
            names.add(str(node.slice.value))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "p"
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value))
    return names


def test_handler_parameter_names_exist_in_spec() -> None:
    spec = load_spec()
    helpers = {
        "sendMessage": [methods_messages.reply_target, methods_messages.sendable_chat],
        "editMessageText": [methods_messages.bot_message],
        "editMessageCaption": [methods_messages.bot_message],
        "editMessageReplyMarkup": [methods_messages.bot_message],
        "sendPhoto": [media._caption, methods_messages.reply_target],
        "sendDocument": [media._caption, methods_messages.reply_target],
        "sendPoll": [methods_messages.reply_target],
        "getChat": [methods_chats._readable_chat],
        "getMyCommands": [methods_chats._commands_key],
        "setMyCommands": [methods_chats._commands_key],
        "deleteMyCommands": [methods_chats._commands_key],
    }
    checked = 0
    for name, handler in HANDLERS.items():
        used = _param_names(handler)
        for helper in helpers.get(name, []):
            used |= _param_names(helper)
        unknown = used - set(spec.methods[name]) - LEGACY_PARAMS
        assert not unknown, f"{name} reads parameters not in the Bot API: {unknown}"
        checked += len(used)
    assert checked > 60


def test_validator_reports_problems() -> None:
    spec = load_spec()
    problems = spec.validate_object(
        "Message", {"message_id": "1", "chat": {"id": 1}, "colour": "red"}
    )
    assert "Message: unknown field 'colour'" in problems
    assert "Message: missing 'date'" in problems
    assert "Message.message_id: expected Integer, got '1'" in problems
    assert "Message.chat: missing 'type'" in problems
    member = {"status": "member", "user": {"id": 1, "is_bot": False, "first_name": "A"}}
    assert spec.validate_object("ChatMember", member) == []
    assert spec.validate_object("ChatMember", {"status": "kicked"}) != []


async def test_produced_objects_match_the_spec(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser, bob: SandboxUser
) -> None:
    spec = load_spec()
    await bot.get_updates(allowed_updates=list(Update.ALL_TYPES))
    group.members[server.bot_for().id].status = "administrator"
    await server.start_private(alice.id)
    kb = InlineKeyboardMarkup([[InlineKeyboardButton("好", callback_data="ok")]])
    sent = await bot.send_message(group.id, "<b>hi</b> #标签", parse_mode="HTML", reply_markup=kb)
    reply = await server.user_sends(group.id, alice.id, "回复", reply_to_message_id=1)
    await server.user_edits(group.id, alice.id, reply["message_id"], "改了")
    await server.user_sends_photo(group.id, bob.id, caption="照片 #报修")
    await server.user_sends_document(group.id, bob.id, "清单.xlsx", b"PK\x03\x04data")
    await server.user_sends_sticker(group.id, bob.id)
    await server.user_sends_location(group.id, bob.id, 38.4872, 106.2309)
    await server.user_sends_location(
        group.id, bob.id, 38.49, 106.23, title="菜市场", address="亲水大街"
    )
    await bot.send_venue(group.id, 38.49, 106.23, "菜市场", "亲水大街")
    await server.press_button(group.id, sent.message_id, alice.id, "ok")
    poll = await bot.send_poll(group.id, "几点开会？", ["9点", "10点"], is_anonymous=False)
    assert poll.poll is not None
    await server.vote_poll(poll.poll.id, bob.id, [1])
    await bot.stop_poll(group.id, poll.message_id)
    extra = server.add_user("新", "邻居")
    await server.join(group.id, extra.id)
    await server.leave(group.id, extra.id)
    server.block_bot(alice.id)
    await bot.pin_chat_message(group.id, sent.message_id)
    problems: list[str] = []
    for update in server.pending_updates():
        problems += spec.validate_object("Update", update)
        assert Update.de_json(update, bot) is not None
    for message in server.chat_messages(group.id):
        problems += spec.validate_object("Message", message)
    problems += spec.validate_object("ChatFullInfo", (await raw(bot, "getChat", group.id)))
    problems += spec.validate_object("User", (await raw(bot, "getMe")))
    members = await bot.get_chat_administrators(group.id)
    for member in members:
        problems += spec.validate_object("ChatMember", member.to_dict())
    problems += spec.validate_object("WebhookInfo", (await bot.get_webhook_info()).to_dict())
    assert problems == []
    assert len(server.pending_updates()) >= 12


async def raw(bot: Bot, method: str, chat_id: int | None = None) -> dict[str, object]:
    """The raw JSON result of a call (no PTB object round trip)."""
    kwargs = {"chat_id": chat_id} if chat_id is not None else {}
    result = await bot._post(method, kwargs)  # raw dict wanted here
    assert isinstance(result, dict)
    return result
