"""Meetings (议事会 / 协商会, issue #6) from the chat.

/meeting 标题 | 时间 | 地点 | 议题 | 范围   create and announce (grid workers, secretaries)
/meeting N                                the convenor's view: sign-ups, suggestions grouped
/suggest N 内容, or #建议 replying to the announcement     意见征集 before the meeting
/resolution N 内容 · /minutes N            after the meeting (convenor)
/object N 内容                             during the publicity window (公示)
Buttons ``mt:su:N`` (报名) and ``mt:si:N`` (签到); the service checks each press.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Final

from telegram import Message, Update, User
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.consult.meetings_model import MeetingView
from bot.consult.meetings_presenter import MeetingNotifier, meeting_service
from bot.context import BotContext
from bot.core.errors import UserError
from bot.core.parsing import parse_id
from handlers.replies import answer, answer_stale, say, say_text

_CALLBACK: Final = re.compile(r"^mt:(su|si):(\d+)$")
_SUGGEST_TAG: Final = re.compile(r"^\s*#建议\s*")
Act = Callable[[int, User, str], Awaitable[MeetingView]]


async def create_or_view(update: Update, context: BotContext) -> None:
    """/meeting: the form's guide; /meeting N: the overview; /meeting 标题 | …: announce."""
    message = update.effective_message
    if message is None or message.from_user is None or message.text is None:
        return
    rest = message.text.partition(" ")[2].strip()
    meetings, notify = meeting_service(context.services), MeetingNotifier(context.services)
    number = parse_id(rest.lstrip("#"))
    try:
        if not rest:
            await say(context, message, context.t.render("meetings/usage"))
        elif number is not None:
            view = await meetings.overview(number, message.from_user.id)
            await notify.show_overview(view, message.from_user.id, message.chat_id)
        else:
            created = await meetings.create(message.from_user.id, rest)
            await notify.announce(created.view)
            text = context.t.text(
                "meetings.replies.announced", number=created.view.id, groups=len(created.chats)
            )
            await say_text(context, message, text)
    except UserError as error:
        await say_text(context, message, error.render(context.t.text))


def actions(context: BotContext) -> dict[str, tuple[Act, str | None]]:
    """Typed commands by name: what they do and the reply key (None: the view is the reply)."""
    s = meeting_service(context.services)
    return {
        "suggest": (
            lambda n, u, text: s.suggest(n, u.id, u.full_name, text, "private"),
            "meetings.replies.suggested",
        ),
        "resolution": (lambda n, u, text: s.resolve(n, u.id, text), "meetings.replies.resolved"),
        "minutes": (lambda n, u, text: s.close(n, u.id), None),
        "object": (
            lambda n, u, text: s.object(n, u.id, u.full_name, text),
            "meetings.replies.objected",
        ),
    }


async def act_by_command(update: Update, context: BotContext) -> None:
    """/suggest N 内容, /resolution N 内容, /minutes N, /object N 内容."""
    message = update.effective_message
    if message is None or message.from_user is None or message.text is None:
        return
    command = message.text.split()[0].lstrip("/").split("@")[0].lower()
    args = message.text.split(maxsplit=2)[1:]
    number = parse_id(args[0].lstrip("#")) if args else None
    if number is None:
        await say_text(
            context, message, context.t.text("meetings.errors.usage_number", command=command)
        )
        return
    text = args[1] if len(args) > 1 else ""
    act, reply_key = actions(context)[command]
    try:
        view = await act(number, message.from_user, text)
    except UserError as error:
        await say_text(context, message, error.render(context.t.text))
        return
    await after(context, message, command, view, text, reply_key)


async def after(
    context: BotContext,
    message: Message,
    command: str,
    view: MeetingView,
    text: str,
    reply_key: str | None,
) -> None:
    """Tell whoever needs to know, then confirm to the person who typed it."""
    notify = MeetingNotifier(context.services)
    name = message.from_user.full_name if message.from_user else ""
    if command == "minutes":
        await notify.publish_minutes(view)
    elif command in ("suggest", "object"):
        template = "suggestion" if command == "suggest" else "objection"
        await notify.to_convenor(view, template, name=name, text=text)
    if reply_key is not None:
        count = len(view.resolutions)
        await say_text(context, message, context.t.text(reply_key, number=view.id, count=count))


def _meeting_of_reply(message: Message) -> int | None:
    """The meeting whose announcement ``message`` replies to (its 报名 button says which)."""
    replied = message.reply_to_message
    markup = replied.reply_markup if replied is not None else None
    for row in markup.inline_keyboard if markup is not None else ():
        for button in row:
            match = (
                _CALLBACK.match(button.callback_data or "")
                if isinstance(button.callback_data, str)
                else None
            )
            if match is not None:
                return parse_id(match.group(2))
    return None


class _RepliesToMeeting(filters.MessageFilter):
    """#建议 … replying to a meeting's announcement (other #建议 stay issue reports)."""

    def filter(self, message: Message) -> bool:
        text = message.text or ""
        return bool(_SUGGEST_TAG.match(text)) and _meeting_of_reply(message) is not None


async def suggest_in_group(update: Update, context: BotContext) -> None:
    """#建议 内容 as a reply to the announcement: a suggestion for that meeting."""
    message = update.effective_message
    number = _meeting_of_reply(message) if message is not None else None
    if message is None or message.from_user is None or number is None:
        return
    text = _SUGGEST_TAG.sub("", message.text or "", count=1)
    user = message.from_user
    try:
        view = await meeting_service(context.services).suggest(
            number, user.id, user.full_name, text, "group"
        )
    except UserError as error:
        await say_text(context, message, error.render(context.t.text))
        return
    await after(context, message, "suggest", view, text, "meetings.replies.suggested")


async def press(update: Update, context: BotContext) -> None:
    """报名 / 签到: record it and toast, or refuse with an alert."""
    query = update.callback_query
    if query is None:
        return
    match = _CALLBACK.match(query.data or "")
    number = parse_id(match.group(2)) if match else None
    if match is None or number is None:
        await answer_stale(context, query)
        return
    verb, user = match.group(1), query.from_user
    meetings = meeting_service(context.services)
    try:
        if verb == "su":
            view = await meetings.sign_up(number, user.id, user.full_name)
            await MeetingNotifier(context.services).refresh(view)
        else:
            await meetings.sign_in(number, user.id, user.full_name)
    except UserError as error:
        await answer(query, error.render(context.t.text), alert=True)
        return
    await answer(
        query, context.t.text(f"meetings.toasts.{'signed_up' if verb == 'su' else 'signed_in'}")
    )


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    new = filters.UpdateType.MESSAGE
    return [
        CommandHandler("meeting", create_or_view, filters=new),
        CommandHandler(
            ["suggest", "resolution", "minutes", "object"], act_by_command, filters=new
        ),
        MessageHandler(
            new & filters.ChatType.GROUPS & filters.TEXT & _RepliesToMeeting(), suggest_in_group
        ),
        CallbackQueryHandler(press, pattern=r"^mt:"),
    ]
