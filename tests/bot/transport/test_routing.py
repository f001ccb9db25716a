"""The router picks the handler PTB's own scan of a group would, asking fewer of them."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest
from telegram import Bot, Update, User
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler

from bot.app import HANDLER_MODULES
from bot.transport.routing import Router, kind_of

BOT_ID = 123456
GROUP = {"id": -1001, "type": "supergroup", "title": "网格群"}
PRIVATE = {"id": 501, "type": "private", "first_name": "居民"}
PERSON = {"id": 501, "is_bot": False, "first_name": "居民"}
PLACE = {"latitude": 38.5, "longitude": 106.2}


@cache
def _bot() -> Bot:
    """One bot to decode updates with: building a ``Bot`` builds its HTTP client, and with it
    a TLS context (~20 ms of CPU reading the CA store), which these tests never use."""
    bot = Bot(f"{BOT_ID}:test-token")
    bot._bot_user = User(BOT_ID, "网格通", True, username="gridbot")  # as getMe would set it
    return bot


def _message(chat: dict[str, Any], text: str, **more: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"message_id": 7, "date": 0, "chat": chat, "from": PERSON}
    message["text"] = text
    if text.startswith("/"):
        length = len(text.split()[0])
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return message | more


UPDATES: dict[str, dict[str, Any]] = {
    "group chatter": {"message": _message(GROUP, "今天天气不错")},
    "group report": {"message": _message(GROUP, "#报事 3号楼电梯坏了")},
    "group notice": {"message": _message(GROUP, "#通知 明天停水")},
    "group command": {"message": _message(GROUP, "/report 东门路灯不亮")},
    "group command for another bot": {"message": _message(GROUP, "/report@otherbot 路灯")},
    "group todo": {"message": _message(GROUP, "/todo")},
    "group caption": {"message": _message(GROUP, "", caption="#报事 楼道堆物") | {"text": None}},
    "edited group report": {"edited_message": _message(GROUP, "#报事 3号楼电梯又坏了")},
    "private text": {"message": _message(PRIVATE, "你好")},
    "private room": {"message": _message(PRIVATE, "3-2-301")},
    "private start": {"message": _message(PRIVATE, "/start")},
    "private start slip": {"message": _message(PRIVATE, "/start slip_12")},
    "private start issue": {"message": _message(PRIVATE, "/start issue_12")},
    "private issues": {"message": _message(PRIVATE, "/issues")},
    "private help": {"message": _message(PRIVATE, "/help")},
    "private location": {"message": _message(PRIVATE, "") | {"text": None, "location": PLACE}},
    "button": {
        "callback_query": {
            "id": "1",
            "from": PERSON,
            "chat_instance": "c",
            "data": "issue:12:accept",
            "message": _message(GROUP, "卡片"),
        }
    },
    "stale button": {
        "callback_query": {
            "id": "2",
            "from": PERSON,
            "chat_instance": "c",
            "data": "nothing:at:all",
            "message": _message(PRIVATE, "卡片"),
        }
    },
    "poll answer": {
        "poll_answer": {
            "poll_id": "p",
            "user": PERSON,
            "option_ids": [0],
            "option_persistent_ids": ["0"],
        }
    },
    "bot added": {
        "my_chat_member": {
            "chat": GROUP,
            "from": PERSON,
            "date": 0,
            "old_chat_member": {"status": "left", "user": {**PERSON, "id": BOT_ID}},
            "new_chat_member": {"status": "member", "user": {**PERSON, "id": BOT_ID}},
        }
    },
}


def _groups() -> dict[int, list[BaseHandler[Any, Any, Any]]]:
    groups: dict[int, list[BaseHandler[Any, Any, Any]]] = {}
    for module, group in HANDLER_MODULES:
        groups.setdefault(group, []).extend(module.build_handlers())
    return groups


def _ptb_pick(handlers: list[BaseHandler[Any, Any, Any]], update: Update) -> Any:
    """What PTB's Application.process_update does in one group: the first handler whose
    check is neither None nor False, with that check."""
    for handler in handlers:
        check = handler.check_update(update)
        if check is not None and check is not False:
            return handler, _comparable(check)
    return None


def _comparable(check: Any) -> Any:
    """A check result with its regex matches (compared by identity) as the text matched."""
    if isinstance(check, re.Match):
        return check.group(0)
    if isinstance(check, (list, tuple)):
        return type(check)(_comparable(part) for part in check)
    if isinstance(check, dict):
        return {key: _comparable(value) for key, value in check.items()}
    return check


def _routed(router: Router[Any], update: Update) -> Any:
    picked = router.check_update(update)
    return None if picked is None else (picked[0], _comparable(picked[1]))


@pytest.mark.parametrize("name", sorted(UPDATES))
def test_the_router_picks_what_ptb_would(name: str) -> None:
    bot = _bot()
    for handlers in _groups().values():
        router: Router[Any] = Router(handlers)
        for _ in range(2):  # the second time from what was kept for the kind
            update = Update.de_json({"update_id": 1, **UPDATES[name]}, bot)
            assert _routed(router, update) == _ptb_pick(handlers, update)


def test_a_plain_group_message_is_asked_of_few_handlers() -> None:
    bot = _bot()
    handlers = _groups()[0]
    router: Router[Any] = Router(handlers)
    update = Update.de_json({"update_id": 1, **UPDATES["group chatter"]}, bot)
    assert router.check_update(update) is None
    asked = router._by_kind[kind_of(update)]
    assert len(handlers) > 50 and len(asked) < 12
    assert not [h for h in asked if isinstance(h, (CommandHandler, CallbackQueryHandler))]
    report = [h for h in asked if getattr(h.callback, "__name__", "") == "report_message"]
    assert len(report) == 1 and isinstance(report[0], MessageHandler)
    # A command in the same chat is asked of the command handlers again.
    command = Update.de_json({"update_id": 2, **UPDATES["group command"]}, bot)
    assert router.check_update(command) is not None
    assert [h for h in router._by_kind[kind_of(command)] if isinstance(h, CommandHandler)]


def test_a_handler_that_does_not_block_is_refused() -> None:
    async def callback(update: object, context: object) -> None:
        return None

    with pytest.raises(ValueError, match="does not block"):
        Router([CommandHandler("x", callback, block=False)])
