"""/mydata and /forget, and the retention sweep."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler

from bot.context import BotContext
from handlers.privacy import commands


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """This feature's handlers, in the order they must be tried."""
    return [handler for module in (commands,) for handler in module.build_handlers()]
