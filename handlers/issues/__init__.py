"""The issue loop: reports, triage buttons, views, feedback slips, private guided reports.

Order matters: a slip comment (a reply) before the private guided report."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler

from bot.context import BotContext
from handlers.issues import feedback, group, private, triage, views


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """This feature's handlers, in the order they must be tried."""
    return [
        handler
        for module in (
            group,
            feedback,
            triage,
            views,
            private,
        )
        for handler in module.build_handlers()
    ]
