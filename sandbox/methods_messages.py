"""Bot API methods that create or change messages: text, keyboards, polls, callbacks."""

from __future__ import annotations

import re
from typing import Any

from sandbox.entities import EntityParseError, format_text, utf16_len
from sandbox.models import (
    JSON,
    BotAccount,
    CallbackAnswer,
    ChatState,
    PollState,
    StoredMessage,
    bad_request,
    clone,
)
from sandbox.state import SandboxState, api_method

_URL_RE = re.compile(r"^(https?://[^\s/$.?#][^\s]*|tg://[^\s]+)$", re.IGNORECASE)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


# ---------------------------------------------------------------------------- helpers
def format_or_fail(
    text: Any,
    parse_mode: str | None,
    entities: list[JSON] | None,
    *,
    limit: int,
    empty: str | None,
    too_long: str,
) -> tuple[str, list[JSON]]:
    """Parse text like Telegram; ``empty=None`` allows an empty result (captions)."""
    if text is None:
        text = ""
    try:
        plain, ents = format_text(str(text), parse_mode, entities)
    except EntityParseError as exc:
        raise bad_request(f"can't parse entities: {exc}") from exc
    except ValueError as exc:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}") from exc
    if not plain and empty is not None:
        raise bad_request(empty)
    if len(plain) > limit:
        raise bad_request(too_long)
    return plain, ents


