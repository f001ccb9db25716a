"""Renders meetings (issue #6) and queues them; also the consultation sweep hook.

Refs: ``meeting:<n>:<chat>`` names the announcement in each group (edited with a coalesced
edit when the sign-up count changes).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from bot.consult import jielong_presenter as jielong_notify
from bot.consult.meetings import MeetingService
from bot.consult.meetings_model import MeetingText, MeetingView
from bot.consult.meetings_xlsx import minutes_workbook
from bot.consult.sweep import ConsultKind, ConsultNotice, ConsultSweep
from bot.context import Services
from bot.privacy.service import mask_name, mask_phones
from bot.votes.polls import Vote
from bot.votes.presenter import polls, votes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Listed:
    """One suggestion as a list shows it: the author's name (full or masked) and home."""

    name: str
    home: str  # 楼栋-单元, "" if the author is not a verified resident
    text: str


@dataclass(frozen=True)
class ListedGroup:
    title: str
    entries: tuple[Listed, ...]


def announce_ref(number: int, chat_id: int) -> str:
    return f"meeting:{number}:{chat_id}"


def meeting_service(services: Services) -> MeetingService:
    service: MeetingService = services.features.meetings
    return service


class MeetingNotifier:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.t = services.renderer
        self.outbox = services.outbox

    def when(self, moment: datetime | None) -> str:
        return jielong_notify.when(self.t, moment, self.services) or ""

    def window(self, m: MeetingView) -> str:
        end = m.record.ends_at.astimezone(self.services.config.timezone)
        clock = self.t.text("meetings.format.clock", hour=end.hour, minute=end.minute)
        return f"{self.when(m.record.starts_at)}–{clock}"

    def scope(self, m: MeetingView) -> str:
        """「3号楼2单元」, 「3号楼」, the grid's name or 「全社区」 (issue #13 item 14)."""
        kind, value = m.record.scope_kind, m.record.scope_value
        grid = self.services.config.grid_by_key(value) if kind == "grid" else None
        building, _, unit = value.partition("-")
        return self.t.text(
            f"meetings.scope.{kind}",
            building=building,
            unit=unit,
            grid=grid.name if grid else value,
        )

    def markup(self, number: int, *, sign_up: bool = True) -> dict[str, Any]:
        buttons = [
            {"text": self.t.text("meetings.buttons.sign_in"), "callback_data": f"mt:si:{number}"}
        ]
        if sign_up:
            buttons.insert(
                0,
                {
                    "text": self.t.text("meetings.buttons.sign_up"),
                    "callback_data": f"mt:su:{number}",
                },
            )
        return {"inline_keyboard": [buttons]}

    def render(self, template: str, m: MeetingView, /, **values: Any) -> str:
        when, scope = self.window(m), self.scope(m)
        return self.t.render(f"meetings/{template}", m=m, when=when, scope=scope, **values)

    async def announce(self, m: MeetingView) -> None:
        text = self.render("announce", m)
        for chat in m.chats:
            await self.outbox.send_message(
                chat, text, reply_markup=self.markup(m.id), ref=announce_ref(m.id, chat)
            )

    async def refresh(self, m: MeetingView) -> None:
        """Each group's announcement shows the new sign-up count (coalesced edits)."""
        text = self.render("announce", m)
        for chat in m.chats:
            ref = announce_ref(m.id, chat)
            await self.outbox.edit_message(
                ref, chat, text, reply_markup=self.markup(m.id), coalesce=True
            )

    def home(self, m: MeetingView, text: MeetingText) -> str:
        found = m.home_of(text)
        if found is None:
            return ""
        return self.t.text("meetings.format.home", building=found[0], unit=found[1])

    def suggestion_list(self, m: MeetingView, *, public: bool) -> tuple[ListedGroup, ...]:
        """Suggestions per agenda item, each with its author (issue #13 item 16): the full name
        for the convenor; for a group (``public``) the name masked (王*) and phones hidden."""
        groups = m.grouped_suggestions(self.t.text("meetings.format.other"))
        return tuple(
            ListedGroup(
                g.title,
                tuple(
                    Listed(
                        mask_name(s.name) if public else s.name,
                        self.home(m, s),
                        mask_phones(s.text) if public else s.text,
                    )
                    for s in g.suggestions
                ),
            )
            for g in groups
        )

    async def show_overview(self, m: MeetingView, requester: int, chat_id: int) -> None:
        """/meeting N: the overview names each suggestion's author, so it goes to the convenor
        privately; asked in a group, the group is told where it went."""
        text = self.render("overview", m, groups=self.suggestion_list(m, public=False))
        await self.outbox.send_message(requester, text)
        if chat_id != requester:
            note = self.t.text("meetings.replies.sent_private", number=m.id)
            await self.outbox.send_message(chat_id, str(escape(note)))

    async def to_convenor(self, m: MeetingView, template: str, **values: Any) -> None:
        text = self.render(template, m, **values)
        await self.outbox.send_message(m.record.convenor_id, text)

    async def publish_minutes(self, m: MeetingView) -> None:
        """The minutes in every group of the meeting, and as .xlsx to the convenor."""
        attendees = [mask_name(p.name) for p in m.attended if p.name]
        text = self.render(
            "minutes",
            m,
            groups=self.suggestion_list(m, public=True),
            attendees=attendees,
            votes=await self.vote_results(m),
            until=self.when(m.record.publicity_until),
        )
        for chat in m.chats:
            await self.outbox.send_message(chat, text)
        details = {"time": self.window(m), "place": m.record.place, "scope": self.scope(m)}
        homes = {s.id: self.home(m, s) for s in m.suggestions}
        data = minutes_workbook(self.t, m, details, homes, self.services.config.timezone)
        await self.outbox.send_document(m.record.convenor_id, data, f"minutes-{m.id}.xlsx")

    async def vote_results(self, m: MeetingView) -> list[str]:
        """表决结果: one line for each vote started in the meeting's groups while it ran."""
        record = m.record
        found = await votes(self.services).started_in(m.chats, record.starts_at, record.ends_at)
        return [await self._vote_line(vote) for vote in found]

    async def _vote_line(self, vote: Vote) -> str:
        def x(key: str, **values: Any) -> str:
            return self.t.text(f"meetings.votes.{key}", **values)

        outcome = x("open", deadline=self.when(vote.deadline)) if vote.deadline else x("pending")
        if vote.kind == "owners" and vote.state != "open":
            result = (await votes(self.services).owners_vote(vote.id)).result
            outcome = x("passed" if result.passed else "failed")
        elif vote.kind == "residents":
            counted = (await polls(self.services).meeting(vote.id)).result
            if counted is not None:
                outcome = x("passed" if counted.passed else "failed")
        elif vote.kind == "advisory" and vote.state != "open":
            winner = (await polls(self.services).advisory_vote(vote)).result.winner
            outcome = (
                x("no_majority") if winner is None else x("majority", option=vote.options[winner])
            )
        return x("line", number=vote.id, title=vote.title, kind=x(vote.kind), outcome=outcome)

    async def deliver(self, notices: Iterable[ConsultNotice]) -> None:
        for notice in notices:
            m = notice.meeting
            if notice.kind is ConsultKind.JIELONG_CLOSED and notice.jielong is not None:
                await jielong_notify.show(self.services, notice.jielong)
            elif m is None:
                continue
            elif notice.kind is ConsultKind.REMIND:
                text = self.render("reminder", m, hours=notice.hours)
                for person in m.invitees:
                    await self.outbox.send_message(
                        person, text, reply_markup=self.markup(m.id, sign_up=False)
                    )
            elif notice.kind is ConsultKind.OVERDUE:
                days = self.services.config.meetings.close_reminder_days
                await self.to_convenor(m, "overdue", days=days)
            elif notice.kind is ConsultKind.FINAL:
                text = self.render("final", m)
                for chat in (*m.chats, m.record.convenor_id):
                    await self.outbox.send_message(chat, text)


def consult_sweep(services: Services) -> ConsultSweep:
    sweep: ConsultSweep = services.features.consult_sweep
    return sweep


async def sweep_consultation(services: Services, bot_username: str, now: datetime) -> None:
    """The sweep hook (``bot.schedule.jobs``): reminders, overdue minutes, 公示, 接龙 deadlines."""
    notices = await consult_sweep(services).sweep(now)
    await MeetingNotifier(services).deliver(notices)
    if notices:
        log.info("consultation sweep at %s: %d notices", now.isoformat(), len(notices))
