"""Votes in the chat (issue #6): owners' decisions with private ballots, residents' meeting
decisions recorded by the convenor, advisory native polls and their answers.

Buttons carry only ``vo:<verb>:<vote>[:<choice>]``; the service checks the presser every time
(a tenant pressing a forged ballot is refused), and a refusal is a callback alert.
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    PollAnswerHandler,
    PollHandler,
    filters,
)

from bot.context import BotContext
from bot.core.errors import UserError
from bot.core.parsing import parse_id
from bot.votes.presenter import VoteNotifier, close_vote, group_grid, polls, votes
from handlers.replies import answer, answer_stale, say, say_error

_CALLBACK = re.compile(r"^vo:(b|r|c):(\d+)(?::(yes|no|abstain))?$")


async def start_owners_vote(update: Update, context: BotContext) -> None:
    """/vote_owners unit:3-2 special 加装电梯: the group sees the rule and a live progress line;
    each verified owner gets a private ballot."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    try:
        grid = await group_grid(context.services, message)
        ov = await votes(context.services).create_owners(
            message.from_user.id, message.chat_id, grid, context.args or []
        )
    except UserError as error:
        await say_error(context, message, error)
        return
    await VoteNotifier(context.services).announce_owners(ov)


async def start_poll(update: Update, context: BotContext) -> None:
    """/poll 议题 | 选项… (anonymous) or /poll_named (names visible): a native poll, advisory."""
    message = update.effective_message
    if message is None or message.from_user is None or message.text is None:
        return
    anonymous = not message.text.lstrip("/").startswith("poll_named")
    try:
        grid = await group_grid(context.services, message)
        vote = await polls(context.services).create_advisory(
            message.from_user.id,
            message.chat_id,
            grid,
            context.args or [],
            anonymous,
            context.t.text("votes.poll.question"),
        )
    except UserError as error:
        await say_error(context, message, error)
        return
    await VoteNotifier(context.services).send_poll(vote)


async def start_residents_vote(update: Update, context: BotContext) -> None:
    """/vote_residents 120 修订居民公约: the rule of art. 9 and how to record the counts."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    try:
        grid = await group_grid(context.services, message)
        found = await polls(context.services).create_meeting(
            message.from_user.id, message.chat_id, grid, context.args or []
        )
    except UserError as error:
        await say_error(context, message, error)
        return
    vote = found.vote
    text = context.t.render(
        "votes/residents_announce", number=vote.id, title=vote.title, eligible=vote.eligible
    )
    await context.services.outbox.send_message(vote.chat_id, text)


async def record_count(update: Update, context: BotContext) -> None:
    """/vote_present N 实到 then /vote_yes N 同意: the second posts the result."""
    message = update.effective_message
    if message is None or message.from_user is None or message.text is None:
        return
    what = "yes" if message.text.lstrip("/").startswith("vote_yes") else "present"
    args = context.args or []
    try:
        vote_id, count = (parse_id(a) for a in args) if len(args) == 2 else (None, None)
        if vote_id is None or count is None:
            raise UserError("votes.errors.count_usage")
        found = await polls(context.services).record(message.from_user.id, vote_id, what, count)
    except UserError as error:
        await say_error(context, message, error)
        return
    vote = found.vote
    if what == "yes":
        await VoteNotifier(context.services).residents_result(found)
        return
    text = context.t.render(
        "votes/present_recorded", number=vote.id, present=vote.present, eligible=vote.eligible
    )
    await say(context, message, text)


async def press_vote(update: Update, context: BotContext) -> None:
    """同意/反对/弃权 in a private ballot; 提醒未投票业主 and 结束表决 for the convenor."""
    query = update.callback_query
    if query is None:
        return
    match = _CALLBACK.match(query.data or "")
    vote_id = parse_id(match[2]) if match else None
    if match is None or vote_id is None:
        await answer_stale(context, query)
        return
    verb, user = match[1], query.from_user.id
    t, notify = context.t.text, VoteNotifier(context.services)
    try:
        if verb == "b":
            ballot = await votes(context.services).cast(user, vote_id, match[3] or "")
            await notify.show_cast(ballot.vote, user, ballot.choice)
            name = t(f"votes.choices.{ballot.choice.value}")
            toast = "changed" if ballot.changed else "cast"
            await answer(query, t(f"votes.toasts.{toast}", choice=name))
        elif verb == "r":
            reminded = await votes(context.services).remind(vote_id, user)
            ov = await votes(context.services).owners_vote(vote_id)
            for owner in reminded:
                await notify.send_ballot(ov, owner, reminder=True)
            await answer(query, t("votes.toasts.reminded", count=len(reminded)), alert=True)
        else:
            ov = await votes(context.services).owners_vote(vote_id)
            votes(context.services).check_convenor(user, ov.vote.grid)
            await close_vote(context.services, ov.vote, user)
            await answer(query, t("votes.toasts.closed"))
    except UserError as error:
        await answer(query, error.render(t), alert=True)
    except ValueError:
        await answer(query)


async def count_poll_answer(update: Update, context: BotContext) -> None:
    """A resident answered (or retracted) a non-anonymous advisory poll."""
    answer_ = update.poll_answer
    if answer_ is None or answer_.user is None:
        return
    await polls(context.services).poll_answer(
        answer_.poll_id, answer_.user.id, list(answer_.option_ids)
    )


async def follow_poll(update: Update, context: BotContext) -> None:
    """The poll's new state (every poll the bot sent): binds it to its vote, keeps the counts."""
    poll = update.poll
    if poll is None:
        return
    await polls(context.services).poll_state(
        poll.id, poll.question, [o.voter_count for o in poll.options], poll.is_closed
    )


def build_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    new = filters.UpdateType.MESSAGE
    return [
        CommandHandler("vote_owners", start_owners_vote, filters=new),
        CommandHandler(["poll", "poll_named"], start_poll, filters=new),
        CommandHandler("vote_residents", start_residents_vote, filters=new),
        CommandHandler(["vote_present", "vote_yes"], record_count, filters=new),
        CallbackQueryHandler(press_vote, pattern=r"^vo:"),
        PollAnswerHandler(count_poll_answer),
        PollHandler(follow_poll),
    ]
