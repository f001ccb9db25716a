"""Renders votes and notices (issue #6) and queues them in the outbox; also the sweep hook.

Refs (so later presses and the sweep edit messages in place):

    vote:<id>:group            the announcement with the live progress line, in the group
    vote:<id>:ballot:<user>    an owner's private ballot
    vote:<id>:poll             the native poll (stopped at the deadline)
    notice:<id>                the notice with its 收到 button
"""

from __future__ import annotations

import logging
from datetime import datetime
from fractions import Fraction
from typing import Any

from telegram import Message

from bot.config import Config
from bot.consult.notices import (
    NoticeService,
    NoticeStatus,
    PostedNotice,
    Reminders,
    rooms_text,
)
from bot.context import Services
from bot.core.errors import InvalidInput, UserError
from bot.core.rendering import Renderer, local_datetime
from bot.registry.service import RegistryService
from bot.votes.polls import AdvisoryVote, MeetingVote, PollService, Vote
from bot.votes.rules import PARTICIPATION, Choice, Matter
from bot.votes.scope import scope_of
from bot.votes.service import OwnersVote, VoteService

log = logging.getLogger(__name__)


def votes(services: Services) -> VoteService:
    found: VoteService = services.features.votes
    return found


def polls(services: Services) -> PollService:
    found: PollService = services.features.polls
    return found


def notices(services: Services) -> NoticeService:
    found: NoticeService = services.features.notices
    return found


async def group_grid(services: Services, message: Message) -> str:
    """The grid of the group a vote or notice is started in; refused outside a grid group."""
    registry: RegistryService = services.features.registry
    grid = None if message.chat.type == "private" else await registry.grid_of_chat(message.chat_id)
    if grid is None:
        raise UserError("votes.errors.in_group")
    return grid


def percent(value: Fraction) -> str:
    """For display only (decisions use the exact fractions): 0.6125 → 61.2%."""
    return f"{float(value) * 100:.1f}%"


def square_metres(centi: int) -> str:
    """8950 → "89.5", 20000 → "200"."""
    return f"{centi // 100}.{centi % 100:02d}".rstrip("0").rstrip(".")


def scope_text(t: Renderer, stored: str, config: Config) -> str:
    """A vote's scope in words from the catalogue: 「3号楼2单元」, 「第一网格」, 「全小区」."""
    try:
        scope = scope_of(stored, config)
    except InvalidInput:  # a grid since removed from the config: its key is all there is
        return stored.partition(":")[2] or stored
    grid = config.grid_by_key(scope.grid) if scope.grid else None
    return t.text(
        f"votes.scope.{scope.kind}",
        building=scope.building,
        unit=scope.unit,
        grid=grid.name if grid else "",
    )


def markup(rows: list[list[tuple[str, str]]]) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": t, "callback_data": d} for t, d in row] for row in rows]}


