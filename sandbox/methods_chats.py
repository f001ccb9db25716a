"""Bot API methods about the bot itself, updates/webhooks, chats, members and commands."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any
from urllib.parse import urlsplit

from sandbox.methods_messages import sendable_chat
from sandbox.models import (
    JSON,
    ApiError,
    BotAccount,
    ChatState,
    Member,
    SandboxUser,
    Webhook,
    bad_request,
    member_json,
)
from sandbox.state import SandboxState, api_method

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
GROUP_PERMISSIONS: JSON = {
    "can_send_messages": True,
    "can_send_audios": True,
    "can_send_documents": True,
    "can_send_photos": True,
    "can_send_videos": True,
    "can_send_video_notes": True,
    "can_send_voice_notes": True,
    "can_send_polls": True,
    "can_send_other_messages": True,
    "can_add_web_page_previews": True,
    "can_change_info": False,
    "can_invite_users": True,
    "can_pin_messages": False,
    "can_manage_topics": False,
}


def member_updated(
    st: SandboxState,
    chat: ChatState,
    actor: SandboxUser,
    subject: SandboxUser,
    old: Member | None,
    new: Member | None,
) -> JSON:
    """A ChatMemberUpdated object (for my_chat_member / chat_member updates)."""
    return {
        "chat": chat.to_json(),
        "from": actor.to_json(),
        "date": st.now(),
        "old_chat_member": member_json(subject, old),
        "new_chat_member": member_json(subject, new),
    }


@api_method("getMe")
async def get_me(st: SandboxState, bot: BotAccount, p: JSON) -> JSON:
    return bot.get_me()


# ---------------------------------------------------------------------------- updates
@api_method("getUpdates")
async def get_updates(st: SandboxState, bot: BotAccount, p: JSON) -> list[JSON]:
    if bot.webhook is not None:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    bot.poll_generation += 1
    generation = bot.poll_generation
    st.notify()  # wake (and thereby terminate) an older long poll
    if p.get("allowed_updates") is not None:
        bot.allowed_updates = list(p["allowed_updates"]) or None
    limit = min(max(int(p.get("limit") or 100), 1), 100)
    timeout = max(float(p.get("timeout") or 0), 0.0)
    # On the sandbox's clock, like message dates and flood windows: a test with a clock of
    # its own ends a long poll by moving that clock (and notifying), not by waiting.
    deadline = st.clock() + timeout
    offset = p.get("offset")
    while True:
        if bot.poll_generation != generation:
            if bot.webhook is not None:
                raise ApiError(409, "Conflict: terminated by setWebhook request")
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure "
                "that only one bot instance is running",
            )
        st.confirm_updates(bot, int(offset) if offset is not None else None)
        offset = None
        if bot.updates or st.clock() >= deadline or st.closing:
            return [dict(u) for u in bot.updates[:limit]]
        await st.wait_change(deadline - st.clock())


def _check_webhook_url(url: str) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise bad_request("bad webhook: invalid webhook URL specified")
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host) in ipaddress.ip_network("127.0.0.0/8")
        except ValueError:
            loopback = False
        if not loopback:
            raise bad_request(
                "bad webhook: the sandbox only delivers webhooks to loopback "
                "addresses (127.0.0.0/8 or localhost)"
            )


@api_method("setWebhook")
async def set_webhook(st: SandboxState, bot: BotAccount, p: JSON) -> bool:
    url = str(p.get("url") or "")
    if p.get("drop_pending_updates"):
        bot.updates.clear()
    if not url:
        bot.webhook = None
        st.webhook_changed(bot)
        return True
    _check_webhook_url(url)
    secret = p.get("secret_token")
    if secret is not None and not _SECRET_RE.match(str(secret)):
        raise bad_request("secret token contains unallowed characters")
    if p.get("allowed_updates") is not None:
        bot.allowed_updates = list(p["allowed_updates"]) or None
    bot.poll_generation += 1  # a pending getUpdates is terminated
    bot.webhook = Webhook(
        url=url,
        secret_token=secret,
        max_connections=int(p.get("max_connections") or 40),
        ip_address=p.get("ip_address"),
    )
    st.webhook_changed(bot)
    st.notify()
    return True


@api_method("deleteWebhook")
async def delete_webhook(st: SandboxState, bot: BotAccount, p: JSON) -> bool:
    if p.get("drop_pending_updates"):
        bot.updates.clear()
    bot.webhook = None
    st.webhook_changed(bot)
    return True


@api_method("getWebhookInfo")
async def get_webhook_info(st: SandboxState, bot: BotAccount, p: JSON) -> JSON:
    hook = bot.webhook
    info: JSON = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.updates),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        if hook.ip_address:
            info["ip_address"] = hook.ip_address
        if hook.last_error_date:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
        if bot.allowed_updates:
            info["allowed_updates"] = list(bot.allowed_updates)
    return info


# ---------------------------------------------------------------------------- chats
def _readable_chat(st: SandboxState, bot: BotAccount, p: JSON) -> ChatState:
    chat = st.resolve_chat(p["chat_id"])
    if chat.type == "private":
        if chat.id not in bot.started_by and chat.id not in bot.blocked_by:
            raise bad_request("chat not found")
    else:
        st.check_access(bot, chat)
    return chat


@api_method("getChat")
async def get_chat(st: SandboxState, bot: BotAccount, p: JSON) -> JSON:
    chat = _readable_chat(st, bot, p)
    info = chat.to_json()
    info.update(
        accent_color_id=chat.id % 7,
        max_reaction_count=11,
        accepted_gift_types={
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    )
    if chat.type != "private":
        info["permissions"] = dict(GROUP_PERMISSIONS)
        if chat.description:
            info["description"] = chat.description
    for message_id in reversed(chat.pinned):
        stored = chat.messages.get(message_id)
        if stored is not None and not stored.deleted:
            info["pinned_message"] = dict(stored.data)
            break
    return info


@api_method("getChatMember")
async def get_chat_member(st: SandboxState, bot: BotAccount, p: JSON) -> JSON:
    chat = _readable_chat(st, bot, p)
    user = st.users.get(int(p["user_id"]))
    if user is None:
        raise bad_request("user not found")
    if chat.type == "private":
        present = user.id in (chat.id, bot.id)
        return member_json(user, Member("member") if present else None)
    return member_json(user, chat.members.get(user.id))


@api_method("getChatAdministrators")
async def get_chat_administrators(st: SandboxState, bot: BotAccount, p: JSON) -> list[JSON]:
    chat = _readable_chat(st, bot, p)
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    return [
        member_json(st.users[uid], m)
        for uid, m in chat.members.items()
        if m.status in ("creator", "administrator")
    ]


@api_method("getChatMemberCount")
async def get_chat_member_count(st: SandboxState, bot: BotAccount, p: JSON) -> int:
    chat = _readable_chat(st, bot, p)
    if chat.type == "private":
        return 2
    return sum(1 for uid in chat.members if chat.is_present(uid))


@api_method("leaveChat")
async def leave_chat(st: SandboxState, bot: BotAccount, p: JSON) -> bool:
    chat = st.resolve_chat(p["chat_id"])
    if chat.type == "private":
        raise bad_request("chat member status can't be changed in private chats")
    st.check_access(bot, chat)
    old = chat.members.get(bot.id)
    chat.members[bot.id] = Member("left")
    st.enqueue(
        bot,
        "my_chat_member",
        member_updated(st, chat, bot.user, bot.user, old, chat.members[bot.id]),
    )
    return True


@api_method("sendChatAction")
async def send_chat_action(st: SandboxState, bot: BotAccount, p: JSON) -> bool:
    sendable_chat(st, bot, p)
    if p["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


def _can_pin(chat: ChatState, bot: BotAccount) -> bool:
    if chat.type == "private":
        return True
    member = chat.members.get(bot.id)
    if member is None:
        return False
    if member.status == "creator":
        return True
    return member.status == "administrator" and bool(member.rights.get("can_pin_messages", True))


@api_method("pinChatMessage")
async def pin_chat_message(st: SandboxState, bot: BotAccount, p: JSON) -> bool:
    chat = sendable_chat(st, bot, p)
    if not _can_pin(chat, bot):
        raise bad_request("not enough rights to manage pinned messages in the chat")
    message_id = int(p["message_id"])
    stored = chat.messages.get(message_id)
    if stored is None or stored.deleted:
        raise bad_request("message to pin not found")
    if message_id in chat.pinned:
        chat.pinned.remove(message_id)
    chat.pinned.append(message_id)
    pinned = dict(stored.data)
    pinned.pop("reply_to_message", None)
    st.store_message(chat, bot.user, {"pinned_message": pinned})
    return True


@api_method("unpinChatMessage")
async def unpin_chat_message(st: SandboxState, bot: BotAccount, p: JSON) -> bool:
    chat = sendable_chat(st, bot, p)
    if not _can_pin(chat, bot):
        raise bad_request("not enough rights to manage pinned messages in the chat")
    if p.get("message_id") is not None:
        if int(p["message_id"]) in chat.pinned:
            chat.pinned.remove(int(p["message_id"]))
        else:
            raise bad_request("message to unpin not found")
    elif chat.pinned:
        chat.pinned.pop()
    return True


# ---------------------------------------------------------------------------- commands
def _commands_key(p: JSON) -> str:
    scope: Any = p.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True) + "|" + str(p.get("language_code") or "")


@api_method("setMyCommands")
async def set_my_commands(st: SandboxState, bot: BotAccount, p: JSON) -> bool:
    commands = p["commands"]
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    clean = []
    for item in commands:
        if not isinstance(item, dict) or not _COMMAND_RE.match(str(item.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        description = str(item.get("description", ""))
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        clean.append({"command": item["command"], "description": description})
    bot.commands[_commands_key(p)] = clean
    return True


@api_method("getMyCommands")
async def get_my_commands(st: SandboxState, bot: BotAccount, p: JSON) -> list[JSON]:
    return [dict(c) for c in bot.commands.get(_commands_key(p), [])]


@api_method("deleteMyCommands")
async def delete_my_commands(st: SandboxState, bot: BotAccount, p: JSON) -> bool:
    bot.commands.pop(_commands_key(p), None)
    return True
