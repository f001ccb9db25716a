"""Reports in grid groups (报事, issue #3): /report, #报事 and friends, @mentions, photos, /ticket.

The service decides everything (grid binding, length, category, emergency, duplicates); this
module only reads the message, calls it, and hands the outcome to the notifier.
"""

from __future__ import annotations

import logging
import re

from telegram import Message, Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.core.errors import UserError
from bot.core.geo import Place
from bot.core.parsing import leading_command
from bot.issues.parsing import split_hashtag
from handlers.issues.common import (
    largest_photo,
    notifier,
    reply,
    reply_error,
    sent_place,
    service,
    voice_note,
    voice_seconds,
)

log = logging.getLogger(__name__)

_NEW = filters.UpdateType.MESSAGE
_GROUPS = filters.ChatType.GROUPS
_TOLD_EDITS = "issues_told_edits"  # chat_data: message ids already told "edits are not tracked"


def mention_pattern(username: str) -> re.Pattern[str]:
    return re.compile(rf"@{re.escape(username)}(?![A-Za-z0-9_])", re.IGNORECASE)


def report_body(message: Message, username: str) -> str | None:
    """The report's text if the message is a report (hashtag or @mention), else None.

    A caption that starts with a command is that command: ``/report …`` under a photo is a
    report, ``/done@gridbot 12 …`` (the handler's resolution photo) is not."""
    text = message.text or message.caption or ""
    command = leading_command(text, username)
    if command is not None:
        report = command.ours and command.name == "report"
        return (command.rest or None) if report else None
    tagged, _ = split_hashtag(text)
    if tagged is not None:
        return text
    pattern = mention_pattern(username)
    if pattern.search(text):
        return pattern.sub(" ", text).strip()
    return None


def replied_place(message: Message) -> Place | None:
    """A report replying to a location or venue its sender posted: that place locates it
    (Telegram sends a location without a caption, so the report is the reply)."""
    target = message.reply_to_message
    if target is None or target.from_user is None or message.from_user is None:
        return None
    return sent_place(target) if target.from_user.id == message.from_user.id else None


async def file_report(update: Update, context: BotContext, text: str, message: Message) -> None:
    """Register ``text`` as a report of the message's sender and tell everyone concerned."""
    user = message.from_user
    if user is None:
        return
    try:
        outcome = await service(context).report(
            chat_id=message.chat_id,
            user_id=user.id,
            display_name=user.full_name,
            text=text,
            message_id=message.message_id,
            photos=largest_photo(message),
            place=replied_place(message),
        )
    except UserError as error:
        await reply_error(context, message, error)
        return
    await notifier(context).deliver(outcome)


async def report_command(update: Update, context: BotContext) -> None:
    """/report 内容: the group sees "#N 已登记" with the category and the response deadline."""
    message = update.effective_message
    if message is None:
        return
    await file_report(update, context, " ".join(context.args or ()), message)


async def report_message(update: Update, context: BotContext) -> None:
    """A #报事/#投诉… message, an @mention or a captioned photo becomes a numbered issue."""
    message = update.effective_message
    if message is None:
        return
    text = report_body(message, context.bot.username)
    if text is None:
        return
    await file_report(update, context, text, message)


async def album_photo(update: Update, context: BotContext) -> None:
    """One photo of an album: kept; the part with the report caption files one issue with all
    of the album's photos, whichever part it is (issue #18 item 1)."""
    message = update.effective_message
    if message is None or message.from_user is None or message.media_group_id is None:
        return
    try:
        outcome = await service(context).album_part(
            chat_id=message.chat_id,
            user_id=message.from_user.id,
            display_name=message.from_user.full_name,
            message_id=message.message_id,
            media_group_id=message.media_group_id,
            file_id=largest_photo(message)[0],
            text=report_body(message, context.bot.username),
        )
    except UserError as error:
        await reply_error(context, message, error)
        return
    if outcome is not None:
        await notifier(context).deliver(outcome)


async def voice_report(update: Update, context: BotContext) -> None:
    """A voice note captioned #报事 (or replying to the bot) is a report (issue #18 item 2)."""
    message = update.effective_message
    if message is None or message.from_user is None or message.voice is None:
        return
    try:
        outcome = await service(context).report(
            chat_id=message.chat_id,
            user_id=message.from_user.id,
            display_name=message.from_user.full_name,
            text=report_body(message, context.bot.username) or "",
            message_id=message.message_id,
            voice=voice_note(context, message.voice.file_id, voice_seconds(message.voice)),
        )
    except UserError as error:
        await reply_error(context, message, error)
        return
    await notifier(context).deliver(outcome)


async def ticket_command(update: Update, context: BotContext) -> None:
    """A grid worker replies /ticket to a resident's message: it is filed for the resident."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    target = message.reply_to_message
    if target is None or target.from_user is None:
        await reply(context, message, "ticket_usage")
        return
    try:
        outcome = await service(context).ticket_on_behalf(
            worker_id=message.from_user.id,
            chat_id=message.chat_id,
            resident_id=target.from_user.id,
            resident_name=target.from_user.full_name,
            text=target.text or target.caption or "",
            message_id=target.message_id,
            photos=largest_photo(target),
        )
    except UserError as error:
        await reply_error(context, message, error)
        return
    await notifier(context).deliver(outcome)


async def note_edited_report(update: Update, context: BotContext) -> None:
    """Editing a report does not change the issue: the resident is told so, once per message."""
    message = update.edited_message
    if message is None or await service(context).grid_of_chat(message.chat_id) is None:
        return
    if context.chat_data is None:
        return
    told: set[int] = context.chat_data.setdefault(_TOLD_EDITS, set())
    if message.message_id in told:
        return
    told.add(message.message_id)
    await reply(context, message, "edit_ignored")


class _AlbumPart(filters.MessageFilter):
    """A photo of an album that is a report's (its caption) or may be (no caption)."""

    def filter(self, message: Message) -> bool:
        if message.media_group_id is None or not message.photo:
            return False
        return not message.caption or report_body(message, message.get_bot().username) is not None


class _VoiceReport(filters.MessageFilter):
    """A voice note that is a report: captioned like one, or a reply to the bot."""

    def filter(self, message: Message) -> bool:
        if message.voice is None:
            return False
        bot = message.get_bot()
        target = message.reply_to_message
        if target is not None and target.from_user is not None and target.from_user.id == bot.id:
            return True
        return report_body(message, bot.username) is not None


class _LooksLikeReport(filters.MessageFilter):
    """Only reports reach ``report_message``, so other features still see ordinary chatter."""

    def filter(self, message: Message) -> bool:
        return report_body(message, message.get_bot().username) is not None


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [
        MessageHandler(
            filters.UpdateType.EDITED_MESSAGE & _GROUPS & _LooksLikeReport(), note_edited_report
        ),
        CommandHandler("report", report_command, filters=_NEW & _GROUPS),
        CommandHandler("ticket", ticket_command, filters=_NEW & _GROUPS),
        MessageHandler(_NEW & _GROUPS & _AlbumPart(), album_photo),
        MessageHandler(_NEW & _GROUPS & _VoiceReport(), voice_report),
        MessageHandler(
            _NEW
            & _GROUPS
            & ((filters.TEXT & ~filters.COMMAND) | filters.CAPTION)
            & _LooksLikeReport(),
            report_message,
        ),
    ]
