"""The household registry: residents claiming a room, staff importing sheets and granting roles."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler

from bot.context import BotContext
from handlers.registry import admin, resident


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """This feature's handlers, in the order they must be tried."""
    return [
        handler
        for module in (
            resident,
            admin,
        )
        for handler in module.build_handlers()
    ]
