"""Notices with 收到 (issue #6): ``/notice 内容`` or ``#通知 内容`` by a grid worker in the grid
group; residents tap 收到; the author asks ``/unacked N`` (or presses 未收到名单) and gets,
privately, the households that have not acknowledged, with a button to remind them once.
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.core.errors import UserError
from bot.core.parsing import parse_id
from bot.votes.presenter import VoteNotifier, group_grid, notices
from handlers.replies import answer, answer_stale, say_error

_CALLBACK = re.compile(r"^nt:(a|l|r):(\d+)$")
_HASHTAG = r"^\s*#通知"


async def post_notice(update: Update, context: BotContext) -> None:
    """/notice 内容 or #通知 内容: the group gets the notice with 收到 and 未收到名单 buttons."""
    message = update.effective_message
    if message is None or message.from_user is None or message.text is None:
        return
    body = re.sub(r"^\s*(?:/notice(?:@\w+)?|#通知)\s*", "", message.text)
    try:
        grid = await group_grid(context.services, message)
        notice = await notices(context.services).post(
            message.from_user.id, message.chat_id, grid, body
        )
    except UserError as error:
        await say_error(context, message, error)
        return
    await VoteNotifier(context.services).post_notice(notice)


async def list_unacked(update: Update, context: BotContext) -> None:
    """/unacked N: the author gets, privately, the households that have not acknowledged."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    args = context.args or []
    user = message.from_user.id
    try:
        number = parse_id(args[0]) if len(args) == 1 else None
        if number is None:
            raise UserError("votes.errors.notice_usage")
        status = await notices(context.services).status(user, number)
    except UserError as error:
        await say_error(context, message, error)
        return
    await VoteNotifier(context.services).unacked(status, user)


async def press_notice(update: Update, context: BotContext) -> None:
    """收到 (anyone), 未收到名单 and 提醒未收到的住户 (the author: sent privately)."""
    query = update.callback_query
    if query is None:
        return
    match = _CALLBACK.match(query.data or "")
    notice_id = parse_id(match[2]) if match else None
    if match is None or notice_id is None:
        await answer_stale(context, query)
        return
    verb, user = match[1], query.from_user.id
    t, service, notify = context.t.text, notices(context.services), VoteNotifier(context.services)
    try:
        if verb == "a":
            new = await service.acknowledge(user, notice_id)
            await answer(query, t("votes.toasts.acked" if new else "votes.toasts.acked_before"))
        elif verb == "l":
            await notify.unacked(await service.status(user, notice_id), user)
            await answer(query, t("votes.toasts.sent_private"))
        else:
            sent = await service.remind(user, notice_id, notify.reaches_privately)
            await notify.notice_reminders(sent, user)
            await answer(query)
    except UserError as error:
        await answer(query, error.render(t), alert=True)


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    new = filters.UpdateType.MESSAGE
    return [
        CommandHandler("notice", post_notice, filters=new),
        MessageHandler(new & filters.ChatType.GROUPS & filters.Regex(_HASHTAG), post_notice),
        CommandHandler("unacked", list_unacked, filters=new),
        CallbackQueryHandler(press_notice, pattern=r"^nt:"),
    ]
