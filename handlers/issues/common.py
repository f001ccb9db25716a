"""Small reply helpers the issue handler modules share (handler modules never import each other).

Errors a person should be told (``UserError``) become a threaded reply or a callback alert; the
callback answer is the one reply that does not go through the outbox, because Telegram wants it
within seconds and it is worthless later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from telegram import CallbackQuery, Message, Voice

from bot.context import BotContext
from bot.core.errors import UserError
from bot.core.geo import Place
from bot.issues.presenter import IssueNotifier, issue_service
from bot.issues.service import IssueService
from bot.issues.transcribe import VoiceNote
from handlers.replies import answer, say, say_error


def notifier(context: BotContext) -> IssueNotifier:
    return IssueNotifier(context.services, context.bot.username)


def service(context: BotContext) -> IssueService:
    return issue_service(context.services)


async def reply(context: BotContext, to: Message, template: str, **values: Any) -> None:
    """Queue ``issues/<template>`` as a reply to the message ``to``."""
    await say(context, to, context.t.render(f"issues/{template}", **values))


async def reply_error(context: BotContext, message: Message, error: UserError) -> None:
    await say_error(context, message, error)


async def answer_error(context: BotContext, query: CallbackQuery, error: UserError) -> None:
    await answer(query, error.render(context.t.text), alert=True)


async def pressed_ref(context: BotContext, query: CallbackQuery, candidates: list[str]) -> str:
    """Which of ``candidates`` names the message whose button was pressed (else the first)."""
    message = query.message
    if message is not None:
        for ref in candidates:
            found = await context.services.outbox.repo.message_id_for(ref)
            if found == (message.chat.id, message.message_id):
                return ref
    return candidates[0]


def largest_photo(message: Message | None) -> Sequence[str]:
    """The largest size's file_id of a photo message (Telegram lists sizes smallest first)."""
    if message is None or not message.photo:
        return ()
    return (max(message.photo, key=lambda size: size.width * size.height).file_id,)


def voice_seconds(voice: Voice) -> int:
    length = voice.duration
    return int(length.total_seconds()) if isinstance(length, timedelta) else int(length)


def voice_note(context: BotContext, file_id: str, seconds: int) -> VoiceNote:
    """A resident's voice note; its audio is downloaded only if a transcriber asks for it."""
    bot = context.bot

    async def fetch() -> bytes:
        return bytes(await (await bot.get_file(file_id)).download_as_bytearray())

    return VoiceNote(file_id, seconds, fetch)


def sent_place(message: Message | None) -> Place | None:
    """The Telegram location or venue in a message (a venue carries its own location)."""
    if message is None:
        return None
    if message.venue is not None:
        venue = message.venue
        where = venue.location
        return Place(where.latitude, where.longitude, venue.title or None, venue.address or None)
    if message.location is not None:
        return Place(message.location.latitude, message.location.longitude)
    return None
