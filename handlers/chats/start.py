"""/start and /help: how a resident first meets the bot."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.context import BotContext
from bot.registry.presenter import needs_consent, send_consent_card


async def greet(update: Update, context: BotContext) -> None:
    """A resident who opens a private chat sees who the bot is and what it can do."""
    message = update.effective_message
    if message is None or update.effective_user is None:
        return
    services = context.services
    user = update.effective_user
    if await needs_consent(services, user.id):  # issue #4: the consent card comes first
        await send_consent_card(services, message.chat_id, user.first_name)
        return
    text = context.t.render(
        "start/welcome",
        community=services.config.display_name,
        name=update.effective_user.first_name,
    )
    await services.outbox.send_message(message.chat_id, text)


async def show_help(update: Update, context: BotContext) -> None:
    """/help lists the commands in plain words."""
    message = update.effective_message
    if message is None:
        return
    private = message.chat.type == "private"
    text = context.t.render("start/help", private=private)
    await context.services.outbox.send_message(message.chat_id, text, reply_to=message.message_id)


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [
        CommandHandler("start", greet, filters=filters.ChatType.PRIVATE, has_args=False),
        CommandHandler("help", show_help),
    ]
