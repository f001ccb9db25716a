"""/mydata and /forget (PIPL arts. 44–47): a copy of everything stored, or erasure after a
confirmation button. Both private only."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.privacy.personal_data import PersonalDataService
from bot.privacy.presenter import MyDataView
from bot.registry.presenter import forget_keyboard
from handlers.replies import answer


def personal(context: BotContext) -> PersonalDataService:
    found: PersonalDataService = context.services.features.personal_data
    return found


async def send_my_data(update: Update, context: BotContext) -> None:
    """/mydata: the person reads what is stored about them, where it came from and who sees
    it, then receives all of it as a JSON file."""
    user = update.effective_user
    if user is None:
        return
    data = await personal(context).my_data(user.id)
    view = MyDataView(context.t, context.services.config)
    outbox = context.services.outbox
    await outbox.send_message(user.id, view.summary(data))
    await outbox.send_document(user.id, data.file, "mydata.json", caption=view.caption())


async def ask_forget(update: Update, context: BotContext) -> None:
    """/forget: explain what is deleted and what stays, with a confirm button."""
    user = update.effective_user
    if user is None:
        return
    text = context.t.render("registry/forget_confirm")
    markup = forget_keyboard(context.t)
    await context.services.outbox.send_message(user.id, text, reply_markup=markup)


async def confirm_forget(update: Update, context: BotContext) -> None:
    """确认删除 erases the person's data; 取消 changes nothing."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None or query.data is None:
        return
    if query.data.endswith(":no"):
        await answer(query, context.t.text("registry.toasts.cancelled"))
        return
    await personal(context).forget(user.id)
    await answer(query)  # a stale query must not undo the erasure
    await context.services.outbox.send_message(user.id, context.t.render("registry/forgotten"))


async def sweep_retention(context: BotContext) -> None:
    """JobQueue tick: anonymise reporters of issues closed longer ago than the retention."""
    async with context.services.db.transaction():
        await personal(context).retention_sweep()


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("mydata", send_my_data, filters=private),
        CommandHandler("forget", ask_forget, filters=private),
        CallbackQueryHandler(confirm_forget, pattern=r"^reg:forget:(yes|no)$"),
    ]
