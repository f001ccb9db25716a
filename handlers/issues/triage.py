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
from bot.issues.presenter import card_ref, chase_ref, dup_ref, order_ref, return_ref
from bot.privacy.service import Audience
from handlers.issues.common import (
    answer_error,
    edit_if_sent,
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


async def show_card(context: BotContext, ref: str, chat_id: int, issue: IssueView) -> None:
    """Edit a worker's card (or hint) to the issue's current state and buttons."""
    await edit_if_sent(
        context, ref, chat_id, card_text(context, issue), card_buttons(context, issue, chat_id)
    )


def card_text(context: BotContext, issue: IssueView) -> str:
    return notifier(context).render("worker_card", issue, Audience.WORKER, **_no_extra())


def grid_staff(context: BotContext, grid_key: str) -> set[int]:
    grid = context.services.config.grid_by_key(grid_key)
    return set((*grid.workers, *grid.leaders)) if grid else set()


def card_buttons(context: BotContext, issue: IssueView, chat_id: int) -> kb.Markup | None:
    """The card's buttons, for the staff of the issue's grid only (after a 转办 the old
    grid's cards keep the text and lose the buttons)."""
    return kb.card(context.t.text, issue) if chat_id in grid_staff(context, issue.grid) else None


async def show_order(context: BotContext, chat_id: int, issue: IssueView) -> None:
    notify = notifier(context)
    text = notify.render("handler_order", issue, Audience.HANDLER, **_no_extra())
    ref = order_ref(issue.number, chat_id)
    await edit_if_sent(context, ref, chat_id, text, kb.handler_order(context.t.text, issue))


def _no_extra() -> dict[str, object]:
    return {"action": None, "action_key": None, "note": None, "related": (), "services": []}


async def show_choices(context: BotContext, query: CallbackQuery, cb: kb.Callback) -> None:
    """交办/退回/转办/改类别: the card's buttons become the options (after a permission check)."""
    issue, _ = await service(context).act(query.from_user.id, cb.number, _CHOOSE[cb.verb])
    config, t = context.services.config, context.t.text
    options = {
        "asg": lambda: kb.handler_options(config),
        "rej": lambda: kb.reject_options(t),
        "trf": lambda: kb.grid_options(config, issue.grid),
        "cat": lambda: kb.category_options(config, issue.category),
        "ddl": lambda: kb.deadline_options(t),
    }[cb.verb]()
    ref = await pressed_ref(context, query, worker_refs(cb.number, query.from_user.id))
    await edit_if_sent(
        context, ref, query.from_user.id, card_text(context, issue),
        kb.choices(t, cb.number, cb.verb, options),
    )  # fmt: skip
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
            await show_card(context, ref, user, issue)
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
    """After an action, the presser's own message shows the new state and buttons, and so do
    the other workers' and leaders' messages about it (else theirs would offer 受理 on an
    issue already assigned; the service would refuse the press, but the card would mislead)."""
    await _refresh_own(context, user, issue, query)
    others = grid_staff(context, issue.grid)
    if user not in others:  # a 转办 away: the old grid's staff lose their buttons
        for grid in context.services.config.community.grids:
            if user in (members := grid_staff(context, grid.key)):
                others |= members
    others.discard(user)
    # Their card, and any 催受理 reminder or hint with the same buttons: one query for all.
    refs = [(staff, ref) for staff in sorted(others) for ref in worker_refs(issue.number, staff)]
    sent = await context.services.outbox.repo.sent_refs([ref for _, ref in refs])
    text = card_text(context, issue)
    for staff, ref in refs:
        if ref in sent:
            markup = card_buttons(context, issue, staff) or {"inline_keyboard": []}
            await context.services.outbox.edit_message(ref, staff, text, reply_markup=markup)


async def _refresh_own(
    context: BotContext, user: int, issue: IssueView, query: CallbackQuery | None
) -> None:
    if issue.handler is not None and context.services.config.handler_by_user(user):
        handler = context.services.config.handler_by_key(issue.handler)
        if handler is not None and handler.user_id == user:
            await show_order(context, user, issue)
            return
    candidates = worker_refs(issue.number, user)
    ref = candidates[0] if query is None else await pressed_ref(context, query, candidates)
    await show_card(context, ref, user, issue)


def worker_refs(number: int, user: int) -> list[str]:
    """The messages of one worker that carry an issue's buttons, the card first."""
    return [card_ref(number, user), return_ref(number, user), dup_ref(number, user),
            chase_ref(number, user)]  # fmt: skip


# -- typed inputs ------------------------------------------------------------------------------


def typed(context: BotContext, photos: tuple[str, ...] = ()) -> dict[str, Act]:
    """What each typed command does; ``photos`` came with it (a photo captioned /done)."""
    s = service(context)
    return {
        "note": lambda user, n, args: s.handler_progress(user, n, " ".join(args)),
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
