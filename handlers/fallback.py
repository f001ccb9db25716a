"""The last handler: a button press no feature recognised (malformed or forged data, or a
keyboard from a version of the bot that no longer exists). Without an answer the person's
client shows a spinner until Telegram gives up (issue #13 item 6)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.context import BotContext
from handlers.replies import answer_stale


async def unrecognised_button(update: Update, context: BotContext) -> None:
    """按钮已失效，请重新打开 — and the data in the log."""
    query = update.callback_query
    if query is not None:
        await answer_stale(context, query)


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [CallbackQueryHandler(unrecognised_button)]
