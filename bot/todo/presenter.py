"""The /todo reply (issue #18 items 5-6): a summary, then each item as its own private message
carrying the button its feature already answers (the same callback data, so pressing it works
and is checked by that feature's service like any other press).

Slips, ballots, worker cards and 窗帘之约 alerts are sent by their own features' presenters
under their usual refs: pressing a button edits this copy as it would the original.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from bot.consult.jielong import JielongView
from bot.consult.meetings_model import MeetingView
from bot.consult.notices import PostedNotice
from bot.context import Services
from bot.core.rendering import local_datetime
from bot.issues.model import IssueView
from bot.issues.presenter import IssueNotifier, card_ref
from bot.registry.presenter import review_keyboard
from bot.registry.service import PendingClaim
from bot.schedule.presenter import ScheduleNotifier, alert_ref, outcome_buttons
from bot.todo.service import Alert, ResidentTodo, Todo, TodoService, WorkerTodo
from bot.votes.presenter import VoteNotifier

# Each section lists at most this many items (the summary counts them all): a backlog must
# not bury the private chat under hundreds of messages.
PER_SECTION: Final = 10
WORKER_SECTIONS: Final = ("new", "returns", "overdue", "alerts", "claims")
RESIDENT_SECTIONS: Final = ("slips", "votes", "notices", "jielongs", "meetings")


def todo_service(services: Services) -> TodoService:
    found: TodoService = services.features.todo
    return found


def one_button(text: str, data: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": text, "callback_data": data}]]}


class TodoPresenter:
    def __init__(self, services: Services, bot_username: str) -> None:
        self.services = services
        self.t = services.renderer
        self.send = services.outbox.send_message
        self.issues = IssueNotifier(services, bot_username)
        self.schedule = ScheduleNotifier(services, bot_username)
        self.votes = VoteNotifier(services)

    async def show(self, chat_id: int, todo: Todo) -> None:
        """The summary (or 没有待办事项), then every listed item with its button."""
        if todo.empty:
            await self.send(chat_id, self.t.render("todo/empty"))
            return
        await self.send(chat_id, self.summary(todo))
        if todo.worker is not None:
            await self.worker_items(chat_id, todo.worker)
        await self.resident_items(chat_id, todo.resident)

    def summary(self, todo: Todo) -> str:
        lines: list[str] = []
        sections: list[tuple[str, Sequence[object]]] = []
        if todo.worker is not None:
            sections += [(k, getattr(todo.worker, k)) for k in WORKER_SECTIONS]
        sections += [(k, getattr(todo.resident, k)) for k in RESIDENT_SECTIONS]
        for key, items in sections:
            if items:
                lines.append(self.t.text(f"todo.sections.{key}", n=len(items)))
        total = todo.resident.count + (todo.worker.count if todo.worker else 0)
        more = any(len(items) > PER_SECTION for _, items in sections)
        return self.t.render(
            "todo/summary", total=total, lines=lines, more=more, limit=PER_SECTION
        )

    # -- a grid worker's items, in the order of issue #18 item 6 --------------------------------

    async def worker_items(self, chat_id: int, todo: WorkerTodo) -> None:
        for issue in (*todo.new[:PER_SECTION], *todo.returns[:PER_SECTION]):
            await self.card(chat_id, issue)
        for issue in todo.overdue[:PER_SECTION]:
            await self.card(chat_id, issue)
        for alert in todo.alerts[:PER_SECTION]:
            await self.alert(chat_id, alert)
        for claim in todo.claims[:PER_SECTION]:
            await self.claim(chat_id, claim)

    async def card(self, chat_id: int, issue: IssueView) -> None:
        n = self.issues
        markup = n.card_buttons(issue)
        await self.send(
            chat_id, n.card_text(issue), reply_markup=markup, ref=card_ref(issue.number, chat_id)
        )

    async def alert(self, chat_id: int, found: Alert) -> None:
        alert, enrolment = found
        checkin = self.services.features.checkin
        values = checkin.alert_values(enrolment, chat_id)
        family = bool(values["family"])
        await self.send(
            chat_id,
            self.schedule.alert_text(values),
            reply_markup=outcome_buttons(self.t.text, alert.id, family=family),
            ref=alert_ref(alert.id, chat_id),
        )

    async def claim(self, chat_id: int, claim: PendingClaim) -> None:
        h = claim.household
        text = self.t.render(
            "registry/claim_request",
            name=claim.name,
            place=f"{h.building}-{h.unit}-{h.room}",
            relation=self.t.text(f"registry.relation.{claim.relation}"),
            owners=h.owner_names,
            decided=False,
        )
        ref = f"reg:claim:{claim.user_id}:{h.id}:{chat_id}"
        markup = review_keyboard(self.t, claim.user_id, h.id)
        await self.send(chat_id, text, reply_markup=markup, ref=ref)

    # -- a resident's items (issue #18 item 5) ---------------------------------------------------

    async def resident_items(self, chat_id: int, todo: ResidentTodo) -> None:
        for slip_id, issue in todo.slips[:PER_SECTION]:
            await self.issues.slip_message(chat_id, slip_id, issue)
        for vote in todo.votes[:PER_SECTION]:
            await self.votes.send_ballot(vote, chat_id)
        for notice in todo.notices[:PER_SECTION]:
            await self.notice(chat_id, notice)
        for jielong in todo.jielongs[:PER_SECTION]:
            await self.jielong(chat_id, jielong)
        for meeting in todo.meetings[:PER_SECTION]:
            await self.meeting(chat_id, meeting)

    def when(self, moment: datetime | None) -> str | None:
        zone = self.services.config.timezone
        return local_datetime(self.t, "meetings.format.datetime", moment, zone)

    async def notice(self, chat_id: int, notice: PostedNotice) -> None:
        text = self.t.render("todo/notice", number=notice.id, body=notice.body)
        markup = one_button(self.t.text("votes.buttons.ack"), f"nt:a:{notice.id}")
        await self.send(chat_id, text, reply_markup=markup)

    async def jielong(self, chat_id: int, view: JielongView) -> None:
        r = view.record
        text = self.t.render(
            "todo/jielong",
            number=r.id,
            topic=r.topic,
            count=len(view.entries),
            cap=r.cap,
            deadline=self.when(r.deadline),
        )
        markup = one_button(self.t.text("jielong.buttons.join"), f"jl:j:{r.id}")
        await self.send(chat_id, text, reply_markup=markup)

    async def meeting(self, chat_id: int, m: MeetingView) -> None:
        r = m.record
        text = self.t.render(
            "todo/meeting", number=r.id, title=r.title, when=self.when(r.starts_at), place=r.place
        )
        markup = one_button(self.t.text("meetings.buttons.sign_in"), f"mt:si:{r.id}")
        await self.send(chat_id, text, reply_markup=markup)
