"""Looking at issues (issue #3): /issues (a worker's or handler's queue), /issue N (one issue and
its timeline), /mine (a resident's own reports). In a group only group-safe fields are shown.
"""

from __future__ import annotations

import re
from typing import Any

from telegram import Message, Update
from telegram.ext import BaseHandler, CommandHandler, filters

from bot.context import BotContext
from bot.core.errors import NotFound, UserError
from bot.core.parsing import parse_id
from bot.issues.model import Action, EventView, IssueView, state_ref
from bot.issues.presenter import IssueNotifier
from bot.issues.service import QueueFilter
from bot.privacy.service import Audience, audience_of, group_visible
from handlers.issues.common import notifier, reply, reply_error, service

_NEW = filters.UpdateType.MESSAGE
_FOLLOW = re.compile(r"^issue_(\d+)$")


def event_rows(notify: IssueNotifier, events: tuple[EventView, ...]) -> list[dict[str, Any]]:
    t = notify.t
    return [
        {
            "at": notify.when(e.at),
            "role": t(f"issues.roles.{e.actor_role}"),
            "action": t(f"issues.actions.{e.action.value}"),
            "state": t(state_ref(e.to_state)),
            "changed": e.from_state is not e.to_state,
            "note": note_text(notify, e),
        }
        for e in events
    ]


def note_text(notify: IssueNotifier, event: EventView) -> str | None:
    """An event's note as people read it: some actions store a key or a time there."""
    config, note = notify.config, event.note
    if note is None:
        return None
    match event.action:
        case Action.ASSIGN:
            handler = config.handler_by_key(note)
            return handler.name if handler else note
        case Action.TRANSFER:
            grid = config.grid_by_key(note)
            return grid.name if grid else note
        case Action.RECATEGORISE:
            names = [getattr(config.category(key), "name", key) for key in note.split("→")]
            return "→".join(names)
        case Action.SET_DEADLINE:
            return notify.when(event.deadline)
    return note


def list_rows(
    notify: IssueNotifier, issues: tuple[IssueView, ...], viewer: int
) -> list[dict[str, Any]]:
    """Each issue as ``viewer`` may see it (a handler's queue hides who complained)."""
    now = notify.services.clock.now()
    rows = []
    for issue in issues:
        row = notify.fields(issue, audience_of(notify.config, issue, viewer))
        row["overdue"] = issue.is_overdue(now)
        rows.append(row)
    return rows


async def show_issue(update: Update, context: BotContext) -> None:
    """/issue 12: the issue and every step so far (in a group: state and steps only)."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    args = context.args or []
    number = parse_id(args[0].lstrip("#")) if args else None
    if number is None:
        await reply(context, message, "usage", command="issue")
        return
    try:
        if message.chat.type == "private":
            await show_private(context, message, number, message.from_user.id)
        else:
            await show_in_group(context, message, number)
    except UserError as error:
        await reply_error(context, message, error)


async def show_private(
    context: BotContext, message: Message, number: int, viewer: int, *, following: bool = False
) -> IssueView:
    """The issue and its timeline; ``following``: opened from the group's deep link, so a
    reporter is also told that the next steps will come privately."""
    issues = service(context)
    issue = await issues.get(number, viewer)
    events = await issues.timeline(number, viewer)
    notify = notifier(context)
    audience = audience_of(context.services.config, issue, viewer)
    text = notify.render(
        "detail",
        issue,
        audience,
        events=event_rows(notify, events),
        group=False,
        following=following and viewer in issue.reporter_ids,
    )
    await context.services.outbox.send_message(message.chat_id, text)
    await notify.send_report_media(message.chat_id, issue)
    return issue


async def follow_issue(update: Update, context: BotContext) -> None:
    """/start issue_12 (the group ack's 私聊接收进展 button): a resident the bot could not write
    to sees the issue as it stands, its result and every step so far, then any feedback slip
    still waiting for them (issue #13 item 13)."""
    message = update.effective_message
    match = _FOLLOW.match(context.args[0]) if context.args else None
    if message is None or message.from_user is None or match is None:
        return
    number, viewer = int(match.group(1)), message.from_user.id
    try:
        issue = await show_private(context, message, number, viewer, following=True)
    except UserError as error:
        await reply_error(context, message, error)
        return
    slip_id = await service(context).open_slip_of(number, viewer)
    if slip_id is not None:
        await notifier(context).slip_message(message.chat_id, slip_id, issue)


async def show_in_group(context: BotContext, message: Message, number: int) -> None:
    """Only issues of this group's grid that are not private; no names, notes or roles."""
    issues = service(context)
    issue = await issues.load(number)
    grid = await issues.grid_of_chat(message.chat_id)
    if grid is None or issue.grid != grid.key or not group_visible(issue):
        raise NotFound(number=number)
    events = await issues.repo.events(issue.id)
    notify = notifier(context)
    rows = event_rows(notify, tuple(EventView.from_record(e) for e in events))
    text = notify.render("detail", issue, Audience.GROUP, events=rows, group=True, following=False)
    await context.services.outbox.send_message(message.chat_id, text, reply_to=message.message_id)


async def list_queue(update: Update, context: BotContext) -> None:
    """/issues [overdue|unassigned]: a grid worker's open issues (a handler's assignments)."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    user = message.from_user.id
    args = context.args or []
    try:
        queue = QueueFilter(args[0]) if args else QueueFilter.ALL
    except ValueError:
        await reply(context, message, "usage", command="issues")
        return
    try:
        if context.services.config.handler_by_user(user) and not args:
            issues = await service(context).handler_queue(user)
        else:
            issues = await service(context).worker_queue(user, queue)
    except UserError as error:
        await reply_error(context, message, error)
        return
    rows = list_rows(notifier(context), issues, user)
    await reply(context, message, "queue", issues=rows, queue=queue.value)


async def list_mine(update: Update, context: BotContext) -> None:
    """/mine: the resident's own reports, newest first, with their state."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    user = message.from_user.id
    rows = list_rows(notifier(context), await service(context).mine(user), user)
    await reply(context, message, "mine", issues=rows)


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    private = _NEW & filters.ChatType.PRIVATE
    return [
        CommandHandler("issue", show_issue, filters=_NEW),
        CommandHandler(
            "start",
            follow_issue,
            filters=private & filters.Regex(r"^/start issue_"),
            has_args=True,
        ),
        CommandHandler("issues", list_queue, filters=private),
        CommandHandler("mine", list_mine, filters=private),
    ]