class VoteNotifier:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.t = services.renderer

    def when(self, moment: datetime | None) -> str:
        zone = self.services.config.timezone
        return local_datetime(self.t, "votes.format.datetime", moment, zone) or ""

    def scope(self, vote: Vote) -> str:
        return scope_text(self.t, vote.scope, self.services.config)

    # -- owners' decisions ---------------------------------------------------------------------

    def _announce_text(self, ov: OwnersVote) -> str:
        r, vote = ov.result, ov.vote
        progress = {
            "area": percent(r.participation.area),
            "heads": percent(r.participation.heads),
            "need": percent(PARTICIPATION),
            "voters": r.voters,
            "electors": r.electors,
        }
        return self.t.render(
            "votes/owners_announce",
            number=vote.id,
            title=vote.title,
            scope=self.scope(vote),
            matter=self.t.text(f"votes.matters.{r.matter.value}"),
            special=r.matter is Matter.SPECIAL,
            deadline=self.when(vote.deadline),
            closed=vote.state != "open",
            p=progress,
        )

    def _convenor_buttons(self, vote_id: int) -> dict[str, Any]:
        t = self.t.text
        return markup(
            [
                [
                    (t("votes.buttons.remind"), f"vo:r:{vote_id}"),
                    (t("votes.buttons.close"), f"vo:c:{vote_id}"),
                ]
            ]
        )

    async def announce_owners(self, ov: OwnersVote) -> None:
        """The group announcement, then each verified owner's private ballot."""
        vote, outbox = ov.vote, self.services.outbox
        await outbox.send_message(
            vote.chat_id,
            self._announce_text(ov),
            ref=f"vote:{vote.id}:group",
            reply_markup=self._convenor_buttons(vote.id),
        )
        for elector in ov.electors:
            for user in elector.user_ids:
                await self.send_ballot(ov, user)

    async def update_progress(self, ov: OwnersVote) -> None:
        buttons = self._convenor_buttons(ov.vote.id) if ov.vote.state == "open" else None
        await self.services.outbox.edit_message(
            f"vote:{ov.vote.id}:group",
            ov.vote.chat_id,
            self._announce_text(ov),
            reply_markup=buttons or {"inline_keyboard": []},
            coalesce=True,
        )

    def ballot(self, ov: OwnersVote, user: int, choice: Choice | None, reminder: bool) -> str:
        elector = next(e for e in ov.electors if user in e.user_ids)
        return self.t.render(
            "votes/ballot",
            number=ov.vote.id,
            title=ov.vote.title,
            rooms=elector.rooms,
            area=square_metres(elector.area_centi),
            deadline=self.when(ov.vote.deadline),
            reminder=reminder,
            choice=self.t.text(f"votes.choices.{choice.value}") if choice else "",
            can_change=self.services.config.votes.ballot_change == "allowed",
        )

    def ballot_buttons(self, vote_id: int) -> dict[str, Any]:
        t = self.t.text
        return markup(
            [[(t(f"votes.choices.{c.value}"), f"vo:b:{vote_id}:{c.value}") for c in Choice]]
        )

    async def send_ballot(self, ov: OwnersVote, user: int, *, reminder: bool = False) -> None:
        await self.services.outbox.send_message(
            user,
            self.ballot(ov, user, None, reminder),
            ref=f"vote:{ov.vote.id}:ballot:{user}",
            reply_markup=self.ballot_buttons(ov.vote.id),
        )

    async def show_cast(self, ov: OwnersVote, user: int, choice: Choice) -> None:
        """Edit the owner's ballot to show their choice; the group line changes, not the choice."""
        allowed = self.services.config.votes.ballot_change == "allowed"
        await self.services.outbox.edit_message(
            f"vote:{ov.vote.id}:ballot:{user}",
            user,
            self.ballot(ov, user, choice, False),
            reply_markup=self.ballot_buttons(ov.vote.id) if allowed else {"inline_keyboard": []},
        )
        await self.update_progress(ov)

    async def owners_result(self, ov: OwnersVote) -> None:
        r, t = ov.result, self.t.text
        need = percent(r.approval_needed)
        values = {
            "part_area": percent(r.participation.area),
            "part_heads": percent(r.participation.heads),
            "part_need": "≥ " + percent(PARTICIPATION),
            "voters": r.voters,
            "electors": r.electors,
            "yes_area": percent(r.approval.area),
            "yes_heads": percent(r.approval.heads),
            "yes_need": ("≥ " if r.matter is Matter.SPECIAL else "> ") + need,
        }
        text = self.t.render(
            "votes/owners_result",
            number=ov.vote.id,
            title=ov.vote.title,
            passed=r.passed,
            scope=self.scope(ov.vote),
            matter=t(f"votes.matters.{r.matter.value}"),
            special=r.matter is Matter.SPECIAL,
            r=values,
            reasons="；".join(t(f"votes.failed.{f}") for f in r.failed),
        )
        await self.update_progress(ov)
        await self.services.outbox.send_message(ov.vote.chat_id, text)

    # -- advisory polls and residents' meetings ------------------------------------------------

    async def send_poll(self, vote: Vote) -> None:
        payload = {
            "chat_id": vote.chat_id,
            "question": vote.question or vote.title,
            "options": [{"text": o} for o in vote.options],
            "is_anonymous": vote.anonymous,
        }
        await self.services.outbox.queue(
            vote.chat_id, "sendPoll", payload, ref=f"vote:{vote.id}:poll"
        )

    async def advisory_result(self, found: AdvisoryVote) -> None:
        vote, r = found.vote, found.result
        stop = {"chat_id": vote.chat_id, "message_ref": f"vote:{vote.id}:poll"}
        await self.services.outbox.queue(vote.chat_id, "stopPoll", stop)
        options = [{"text": o, "count": n} for o, n in zip(vote.options, r.counts, strict=True)]
        text = self.t.render(
            "votes/advisory_result",
            number=vote.id,
            title=vote.title,
            options=options,
            cast=r.cast,
            winner=None if r.winner is None else vote.options[r.winner],
        )
        await self.services.outbox.send_message(vote.chat_id, text)

    async def residents_result(self, found: MeetingVote) -> None:
        r = found.result
        reasons = (
            "" if r is None else "；".join(self.t.text(f"votes.failed.{f}") for f in r.failed)
        )
        text = self.t.render(
            "votes/residents_result",
            number=found.vote.id,
            title=found.vote.title,
            r=r,
            reasons=reasons,
        )
        await self.services.outbox.send_message(found.vote.chat_id, text)

    # -- notices -------------------------------------------------------------------------------

    async def post_notice(self, notice: PostedNotice) -> None:
        t = self.t.text
        buttons = markup(
            [
                [
                    (t("votes.buttons.ack"), f"nt:a:{notice.id}"),
                    (t("votes.buttons.unacked"), f"nt:l:{notice.id}"),
                ]
            ]
        )
        text = self.t.render("votes/notice", number=notice.id, body=notice.body)
        await self.services.outbox.send_message(
            notice.chat_id, text, ref=f"notice:{notice.id}", reply_markup=buttons
        )

    async def unacked(self, status: NoticeStatus, to: int) -> None:
        n = status.notice
        text = self.t.render(
            "votes/unacked",
            number=n.id,
            excerpt=n.body[:30],
            acked=status.acked_households,
            households=status.households,
            unverified=status.unverified_acks,
            missing=rooms_text(status.missing),
        )
        buttons = None
        if status.missing:
            buttons = markup([[(self.t.text("votes.buttons.remind_notice"), f"nt:r:{n.id}")]])
        await self.services.outbox.send_message(to, text, reply_markup=buttons)

    async def notice_reminders(self, sent: Reminders, to: int) -> None:
        n = sent.notice
        for user in sent.sent:
            text = self.t.render("votes/notice_reminder", number=n.id, body=n.body)
            await self.services.outbox.send_message(user, text)
        text = self.t.render(
            "votes/notice_reminded", sent=len(sent.sent), unreachable=sent.unreachable
        )
        await self.services.outbox.send_message(to, text)

    async def reaches_privately(self, user_id: int) -> bool:
        """A private message is known to reach ``user_id`` (delivered before, not blocked)."""
        if self.services.sender.is_unreachable(user_id):
            return False
        return await self.services.outbox.has_reached(user_id)


async def sweep_votes(services: Services, bot_username: str, now: datetime) -> None:
    """The clock's hook (``bot.schedule.jobs``, in its own transaction): close what is due and post
    the results; remind once each owner who has not voted. Closing and reminding are recorded
    (state, ``vote_reminders``), so a repeated tick does nothing twice."""
    notify = VoteNotifier(services)
    for vote in await polls(services).due(now):
        await close_vote(services, vote, None)
    for ov, users in await votes(services).due_reminders(now):
        for user in users:
            await notify.send_ballot(ov, user, reminder=True)


async def close_vote(services: Services, vote: Vote, actor: int | None) -> bool:
    """Close any kind of vote and post its result; False if it was closed already."""
    notify = VoteNotifier(services)
    if vote.kind == "owners":
        ov = await votes(services).close(vote.id, actor)
        if ov is not None:
            await notify.owners_result(ov)
        return ov is not None
    if vote.kind == "advisory":
        found = await polls(services).close_advisory(vote.id, actor)
        if found is not None:
            await notify.advisory_result(found)
        return found is not None
    closed = await polls(services).close_meeting(vote.id)
    if closed is not None:
        await notify.residents_result(closed)
    return closed is not None
