"""Chat housekeeping seen before any feature: membership, migrations, users coming back.

These run in handler group -1, so features still see the same update afterwards.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus
from telegram.ext import BaseHandler, ChatMemberHandler, MessageHandler, TypeHandler, filters

from bot.context import BotContext

log = logging.getLogger(__name__)

_GONE = {ChatMemberStatus.LEFT, ChatMemberStatus.BANNED}


async def note_bot_membership(update: Update, context: BotContext) -> None:
    """The bot was added to or removed from a group: greet a grid group, log the rest."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None:
        return
    services = context.services
    chat = change.chat
    if chat.type == "private":
        if change.new_chat_member.status in _GONE:
            log.info("user %s blocked the bot", chat.id)
        else:
            await services.sender.reachable_again(chat.id)
        return
    key = await services.features.registry.grid_of_chat(chat.id)  # bot.core.grids decides
    grid = None if key is None else services.config.grid_by_key(key)
    if change.new_chat_member.status in _GONE:
        log.warning("bot removed from chat %s (%s); its messages stop", chat.id, chat.title)
        return
    # Added (back): a group marked unreachable while the bot was not in it (403, or 400
    # "chat not found" for a group configured before the bot joined) can be written to again.
    await services.sender.reachable_again(chat.id)
    if grid is None:
        log.info("bot added to chat %s (%s), which is not bound to a grid", chat.id, chat.title)
        text = context.t.render("start/unbound_group", community=services.config.display_name)
    else:
        text = context.t.render("start/group_welcome", grid=grid.name)
    await services.outbox.send_message(chat.id, text)


async def follow_migration(update: Update, context: BotContext) -> None:
    """A group became a supergroup: queued and future messages follow it to the new id, and
    the supergroup serves the grid the group served (bot.core.grids, issue #13 item 3).

    Telegram announces it in both chats (migrate_to_chat_id in the old, migrate_from_chat_id
    in the new); either one records it, whichever comes first.
    """
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id is not None:
        old, new = message.chat_id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id is not None:
        old, new = message.migrate_from_chat_id, message.chat_id
    else:
        return
    await context.services.outbox.repo.migrate_chat(old, new, context.services.clock.now())
    log.info("chat %s upgraded to supergroup %s", old, new)


async def welcome_back(update: Update, context: BotContext) -> None:
    """A user who had blocked the bot writes again: deliver to them again."""
    chat = update.effective_chat
    if chat is not None and chat.type == "private":
        await context.services.sender.reachable_again(chat.id)


class _FromPrivateChat(TypeHandler[Update, BotContext, None]):
    """Every update from a private chat (a message, a button, an edit): welcome_back has
    nothing to do elsewhere, and matching every update made PTB build a context and run the
    callback for each group message too (issue #15 item 6: the busiest path there is)."""

    def __init__(self, callback: Any) -> None:
        super().__init__(Update, callback)

    def check_update(self, update: object) -> bool:
        if not isinstance(update, Update):
            return False
        chat = update.effective_chat
        return chat is not None and chat.type == "private"


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [
        ChatMemberHandler(note_bot_membership, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, follow_migration),
        _FromPrivateChat(welcome_back),
    ]
