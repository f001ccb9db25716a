"""Buttons and commands of the grid worker (受理 交办 退回 合并 转办 改类别, 退单 decisions) and
of the handler (已联系居民 处理中 已办结 申请退单), issue #3.

A button carries only ``i:<verb>:<number>[:<arg>]`` (see bot.issues.keyboards); the service checks
the presser's permission every time, and a refusal is a callback alert that changes nothing.
Typed inputs are commands the buttons spell out: /note /done /return /reject /refuse /merge.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import CallbackQuery, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.core.errors import UserError
from bot.core.parsing import leading_command, parse_id
from bot.issues import keyboards as kb
from bot.issues.model import Action, AlreadyDone, IssueView, Outcome, state_ref
from bot.issues.presenter import worker_refs
from handlers.issues.common import (
    answer_error,
    largest_photo,
    notifier,
    pressed_ref,
    reply,
    reply_error,
    service,
)
from handlers.replies import answer, answer_stale

Act = Callable[[int, int, tuple[str, ...]], Awaitable[Outcome]]

# Buttons that first need a choice (handler, reason, grid, category) or typed text.
_CHOOSE = {
    "asg": Action.ASSIGN,
    "rej": Action.REJECT,
    "trf": Action.TRANSFER,
    "cat": Action.RECATEGORISE,
    "ddl": Action.SET_DEADLINE,
}
_PROMPT = {
    "mrg": (Action.MERGE, "merge"),
    "rrf": (Action.REFUSE_RETURN, "refuse"),
    "prg": (Action.PROGRESS, "note"),
    "done": (Action.RESOLVE, "done"),
    "ret": (Action.REQUEST_RETURN, "return"),
}


def issue_id(text: str) -> int:
    """An issue number from a button or a command (#12 or 12); ValueError when it is none."""
    number = parse_id(text.lstrip("#"))
    if number is None:
        raise ValueError(text)
    return number


def actions(context: BotContext) -> dict[str, Act]:
    """What each final button does, by verb; ``args`` are the button's extra fields."""
    s, t = service(context), context.t.text
    return {
        "acc": lambda user, n, args: s.accept(user, n),
        "asg": lambda user, n, args: s.assign(user, n, args[0]),
        "rej": lambda user, n, args: s.reject(user, n, t(f"issues.reject_reasons.{args[0]}")),
        "mrg": lambda user, n, args: s.merge(user, n, issue_id(args[0])),
        "trf": lambda user, n, args: s.transfer(user, n, args[0]),
        "cat": lambda user, n, args: s.recategorise(user, n, args[0]),
        "ddl": lambda user, n, args: s.change_deadline(user, n, args[0]),
        "rap": lambda user, n, args: s.approve_return(user, n),
        "con": lambda user, n, args: s.handler_contacted(user, n),
    }


async def show_choices(context: BotContext, query: CallbackQuery, cb: kb.Callback) -> None:
    """交办/退回/转办/改类别: the card's buttons become the options (after a permission check)."""
    issue, _ = await service(context).act(query.from_user.id, cb.number, _CHOOSE[cb.verb])
    config, t = context.services.config, context.t.text
    options = {
        "asg": lambda: kb.handler_options(config, issue.grid),
        "rej": lambda: kb.reject_options(t),
        "trf": lambda: kb.grid_options(config, issue.grid),
        "cat": lambda: kb.category_options(config, issue.category),
        "ddl": lambda: kb.deadline_options(t),
    }[cb.verb]()
    ref = await pressed_ref(context, query, worker_refs(cb.number, query.from_user.id))
    notify = notifier(context)
    choices = kb.choices(t, cb.number, cb.verb, options)
    await notify.edit_if_sent(ref, query.from_user.id, notify.card_text(issue), choices)
    await answer(query, t("issues.toasts.choose"))


async def prompt_for_text(context: BotContext, query: CallbackQuery, cb: kb.Callback) -> None:
    """合并/驳回退单/处理中/已办结/申请退单: say exactly which command to type."""
    action, command = _PROMPT[cb.verb]
    await service(context).act(query.from_user.id, cb.number, action)
    text = context.t.render("issues/prompt", command=command, number=cb.number)
    await context.services.outbox.send_message(query.from_user.id, text)
    await answer(query)


async def press_issue_button(update: Update, context: BotContext) -> None:
    """Any card or 交办单 button: act, or show the next choice, or refuse with an alert."""
    query = update.callback_query
    if query is None:
        return
    cb = kb.parse(query.data)
    if cb is None:
        await answer_stale(context, query)
        return
    try:
        if cb.verb == "back":
            user = query.from_user.id
            issue = await service(context).get(cb.number, user)
            ref = await pressed_ref(context, query, worker_refs(cb.number, user))
            await notifier(context).show_card(ref, user, issue)
            await answer(query)
        elif cb.verb in _CHOOSE and not cb.args:
            await show_choices(context, query, cb)
        elif cb.verb in _PROMPT and not cb.args:
            await prompt_for_text(context, query, cb)
        else:
            await act_on_button(context, query, cb)
    except AlreadyDone as done:  # a double tap or an old button: a toast, not an alert
        await answer(query, done.render(context.t.text))
    except UserError as error:
        await answer_error(context, query, error)
    except (KeyError, IndexError, ValueError):  # a malformed or forged button
        await answer_stale(context, query)


async def act_on_button(context: BotContext, query: CallbackQuery, cb: kb.Callback) -> None:
    user = query.from_user.id
    outcome = await actions(context)[cb.verb](user, cb.number, cb.args)
    await notifier(context).deliver(outcome)
    await refresh(context, user, outcome.issue, query)
    state = context.t.text(state_ref(outcome.issue.state))
    await answer(query, context.t.text("issues.toasts.done", number=cb.number, state=state))


async def refresh(
    context: BotContext, user: int, issue: IssueView, query: CallbackQuery | None = None
) -> None:
    """The presser's message (the one pressed, else their card) and the other staff's follow."""
    own = (
        None
        if query is None
        else await pressed_ref(context, query, worker_refs(issue.number, user))
    )
    await notifier(context).refresh(user, issue, own)


# -- typed inputs ------------------------------------------------------------------------------


def typed(context: BotContext, photos: tuple[str, ...] = ()) -> dict[str, Act]:
    """What each typed command does; ``photos`` came with it (a photo captioned /done)."""
    s = service(context)
    return {
        "note": lambda user, n, args: s.note(user, n, " ".join(args)),
        "done": lambda user, n, args: s.handler_resolve(user, n, " ".join(args), photos),
        "return": lambda user, n, args: s.handler_request_return(user, n, " ".join(args)),
        "reject": lambda user, n, args: s.reject(user, n, " ".join(args)),
        "refuse": lambda user, n, args: s.refuse_return(user, n, " ".join(args)),
        "merge": lambda user, n, args: s.merge(user, n, issue_id(args[0])),
        "deadline": lambda user, n, args: s.change_deadline(user, n, " ".join(args)),
    }


async def act_by_command(update: Update, context: BotContext) -> None:
    """/done 12 已更换灯泡 (and /note /return /reject /refuse /merge /deadline): act on issue
    12. A photo captioned ``/done 12 已更换灯泡`` resolves it with the photo, which the reporter
    then sees."""
    message = update.effective_message
    text = message.text or message.caption if message else None
    if message is None or message.from_user is None or text is None:
        return
    parsed = leading_command(text, context.bot.username)
    if parsed is None or not parsed.ours:
        return  # a photo captioned for another bot (commands are filtered by PTB)
    command, args = parsed.name, tuple(parsed.rest.split())
    photos = tuple(largest_photo(message))
    two_args = command in ("merge", "deadline")
    number = parse_id(args[0].lstrip("#")) if args else None
    if number is None or (two_args and len(args) < 2):
        await reply(context, message, "usage", command=command)
        return
    try:
        rest = tuple(a.lstrip("#") for a in args[1:]) if command == "merge" else args[1:]
        outcome = await typed(context, photos)[command](message.from_user.id, number, rest)
    except UserError as error:
        await reply_error(context, message, error)
        return
    except ValueError:
        await reply(context, message, "usage", command=command)
        return
    await notifier(context).deliver(outcome)
    await refresh(context, message.from_user.id, outcome.issue)
    state = context.t.text(state_ref(outcome.issue.state))
    await reply(context, message, "acted", number=number, state=state)


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    new = filters.UpdateType.MESSAGE
    return [
        CallbackQueryHandler(press_issue_button, pattern=r"^[ih]:"),
        CommandHandler(
            ["note", "done", "return", "reject", "refuse", "merge", "deadline"],
            act_by_command,
            filters=new,
        ),
        MessageHandler(
            new & filters.PHOTO & filters.CaptionRegex(r"^/done(@\w+)?\s"), act_by_command
        ),
    ]
