"""Consultation: notices with 收到, 接龙 sign-ups, meetings (议事会)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler

from bot.context import BotContext
from handlers.consult import jielong, meetings, notices


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """This feature's handlers, in the order they must be tried."""
    return [
        handler
        for module in (
            notices,
            jielong,
            meetings,
        )
        for handler in module.build_handlers()
    ]
