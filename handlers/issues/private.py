"""The private guided report (网格悄悄话, issue #3): a resident writes to the bot and answers a
few buttons; a private report never appears in any group. Steps: bot.issues.draft.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from telegram import Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.context import BotContext
from bot.core.errors import UserError
from bot.core.geo import Place
from bot.issues import draft as issue_draft
from bot.issues.draft import Draft
from bot.issues.model import IssueType
from bot.issues.parsing import check_description
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
from handlers.replies import answer, answer_stale, error_html

log = logging.getLogger(__name__)


async def load_draft(context: BotContext, user_id: int) -> tuple[int, Draft | None]:
    """(the number of the resident's last draft message, their draft in progress or None)."""
    return await context.services.features.drafts.load(user_id)


async def save_draft(context: BotContext, user_id: int, seq: int, draft: Draft | None) -> None:
    await context.services.features.drafts.save(user_id, seq, draft)


def draft_ref(user_id: int, draft: Draft) -> str:
    return f"draft:{user_id}:{draft.seq}"


async def show_draft(
    context: BotContext, user_id: int, draft: Draft, *, new: bool, number: int | None = None
) -> None:
    """Send (or edit in place) the draft with its next question's buttons."""
    services = context.services
    t = context.t.text
    values = issue_draft.summary(draft, t, services.config)
    text = context.t.render("issues/draft", draft=values, number=number)
    markup = (
        {"inline_keyboard": []}
        if number is not None
        else issue_draft.markup(draft, t, services.config)
    )
    ref = draft_ref(user_id, draft)
    if new:
        await services.outbox.send_message(user_id, text, reply_markup=markup, ref=ref)
    else:
        await services.outbox.edit_message(ref, user_id, text, reply_markup=markup)


async def write_privately(update: Update, context: BotContext) -> None:
    """Free text in the private chat starts a guided report (or answers 在哪里)."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    user_id = message.from_user.id
    seq, draft = await load_draft(context, user_id)
    text = message.text or message.caption or ""
    if draft is not None and not draft.description:  # the location came first
        await start_draft(context, message, text, seq + 1, issue_draft.place(draft))
        return
    if draft is not None and draft.step() == "location":
        location = text.strip()[:200] or None
        draft = replace(draft, location=location, location_done=True, seq=seq + 1)
        await save_draft(context, user_id, draft.seq, draft)
        await show_draft(context, user_id, draft, new=True)
        return
    await start_draft(context, message, text, seq + 1)


async def photo_privately(update: Update, context: BotContext) -> None:
    """A photo (or an album's photo) sent privately: kept at once; a captioned one starts the
    guided report with the photos, an uncaptioned one joins the draft being written, and one
    arriving after the report was submitted goes to the issue (issue #18 item 1)."""
    message = update.effective_message
    if message is None or message.from_user is None or not message.photo:
        return
    user_id = message.from_user.id
    album = message.media_group_id or f"m{message.message_id}"  # a single photo: its own album
    outcome = await service(context).private_photo(
        user_id=user_id,
        message_id=message.message_id,
        media_group_id=album,
        file_id=largest_photo(message)[0],
    )
    if outcome is not None:
        await notifier(context).deliver(outcome)
        return
    seq, draft = await load_draft(context, user_id)
    if message.caption:
        await start_draft(context, message, message.caption, seq + 1, album=album)
    elif draft is not None and draft.album is None:
        draft = replace(draft, album=album)
        await save_draft(context, user_id, seq, draft)
        await show_draft(context, user_id, draft, new=False)


async def voice_privately(update: Update, context: BotContext) -> None:
    """A voice note sent privately is the description of a new guided report; words typed
    as its caption go with it (issue #18 item 2)."""
    message = update.effective_message
    if message is None or message.from_user is None or message.voice is None:
        return
    user_id = message.from_user.id
    seq, _ = await load_draft(context, user_id)
    caption = (message.caption or "").strip()
    try:
        said = check_description(caption, context.services.config) if caption else ""
    except UserError as error:
        await reply_error(context, message, error)
        return
    draft = replace(
        issue_draft.start(said, context.services.config, seq + 1),
        voice_file_id=message.voice.file_id,
        voice_seconds=voice_seconds(message.voice),
    )
    await save_draft(context, user_id, draft.seq, draft)
    await show_draft(context, user_id, draft, new=True)


async def send_place(update: Update, context: BotContext) -> None:
    """A location or venue in the private chat locates the draft in progress (issue #18 item 3);
    with no draft yet it is kept for the report the resident is asked to write next."""
    message = update.effective_message
    where = sent_place(message)
    if message is None or message.from_user is None or where is None:
        return
    user_id = message.from_user.id
    seq, draft = await load_draft(context, user_id)
    if draft is None or not draft.description:
        await save_draft(context, user_id, seq, issue_draft.pending(where, seq))
        await reply(context, message, "place_first")
        return
    draft = issue_draft.locate(replace(draft, seq=seq + 1), where, context.services.config)
    await save_draft(context, user_id, draft.seq, draft)
    await show_draft(context, user_id, draft, new=True)


async def start_draft(
    context: BotContext,
    message: Message,
    text: str,
    seq: int,
    where: Place | None = None,
    *,
    album: str | None = None,
) -> None:
    assert message.from_user is not None
    config = context.services.config
    try:
        description = check_description(text, config)
    except UserError as error:
        await reply_error(context, message, error)
        return
    draft = replace(issue_draft.start(description, config, seq), album=album)
    if where is not None:
        draft = issue_draft.locate(draft, where, config)
    await save_draft(context, message.from_user.id, seq, draft)
    await show_draft(context, message.from_user.id, draft, new=True)


async def choose_option(update: Update, context: BotContext) -> None:
    """A draft button: record the answer and ask the next question in place."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    user_id = query.from_user.id
    seq, draft = await load_draft(context, user_id)
    parts = query.data.split(":")
    if draft is None:
        await answer(query, context.t.text("issues.errors.draft_gone"), alert=True)
        return
    if parts[1] == "x":
        await save_draft(context, user_id, seq, None)
        await context.services.outbox.edit_message(
            draft_ref(user_id, draft), user_id, context.t.render("issues/draft_cancelled")
        )
        await answer(query, context.t.text("issues.toasts.cancelled"))
    elif parts[1] == "ok" and draft.step() == "confirm":
        await submit_draft(context, query.from_user.full_name, user_id, draft)
        await answer(query)
    else:
        changed = issue_draft.choose(draft, parts[1], ":".join(parts[2:]), context.services.config)
        if changed is None:  # an old keyboard's button, or a forged one
            await answer_stale(context, query)
            return
        await save_draft(context, user_id, seq, changed)
        await show_draft(context, user_id, changed, new=False)
        await answer(query)


async def submit_draft(context: BotContext, name: str, user_id: int, draft: Draft) -> None:
    """提交: the service files it; the draft message shows the number, the worker gets the card."""
    assert draft.grid is not None
    try:
        outcome = await service(context).report_private(
            user_id=user_id,
            display_name=name,
            grid_key=draft.grid,
            description=draft.description,
            issue_type=IssueType(draft.type or "report"),
            category_key=draft.category,
            location=draft.location,
            private=draft.visibility != "pub",
            anonymous=draft.visibility == "anon",
            album=draft.album,
            voice=None
            if draft.voice_file_id is None
            else voice_note(context, draft.voice_file_id, draft.voice_seconds),
            place=issue_draft.place(draft),
        )
    except UserError as error:
        await context.services.outbox.send_message(user_id, error_html(context, error))
        return
    await save_draft(context, user_id, draft.seq, None)
    await show_draft(context, user_id, draft, new=False, number=outcome.issue.number)
    await notifier(context).deliver(outcome)


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
    return [
        CallbackQueryHandler(choose_option, pattern=r"^p:"),
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, write_privately),
        MessageHandler(private & filters.PHOTO & ~filters.CaptionRegex(r"^/"), photo_privately),
        MessageHandler(private & filters.VOICE, voice_privately),
        MessageHandler(private & (filters.LOCATION | filters.VENUE), send_place),
    ]
