"""接龙 in grid groups (issue #6): ``#接龙 主题`` or ``/jielong 主题`` starts a list; its buttons
+1 接龙, 撤回, 结束接龙 and 导出名单 act on it. A button carries only ``jl:<verb>:<number>``;
the service checks who pressed it every time.
"""

from __future__ import annotations

import re
from typing import Final

from telegram import CallbackQuery, Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.consult import jielong_presenter as jielong_notify
from bot.consult.jielong import JielongService, JielongView
from bot.context import BotContext
from bot.core.errors import UserError
from bot.core.parsing import parse_id
from handlers.replies import answer, answer_stale, say_error

_TAG: Final = re.compile(r"^\s*#接龙\s*")
_CALLBACK: Final = re.compile(r"^jl:([jwxe]):(\d+)$")


def service(context: BotContext) -> JielongService:
    found: JielongService = context.services.features.jielong
    return found


async def start(context: BotContext, message: Message, text: str) -> None:
    if message.from_user is None:
        return
    try:
        view = await service(context).start(message.chat_id, message.from_user.id, text)
    except UserError as error:
        await say_error(context, message, error)
        return
    await jielong_notify.post(context.services, view, message.message_id)


async def start_by_command(update: Update, context: BotContext) -> None:
    """/jielong 周六义务植树 限20人 截止11月28日18:00: the group gets a numbered list."""
    message = update.effective_message
    if message is not None:
        await start(context, message, " ".join(context.args or ()))


async def start_by_tag(update: Update, context: BotContext) -> None:
    """#接龙 主题 …: the same as /jielong."""
    message = update.effective_message
    if message is not None and message.text is not None:
        await start(context, message, _TAG.sub("", message.text, count=1))


async def act(context: BotContext, query: CallbackQuery, verb: str, number: int) -> str:
    """Do what the button says; return the toast."""
    jielongs, user, t = service(context), query.from_user, context.t.text
    view: JielongView
    if verb == "e":
        view = await jielongs.export(number, user.id)
        if not await context.services.outbox.repo.has_delivered_to(user.id):
            raise UserError("jielong.errors.open_private")
        await jielong_notify.export(context.services, view, user.id)
        return t("jielong.toasts.exported")
    if verb == "j":
        view = await jielongs.join(number, user.id, user.full_name)
        toast = t("jielong.toasts.joined", position=len(view.entries))
    elif verb == "w":
        view = await jielongs.withdraw(number, user.id)
        toast = t("jielong.toasts.withdrawn")
    else:
        view = await jielongs.close(number, user.id)
        toast = t("jielong.toasts.closed")
    await jielong_notify.show(context.services, view)
    return toast


async def press(update: Update, context: BotContext) -> None:
    """Any 接龙 button: act and toast, or refuse with an alert that changes nothing."""
    query = update.callback_query
    if query is None:
        return
    match = _CALLBACK.match(query.data or "")
    number = parse_id(match.group(2)) if match else None
    if match is None or number is None:
        await answer_stale(context, query)
        return
    try:
        toast = await act(context, query, match.group(1), number)
    except UserError as error:
        await answer(query, error.render(context.t.text), alert=True)
        return
    await answer(query, toast)


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    groups = filters.UpdateType.MESSAGE & filters.ChatType.GROUPS
    return [
        CommandHandler("jielong", start_by_command, filters=groups),
        MessageHandler(groups & filters.TEXT & filters.Regex(_TAG), start_by_tag),
        CallbackQueryHandler(press, pattern=r"^jl:"),
    ]
