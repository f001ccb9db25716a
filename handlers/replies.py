"""Reply helpers every handler module may share (handler modules never import each other).

The callback answer is the one reply that does not go through the outbox: Telegram wants it
within seconds and it is worthless later, so a stale query (e.g. a retried update) is only
logged — what the press did is already recorded.
"""

from __future__ import annotations

import logging

from markupsafe import escape
from telegram import CallbackQuery, Message
from telegram.error import TelegramError

from bot.context import BotContext
from bot.core.errors import UserError

log = logging.getLogger(__name__)


async def say(context: BotContext, to: Message, text: str) -> None:
    """Queue ``text`` (already rendered HTML) as a threaded reply to ``to``."""
    await context.services.outbox.send_message(to.chat_id, text, reply_to=to.message_id)


async def say_text(context: BotContext, to: Message, text: str) -> None:
    """Reply with plain text, escaped for Telegram HTML: it may echo what a person typed, and
    an unescaped ``<`` would make Telegram refuse the whole message."""
    await say(context, to, str(escape(text)))


async def say_error(context: BotContext, to: Message, error: UserError) -> None:
    """Reply with the Chinese (or English) explanation of a refusal."""
    await say(context, to, error_html(context, error))


def error_html(context: BotContext, error: UserError) -> str:
    """A refusal's explanation as Telegram HTML, for messages that are not replies."""
    return str(escape(error.render(context.t.text)))


async def answer(query: CallbackQuery, text: str | None = None, *, alert: bool = False) -> None:
    """answerCallbackQuery, direct (ephemeral UI); a stale query is only logged. The one way
    handlers answer a callback: a failed answer must never undo what the press did."""
    try:
        await query.answer(text, show_alert=alert)
    except TelegramError as exc:
        log.info("callback query %s not answered: %s", query.id, exc)


async def answer_stale(context: BotContext, query: CallbackQuery) -> None:
    """A button whose data no longer names anything (malformed, forged, or from an old
    keyboard): say so, so the person's client stops waiting, and log the data."""
    log.info("stale or malformed button from %s: %r", query.from_user.id, query.data)
    await answer(query, context.t.text("app.stale_button"), alert=True)
