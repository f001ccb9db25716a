"""Feedback slips (回访, issue #3): three questions one at a time, a comment by reply, the
``/start slip_<id>`` deep link for residents the bot could not write to. The sweep that
reminds and expires slips runs in ``bot.schedule.jobs.run_sweeps``.
"""

from __future__ import annotations

import re

from telegram import Message, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from bot.core.errors import UserError
from bot.core.parsing import parse_id
from bot.issues import keyboards as kb
from bot.issues.rates import Satisfaction, Solved
from handlers.issues.common import answer_error, notifier, reply, reply_error, service
from handlers.replies import answer, answer_stale, say_text

_DEEP_LINK = re.compile(r"^slip_(\d+)$")


def complete(answers: tuple[str, ...]) -> bool:
    """Whether the answers are the three valid ones followed by 提交."""
    return (
        len(answers) == 4
        and answers[0] in kb.CONTACTED
        and answers[1] in kb.SOLVED
        and answers[2] in kb.SATISFACTION
        and answers[3] == "ok"
    )


def well_formed(answers: tuple[str, ...]) -> bool:
    checks: tuple[frozenset[str], ...] = (
        frozenset(kb.CONTACTED),
        frozenset(kb.SOLVED),
        frozenset(kb.SATISFACTION),
        frozenset({"ok"}),
    )
    return len(answers) <= 4 and all(a in c for a, c in zip(answers, checks, strict=False))


async def submit_slip(
    context: BotContext, slip_id: int, user_id: int, answers: tuple[str, ...], comment: str | None
) -> None:
    """Hand the three answers to the service and tell whoever needs to know (may raise)."""
    outcome = await service(context).answer_slip(
        slip_id,
        user_id,
        contacted=kb.CONTACTED[answers[0]],
        solved=Solved(kb.SOLVED[answers[1]]),
        satisfaction=Satisfaction(kb.SATISFACTION[answers[2]]),
        comment=comment,
    )
    notify = notifier(context)
    await notify.slip_progress(user_id, slip_id, outcome.issue, answers)
    await notify.deliver(outcome)


async def answer_slip_step(update: Update, context: BotContext) -> None:
    """A slip button: the next question appears in place; 提交 records the rating."""
    query = update.callback_query
    if query is None:
        return
    parsed = kb.parse_slip(query.data)
    if parsed is None or not well_formed(parsed[1]):
        await answer_stale(context, query)
        return
    slip_id, answers = parsed
    found = await notifier(context).slip_issue(slip_id)
    if found is None or found[0] != query.from_user.id:
        await answer(query, context.t.text("issues.errors.not_your_slip"), alert=True)
        return
    if not complete(answers):
        await notifier(context).slip_progress(query.from_user.id, slip_id, found[1], answers)
        await answer(query)
        return
    try:
        await submit_slip(context, slip_id, query.from_user.id, answers, None)
    except UserError as error:
        await answer_error(context, query, error)
        return
    await answer(query, context.t.text("issues.toasts.slip_saved"))


def slip_in_reply(message: Message) -> tuple[int, tuple[str, ...]] | None:
    """The slip and its answers, read from the 提交 button of the message replied to."""
    target = message.reply_to_message
    markup = target.reply_markup if target is not None else None
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            parsed = kb.parse_slip(
                button.callback_data if isinstance(button.callback_data, str) else None
            )
            if parsed is not None and complete(parsed[1]):
                return parsed
    return None


async def comment_on_slip(update: Update, context: BotContext) -> None:
    """Replying to a fully answered slip submits it with the reply as the comment."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    parsed = slip_in_reply(message)
    if parsed is None:
        return
    try:
        await submit_slip(context, parsed[0], message.from_user.id, parsed[1], message.text)
    except UserError as error:
        await reply_error(context, message, error)
        return
    await reply(context, message, "slip_thanks")


class _RepliesToSlip(filters.MessageFilter):
    def filter(self, message: Message) -> bool:
        return slip_in_reply(message) is not None


async def open_slip(update: Update, context: BotContext) -> None:
    """/start slip_<id> (the group's 去评价 button) shows the slip in the private chat."""
    message = update.effective_message
    match = _DEEP_LINK.match(context.args[0]) if context.args else None
    if message is None or message.from_user is None or match is None:
        return
    slip_id = parse_id(match.group(1))
    notify = notifier(context)
    found = None if slip_id is None else await notify.slip_issue(slip_id)
    if slip_id is None or found is None or found[0] != message.from_user.id:
        await say_text(context, message, context.t.text("issues.errors.not_your_slip"))
        return
    await notify.slip_message(message.chat_id, slip_id, found[1])


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
    return [
        CallbackQueryHandler(answer_slip_step, pattern=r"^s:"),
        CommandHandler(
            "start", open_slip, filters=private & filters.Regex(r"^/start slip_"), has_args=True
        ),
        MessageHandler(
            private & filters.TEXT & ~filters.COMMAND & _RepliesToSlip(), comment_on_slip
        ),
    ]