def validate_markup(markup: Any, *, inline_only: bool = False) -> JSON | None:
    """Validate reply_markup like Telegram; returns the inline keyboard to store, if any."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request(
                "can't parse inline keyboard button: "
                'field "inline_keyboard" must be an Array of Arrays'
            )
        clean_rows = [[_validate_inline_button(b) for b in row] for row in rows]
        return {"inline_keyboard": clean_rows}
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in rows:
            for button in row:
                text = button if isinstance(button, str) else (button or {}).get("text")
                if not isinstance(text, str) or not text:
                    raise bad_request("can't parse keyboard button: text must be non-empty")
        return None
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return None
    raise bad_request("can't parse reply keyboard markup JSON object")


def _validate_inline_button(button: Any) -> JSON:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("can't parse inline keyboard button: Text must be non-empty")
    actions = [
        k
        for k in (
            "url",
            "callback_data",
            "web_app",
            "login_url",
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "copy_text",
            "callback_game",
            "pay",
        )
        if k in button
    ]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not _URL_RE.match(url):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    return clone(button)


def reply_target(st: SandboxState, chat: ChatState, p: JSON) -> int | None:
    params = p.get("reply_parameters")
    if isinstance(params, dict):
        target, allow = params.get("message_id"), bool(params.get("allow_sending_without_reply"))
        other = params.get("chat_id")
        if other is not None and other != chat.id:
            return None  # cross-chat replies are not modelled
    else:
        target, allow = p.get("reply_to_message_id"), bool(p.get("allow_sending_without_reply"))
    if target is None:
        return None
    stored = chat.messages.get(int(target))
    if stored is None or stored.deleted:
        if allow:
            return None
        raise bad_request("message to be replied not found")
    return int(target)


def sendable_chat(st: SandboxState, bot: BotAccount, p: JSON) -> ChatState:
    chat = st.resolve_chat(p["chat_id"])
    st.check_access(bot, chat)
    return chat


def commit(st: SandboxState, method: str, chat: ChatState, message: JSON | None, p: JSON) -> None:
    st.flood.record(chat.id, st.clock())
    st.record_sent(method, chat.id, message, p)


def bot_message(st: SandboxState, bot: BotAccount, p: JSON) -> tuple[ChatState, StoredMessage]:
    if p.get("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    if p.get("chat_id") is None:
        raise bad_request("chat_id is empty")
    if p.get("message_id") is None:
        raise bad_request("message identifier is not specified")
    chat = sendable_chat(st, bot, p)
    stored = chat.messages.get(int(p["message_id"]))
    if stored is None or stored.deleted:
        raise bad_request("message to edit not found")
    if stored.sender_id != bot.id:
        raise bad_request("message can't be edited")
    return chat, stored


def set_optional(data: JSON, key: str, value: Any) -> None:
    if value:
        data[key] = value
    else:
        data.pop(key, None)


# ---------------------------------------------------------------------------- text
@api_method("sendMessage")
async def send_message(st: SandboxState, bot: BotAccount, p: JSON) -> JSON:
    chat = sendable_chat(st, bot, p)
    text, entities = format_or_fail(
        p.get("text"),
        p.get("parse_mode"),
        p.get("entities"),
        limit=4096,
        empty="message text is empty",
        too_long="message is too long",
    )
    markup = validate_markup(p.get("reply_markup"))
    reply_to = reply_target(st, chat, p)
    st.check_flood(chat)
    content: JSON = {"text": text}
    set_optional(content, "entities", entities)
    preview = p.get("link_preview_options")
    if isinstance(preview, dict) and preview:
        content["link_preview_options"] = preview
    set_optional(content, "reply_markup", markup)
    stored = st.store_message(chat, bot.user, content, reply_to)
    commit(st, "sendMessage", chat, stored.data, p)
    return clone(stored.data)


@api_method("editMessageText")
async def edit_message_text(st: SandboxState, bot: BotAccount, p: JSON) -> JSON:
    chat, stored = bot_message(st, bot, p)
    text, entities = format_or_fail(
        p.get("text"),
        p.get("parse_mode"),
        p.get("entities"),
        limit=4096,
        empty="message text is empty",
        too_long="message is too long",
    )
    markup = validate_markup(p.get("reply_markup"), inline_only=True)
    data = stored.data
    if "text" not in data:
        raise bad_request("there is no text in the message to edit")
    if (text, entities, markup) == (
        data["text"],
        data.get("entities", []),
        data.get("reply_markup"),
    ):
        raise bad_request(NOT_MODIFIED)
    st.check_flood(chat)
    data["text"] = text
    set_optional(data, "entities", entities)
    set_optional(data, "reply_markup", markup)
    data["edit_date"] = st.now()
    commit(st, "editMessageText", chat, data, p)
    return clone(data)


@api_method("editMessageCaption")
async def edit_message_caption(st: SandboxState, bot: BotAccount, p: JSON) -> JSON:
    chat, stored = bot_message(st, bot, p)
    caption, entities = format_or_fail(
        p.get("caption"),
        p.get("parse_mode"),
        p.get("caption_entities"),
        limit=1024,
        empty=None,
        too_long="message caption is too long",
    )
    markup = validate_markup(p.get("reply_markup"), inline_only=True)
    data = stored.data
    if "text" in data or "poll" in data:
        raise bad_request("there is no caption in the message to edit")
    old = (data.get("caption", ""), data.get("caption_entities", []), data.get("reply_markup"))
    if (caption, entities, markup) == old:
        raise bad_request(NOT_MODIFIED)
    st.check_flood(chat)
    set_optional(data, "caption", caption)
    set_optional(data, "caption_entities", entities)
    set_optional(data, "reply_markup", markup)
    data["edit_date"] = st.now()
    commit(st, "editMessageCaption", chat, data, p)
    return clone(data)


@api_method("editMessageReplyMarkup")
async def edit_message_reply_markup(st: SandboxState, bot: BotAccount, p: JSON) -> JSON:
    chat, stored = bot_message(st, bot, p)
    markup = validate_markup(p.get("reply_markup"), inline_only=True)
    if markup == stored.data.get("reply_markup"):
        raise bad_request(NOT_MODIFIED)
    st.check_flood(chat)
    set_optional(stored.data, "reply_markup", markup)
    stored.data["edit_date"] = st.now()
    commit(st, "editMessageReplyMarkup", chat, stored.data, p)
    return clone(stored.data)


@api_method("deleteMessage")
async def delete_message(st: SandboxState, bot: BotAccount, p: JSON) -> bool:
    chat = sendable_chat(st, bot, p)
    stored = chat.messages.get(int(p["message_id"]))
    if stored is None or stored.deleted:
        raise bad_request("message to delete not found")
    if chat.type != "private" and stored.sender_id != bot.id:
        member = chat.members.get(bot.id)
        allowed = (
            member is not None
            and member.status in ("creator", "administrator")
            and (member.rights.get("can_delete_messages", True))
        )
        if not allowed:
            raise bad_request("message can't be deleted")
    stored.deleted = True
    st.record_sent("deleteMessage", chat.id, None, p)
    return True


# ---------------------------------------------------------------------------- callbacks
@api_method("answerCallbackQuery")
async def answer_callback_query(st: SandboxState, bot: BotAccount, p: JSON) -> bool:
    state = st.callbacks.get(str(p["callback_query_id"]))
    if state is None or state.answered or state.bot_id != bot.id:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = p.get("text")
    if text is not None and len(str(text)) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    state.answered = True
    st.callback_answers.append(
        CallbackAnswer(
            id=state.id,
            text=text,
            show_alert=bool(p.get("show_alert")),
            url=p.get("url"),
            at=st.clock(),
        )
    )
    return True


# ---------------------------------------------------------------------------- polls
def _poll_options(raw: Any) -> list[JSON]:
    if not isinstance(raw, list):
        raise bad_request("can't parse options JSON object")
    if not 1 <= len(raw) <= 12:
        raise bad_request(
            "poll must have 1-12 options" if raw else "poll options must be non-empty"
        )
    options = []
    for index, item in enumerate(raw):
        text = item.get("text") if isinstance(item, dict) else item
        if not isinstance(text, str) or not text.strip():
            raise bad_request("poll options must be non-empty")
        if len(text) > 100:
            raise bad_request("poll options length must not exceed 100")
        options.append({"persistent_id": str(index), "text": text.strip(), "voter_count": 0})
    return options


@api_method("sendPoll")
async def send_poll(st: SandboxState, bot: BotAccount, p: JSON) -> JSON:
    chat = sendable_chat(st, bot, p)
    question = str(p.get("question") or "").strip()
    if not question:
        raise bad_request("poll question must be non-empty")
    if utf16_len(question) > 300:
        raise bad_request("poll question length must not exceed 300")
    options = _poll_options(p.get("options"))
    kind = p.get("type") or "regular"
    if kind not in ("regular", "quiz"):
        raise bad_request("poll type is invalid")
    correct = p.get("correct_option_ids")
    if correct is None and p.get("correct_option_id") is not None:
        correct = [p["correct_option_id"]]
    if kind == "quiz":
        if not correct or any(not 0 <= int(i) < len(options) for i in correct):
            raise bad_request("wrong correct option ids specified")
    markup = validate_markup(p.get("reply_markup"))
    reply_to = reply_target(st, chat, p)
    st.check_flood(chat)
    poll_id = str(5_800_000_000_000_000_000 + st.next_id())
    poll: JSON = {
        "id": poll_id,
        "question": question,
        "options": options,
        "total_voter_count": 0,
        "is_closed": bool(p.get("is_closed")),
        "is_anonymous": p.get("is_anonymous", True),
        "type": kind,
        "allows_multiple_answers": bool(p.get("allows_multiple_answers")),
        "allows_revoting": bool(p.get("allows_revoting", kind == "regular")),
        "members_only": bool(p.get("members_only")),
    }
    if kind == "quiz":
        poll["correct_option_ids"] = [int(i) for i in correct or []]
        if p.get("explanation"):
            poll["explanation"] = str(p["explanation"])
    for key in ("open_period", "close_date"):
        if p.get(key) is not None:
            poll[key] = int(p[key])
    if p.get("open_period") is not None and "close_date" not in poll:
        poll["close_date"] = st.now() + int(p["open_period"])
    content: JSON = {"poll": poll}
    set_optional(content, "reply_markup", markup)
    stored = st.store_message(chat, bot.user, content, reply_to)
    stored.poll_id = poll_id
    st.polls[poll_id] = PollState(
        id=poll_id, chat_id=chat.id, message_id=stored.data["message_id"], data=poll, bot_id=bot.id
    )
    commit(st, "sendPoll", chat, stored.data, p)
    return clone(stored.data)


@api_method("stopPoll")
async def stop_poll(st: SandboxState, bot: BotAccount, p: JSON) -> JSON:
    chat = sendable_chat(st, bot, p)
    stored = chat.messages.get(int(p["message_id"]))
    if stored is None or stored.deleted or stored.poll_id is None:
        raise bad_request("message with poll to stop not found")
    if stored.sender_id != bot.id:
        raise bad_request("message can't be edited")
    poll = st.polls[stored.poll_id].data
    if poll["is_closed"]:
        raise bad_request("poll has already been closed")
    markup = validate_markup(p.get("reply_markup"), inline_only=True)
    st.check_flood(chat)
    poll["is_closed"] = True
    set_optional(stored.data, "reply_markup", markup)
    commit(st, "stopPoll", chat, stored.data, p)
    st.enqueue(bot, "poll", poll)
    return clone(poll)
