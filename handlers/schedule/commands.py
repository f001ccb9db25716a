"""Schedules from the chat (issue #5): secretaries list, pause and resume the civic-calendar
rules; grid workers enrol residents in 窗帘之约; residents, volunteers and workers press its
buttons (consent, 我很好, the alert's outcome).
"""

from __future__ import annotations

import re

from telegram import CallbackQuery, Message, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.core.errors import UserError
from bot.core.parsing import parse_id
from bot.schedule.checkin import CheckinService
from bot.schedule.jobs import schedule_service
from bot.schedule.presenter import ScheduleNotifier, ask_ref
from handlers.replies import answer, answer_stale, say_error
from handlers.replies import say as reply_html

_CALLBACK = re.compile(r"^ck:(c|ok|o):(\d+)(?::([0-9a-z-]+))?$")


def checkins(context: BotContext) -> CheckinService:
    service: CheckinService = context.services.features.checkin
    return service


def notifier(context: BotContext) -> ScheduleNotifier:
    return ScheduleNotifier(context.services, context.bot.username)


async def say(context: BotContext, to: Message, template: str, **values: object) -> None:
    await reply_html(context, to, context.t.render(f"schedule/{template}", **values))


async def list_rules(update: Update, context: BotContext) -> None:
    """/rules: each reminder rule, whether it runs, and when it next sends."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    try:
        listing = await schedule_service(context.services).rules(message.from_user.id)
    except UserError as error:
        await say_error(context, message, error)
        return
    when = notifier(context).when
    rows = [
        {
            "key": v.rule.key,
            "name": context.t.text(f"schedule.rules.{v.rule.template}"),
            "paused": v.paused,
            "days": "、".join(str(d) for d in v.rule.days),
            "months": "" if len(v.rule.months) == 12 else "、".join(map(str, v.rule.months)),
            "time": f"{v.rule.time:%H:%M}",
            "next": when(v.next_at),
            "holiday": context.t.text(f"schedule.holiday.{v.rule.holiday}"),
        }
        for v in listing.rules
    ]
    year = listing.holidays_unknown
    warning = None if year is None else context.t.text("schedule.calendar.unknown_year", year=year)
    await say(context, message, "rules", rules=rows, warning=warning)


async def pause_rule(update: Update, context: BotContext) -> None:
    """/pause KEY and /resume KEY: the rule stops or starts sending."""
    message = update.effective_message
    if message is None or message.from_user is None or message.text is None:
        return
    paused = message.text.lstrip("/").startswith("pause")
    if not context.args:
        await list_rules(update, context)
        return
    try:
        view = await schedule_service(context.services).set_paused(
            message.from_user.id, context.args[0], paused
        )
    except UserError as error:
        await say_error(context, message, error)
        return
    name = context.t.text(f"schedule.rules.{view.rule.template}")
    await say(context, message, "rule_changed", name=name, key=view.rule.key, paused=paused)


async def enrol_checkin(update: Update, context: BotContext) -> None:
    """/checkin_enrol USER [VOLUNTEER] [地址]: the resident is asked to consent privately."""
    message = update.effective_message
    args = context.args or []
    if message is None or message.from_user is None:
        return
    resident = parse_id(args[0]) if args else None
    if resident is None:
        await say(context, message, "enrol_usage")
        return
    volunteer = parse_id(args[1]) if len(args) > 1 else None
    location = " ".join(args[2 if volunteer else 1 :]) or None
    try:
        notice = await checkins(context).enrol(message.from_user.id, resident, volunteer, location)
    except UserError as error:
        await say_error(context, message, error)
        return
    await notifier(context).send_checkin(notice)
    await say(context, message, "enrolled")


async def press_checkin(update: Update, context: BotContext) -> None:
    """窗帘之约 buttons: 同意 (consent), 我很好 (confirm), and the alert's outcome."""
    query = update.callback_query
    if query is None:
        return
    match = _CALLBACK.match(query.data or "")
    number = parse_id(match.group(2)) if match else None
    if match is None or number is None:
        await answer_stale(context, query)
        return
    kind, extra = match.group(1), match.group(3) or ""
    user = query.from_user.id
    try:
        if kind == "c":
            await checkins(context).consent(number, user, query.from_user.full_name)
            await clear_buttons(context, query)
        elif kind == "ok":
            await checkins(context).confirm(number, extra, user)
            await mark_confirmed(context, number, extra)
        else:
            await record_outcome(context, number, user, extra)
    except UserError as error:
        await answer(query, error.render(context.t.text), alert=True)
        return
    toast = {"c": "consent", "ok": "fine", "o": "outcome"}[kind]
    await answer(query, context.t.text(f"schedule.toasts.{toast}"))


async def mark_confirmed(context: BotContext, enrolment_id: int, day: str) -> None:
    """Edit the resident's morning question to show it is confirmed (whoever pressed it)."""
    enrolment = await checkins(context).repo.get(enrolment_id)
    ref = ask_ref(enrolment_id, day)
    if enrolment is None or await context.services.outbox.repo.message_id_for(ref) is None:
        return
    text = context.t.render("schedule/checkin_done")
    await context.services.outbox.edit_message(
        ref, enrolment.user_id, text, reply_markup={"inline_keyboard": []}
    )


async def record_outcome(context: BotContext, alert_id: int, user: int, outcome: str) -> None:
    """Close the alert and show the outcome on every copy of it."""
    enrolment = await checkins(context).record_outcome(alert_id, user, outcome)
    await notifier(context).alert_closed(alert_id, enrolment, outcome)


async def clear_buttons(context: BotContext, query: CallbackQuery) -> None:
    message = query.message
    if message is None:
        return
    try:
        await context.bot.edit_message_reply_markup(message.chat.id, message.message_id)
    except TelegramError:
        pass  # ephemeral UI: the consent is recorded either way


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    new = filters.UpdateType.MESSAGE
    return [
        CommandHandler("rules", list_rules, filters=new),
        CommandHandler(["pause", "resume"], pause_rule, filters=new),
        CommandHandler("checkin_enrol", enrol_checkin, filters=new & filters.ChatType.PRIVATE),
        CallbackQueryHandler(press_checkin, pattern=r"^ck:"),
    ]
