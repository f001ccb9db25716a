"""/todo (issue #18 items 5-6): what is waiting on me, each item with its button."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.context import BotContext
from bot.todo.presenter import TodoPresenter, todo_service
from handlers.replies import say


async def show_todo(update: Update, context: BotContext) -> None:
    """/todo privately: a summary, then each waiting item with its button (or 没有待办事项)."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    todo = await todo_service(context.services).of(message.from_user.id)
    await TodoPresenter(context.services, context.bot.username).show(message.chat_id, todo)


async def ask_private(update: Update, context: BotContext) -> None:
    """/todo in a group: the list is personal, so it is only ever shown privately."""
    message = update.effective_message
    if message is not None:
        await say(context, message, context.t.render("todo/private_only"))


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    new = filters.UpdateType.MESSAGE
    return [
        CommandHandler("todo", show_todo, filters=new & filters.ChatType.PRIVATE),
        CommandHandler("todo", ask_private, filters=new & filters.ChatType.GROUPS),
    ]
