"""The notifier: turns the issue services' Notices into outbox messages (issue #3).

Services say *who* should be told *what kind of thing*; this module picks the template, the
audience's view of the issue (bot.privacy.service decides what a group, a grid worker or a
handler may see), the buttons, and the ``ref`` under which a message is sent so that a later
button press can edit it in place:

    issue:<n>:card:<worker>     the grid worker's card (edited after every triage action)
    issue:<n>:order:<handler>   the handler's 交办单
    issue:<n>:return:<worker>   a return request (申请退单) awaiting a decision
    issue:<n>:dup:<worker>      a likely-duplicate hint
    issue:<n>:ack               the group's ack, edited into the issue's status line
    slip:<id>                   a feedback slip (edited one question at a time)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

from bot.context import Services
from bot.core.markup import Markup
from bot.core.rendering import local_datetime
from bot.issues import keyboards as kb
from bot.issues.model import (
    Action,
    IssueView,
    Notice,
    NoticeKind,
    Outcome,
    action_ref,
    state_ref,
)
from bot.issues.service import IssueService
from bot.privacy.presenter import place_text
from bot.privacy.service import Audience, reporter_name, shown_to, shows_place

log = logging.getLogger(__name__)


# Card and 交办单 re-rendered after a button press: no notice, so no action line.
_NO_EXTRA: Final[dict[str, Any]] = {
    "action": None,
    "action_key": None,
    "note": None,
    "related": (),
    "services": [],
}

# Photos sent along with one notice (Telegram albums are not used: each gets a caption).
MAX_PHOTOS_SHOWN: Final = 3
MAX_ALBUM: Final = 10  # Telegram's most photos in one album (sendMediaGroup)


def card_ref(number: int, user_id: int) -> str:
    return f"issue:{number}:card:{user_id}"


def order_ref(number: int, user_id: int) -> str:
    return f"issue:{number}:order:{user_id}"


def return_ref(number: int, user_id: int) -> str:
    return f"issue:{number}:return:{user_id}"


def dup_ref(number: int, user_id: int) -> str:
    return f"issue:{number}:dup:{user_id}"


def chase_ref(number: int, user_id: int) -> str:
    """The 催受理 reminder, which carries the card's buttons (bot/schedule/presenter.py)."""
    return f"issue:{number}:chase:{user_id}"


def ack_ref(number: int) -> str:
    """The group's ack of a report, later edited into its status line."""
    return f"issue:{number}:ack"


def slip_ref(slip_id: int) -> str:
    return f"slip:{slip_id}"


def worker_refs(number: int, user: int) -> list[str]:
    """The messages of one worker that carry an issue's buttons, the card first."""
    return [
        card_ref(number, user),
        return_ref(number, user),
        dup_ref(number, user),
        chase_ref(number, user),
    ]


def place_fields(issue: IssueView) -> dict[str, str] | None:
    """A venue's title and address and the coordinates (for staff: exact), or None."""
    if issue.latitude is None or issue.longitude is None:
        return None
    title, _, address = (issue.place or "").partition("\n")
    coordinates = f"{issue.latitude:.5f}, {issue.longitude:.5f}"
    return {"title": title, "address": address, "coordinates": coordinates}


def issue_service(services: Services) -> IssueService:
    service: IssueService = services.features.issues
    return service


class IssueNotifier:
    """Renders notices and queues them; one per update or job (cheap to build)."""

    def __init__(self, services: Services, bot_username: str) -> None:
        self.services = services
        self.t = services.renderer.text
        self.config = services.config
        self.bot_username = bot_username

    # -- how an issue reads for an audience ----------------------------------------------------

    def when(self, moment: datetime | None) -> str | None:
        renderer = self.services.renderer
        return local_datetime(renderer, "issues.format.datetime", moment, self.config.timezone)

    def fields(self, issue: IssueView, audience: Audience) -> dict[str, Any]:
        """The issue as ``audience`` may see it: masked for groups, names per privacy rules."""
        category = self.config.category(issue.category)
        grid = self.config.grid_by_key(issue.grid)
        handler = self.config.handler_by_key(issue.handler or "")
        shown = shown_to(issue, audience)
        return {
            "number": issue.number,
            "type": self.t(f"issues.types.{issue.type.value}"),
            "category": category.name if category else issue.category,
            "grid": grid.name if grid else issue.grid,
            "state": self.t(state_ref(issue.state)),
            "where": place_text(self.services.renderer, shown.where),
            "description": self.described(issue, shown.description),
            "voice": issue.voice_seconds if issue.voice_file_id else None,
            "reporters": list(shown.reporters),
            "handler": handler.name if handler else None,
            "respond_by": self.when(issue.respond_by),
            "resolve_by": self.when(issue.resolve_by),
            "urgent": issue.urgent,
            "photos": len(issue.photos),
            "private": issue.private,
            "anonymous": issue.anonymous,
            "reason": issue.reason,
            "merged_into": issue.merged_into,
            "result": shown.result,  # what was done (办理结果): residents see it too
            # the resident's location or venue: staff only, never a group (issue #18 item 3)
            "place": place_fields(issue) if shows_place(issue, audience) else None,
        }

    def described(self, issue: IssueView, description: str) -> str:
        """The report's words; a voice report says so first: 语音，约 N 秒 (issue #18 item 2)."""
        if issue.voice_file_id is None:
            return description
        seconds = issue.voice_seconds or 0
        if not description:
            return self.t("issues.voice.label", seconds=seconds)
        return self.t("issues.voice.with_text", seconds=seconds, text=description)

    def render(self, template: str, issue: IssueView, audience: Audience, **extra: Any) -> str:
        return self.services.renderer.render(
            f"issues/{template}", issue=self.fields(issue, audience), **extra
        )

    def notice_extra(self, notice: Notice) -> dict[str, Any]:
        return {
            "action": self.t(action_ref(notice.action)) if notice.action else None,
            "action_key": notice.action.value if notice.action else None,
            "note": notice.note,
            "related": notice.related,
            "services": [
                {"name": self.t(f"issues.emergency.{kind}"), "number": number}
                for kind, number in notice.services
            ],
        }

    # -- delivering ----------------------------------------------------------------------------

    async def deliver(self, outcome: Outcome) -> None:
        for notice in outcome.notices:
            await self.send(notice, outcome.issue)

    async def deliver_notices(self, notices: Iterable[Notice]) -> None:
        """Notices about several issues (the feedback sweep): each issue is loaded."""
        service = issue_service(self.services)
        for notice in notices:
            await self.send(notice, await service.load(notice.issue_no))

    async def send(self, notice: Notice, issue: IssueView) -> None:
        kind = notice.kind
        if kind is NoticeKind.PHOTO_ADDED:
            await self._photo_added(notice, issue)
            return
        for photo in notice.photos[:MAX_PHOTOS_SHOWN]:
            caption = self.t("issues.captions.resolution_photo", number=issue.number)
            await self.services.outbox.send_photo(notice.chat_id, photo, caption=caption)
        if kind in (NoticeKind.ACK_GROUP, NoticeKind.EMERGENCY_REPLY):
            await self._to_source(notice, issue)
        elif kind is NoticeKind.GROUP_STATUS:
            await self._status_line(notice, issue)
        elif kind in (NoticeKind.WORKER_CARD, NoticeKind.EMERGENCY_ALERT):
            await self._to_worker(notice, issue)
        elif kind in (NoticeKind.DUPLICATE_HINT, NoticeKind.RETURN_REQUEST):
            await self._to_worker_with_buttons(notice, issue)
        elif kind is NoticeKind.HANDLER_ORDER:
            await self.send_order(notice, issue)
        elif kind in (NoticeKind.FEEDBACK_SLIP, NoticeKind.FEEDBACK_REMINDER):
            await self.send_slip(notice, issue)
        else:
            await self._plain(notice, issue)

    async def _to_source(self, notice: Notice, issue: IssueView) -> None:
        """The group ack or the emergency reply, threaded under the resident's message."""
        audience = Audience.GROUP if notice.chat_id < 0 else Audience.WORKER
        extra = self.notice_extra(notice)
        markup, ref = None, None
        if notice.kind is NoticeKind.ACK_GROUP:
            markup, ref = await self.follow_markup(notice, issue), ack_ref(issue.number)
            extra["reachable"] = markup is None
        text = self.render(notice.kind.value, issue, audience, **extra)
        await self.services.outbox.send_message(
            notice.chat_id, text, reply_to=notice.reply_to_message_id, reply_markup=markup, ref=ref
        )

    async def _status_line(self, notice: Notice, issue: IssueView) -> None:
        """The group's ack now reads as the issue's state and result (no new group message)."""
        text = self.render("group_status", issue, Audience.GROUP, **self.notice_extra(notice))
        markup = await self.follow_markup(notice, issue)
        await self.edit_if_sent(ack_ref(issue.number), notice.chat_id, text, markup)

    async def follow_markup(self, notice: Notice, issue: IssueView) -> Markup | None:
        """Progress goes privately, which reaches only a resident who opened a chat with the
        bot: anyone else is shown the way to receive it (issue #13 item 13)."""
        reporter = self.reporter_at(issue, notice.chat_id, notice.reply_to_message_id)
        if reporter is None or await self.reaches_privately(reporter):
            return None
        return self.follow_link(issue.number)

    @staticmethod
    def reporter_at(issue: IssueView, chat_id: int, message_id: int | None) -> int | None:
        """Who reported ``issue`` with that message (else its first reporter)."""
        for reporter in issue.reporters:
            if (reporter.chat_id, reporter.message_id) == (chat_id, message_id):
                return reporter.user_id
        return issue.reporters[0].user_id if issue.reporters else None

    def follow_link(self, number: int) -> Markup:
        """A URL button opening the private chat on the issue (``/start issue_<n>``)."""
        url = f"https://t.me/{self.bot_username}?start=issue_{number}"
        label = self.t("issues.buttons.follow", number=number)
        return {"inline_keyboard": [[{"text": label, "url": url}]]}

    async def _to_worker(self, notice: Notice, issue: IssueView) -> None:
        text = self.render(notice.kind.value, issue, Audience.WORKER, **self.notice_extra(notice))
        markup = self.card_buttons(issue)
        await self.services.outbox.send_message(
            notice.chat_id, text, reply_markup=markup, ref=card_ref(issue.number, notice.chat_id)
        )
        if notice.kind is NoticeKind.WORKER_CARD and issue.latitude is not None:
            # the pin the worker opens in a map app, sent privately after the card
            title, _, address = (issue.place or "").partition("\n")
            await self.services.outbox.send_place(
                notice.chat_id,
                issue.latitude,
                issue.longitude or 0.0,
                title=title or None,
                address=address or None,
            )
        if notice.kind is NoticeKind.WORKER_CARD and notice.action is Action.REPORT:
            # The voice note and the photos follow the card, an album's as one album (#18).
            await self.send_report_media(notice.chat_id, issue)

    async def send_report_media(self, chat_id: int, issue: IssueView) -> None:
        """The report's voice note and photos, privately: one photo, or one album of up to ten."""
        if issue.voice_file_id is not None:
            caption = self.t("issues.captions.report_voice", number=issue.number)
            await self.services.outbox.send_voice(chat_id, issue.voice_file_id, caption=caption)
        shown = issue.photos[:MAX_ALBUM]
        if len(shown) == 1:
            caption = self.t("issues.captions.report_photo", number=issue.number)
            await self.services.outbox.send_photo(chat_id, shown[0], caption=caption)
        elif shown:
            caption = self.t("issues.captions.report_album", number=issue.number, count=len(shown))
            await self.services.outbox.send_media_group(chat_id, shown, caption=caption)

    async def _photo_added(self, notice: Notice, issue: IssueView) -> None:
        """An album photo that came after the card (the report caption was on an early part)."""
        caption = self.t(
            "issues.captions.photo_added", number=issue.number, count=len(issue.photos)
        )
        for photo in notice.photos:
            await self.services.outbox.send_photo(notice.chat_id, photo, caption=caption)

    async def _to_worker_with_buttons(self, notice: Notice, issue: IssueView) -> None:
        text = self.render(notice.kind.value, issue, Audience.WORKER, **self.notice_extra(notice))
        if notice.kind is NoticeKind.DUPLICATE_HINT:
            markup = kb.merge_hint(self.t, issue.number, notice.related)
            ref = dup_ref(issue.number, notice.chat_id)
        else:
            markup = self.card_buttons(issue) or {}
            ref = return_ref(issue.number, notice.chat_id)
        await self.services.outbox.send_message(notice.chat_id, text, reply_markup=markup, ref=ref)

    async def send_order(self, notice: Notice, issue: IssueView) -> None:
        """The 交办单 (or 重办 order) with the handler's buttons."""
        await self.services.outbox.send_message(
            notice.chat_id,
            self.order_text(issue, notice),
            reply_markup=self.order_buttons(issue),
            ref=order_ref(issue.number, notice.chat_id),
        )

    # -- the worker's card and the handler's 交办单: text and buttons from here only (#12) ------

    def grid_staff(self, grid_key: str) -> set[int]:
        grid = self.config.grid_by_key(grid_key)
        return set((*grid.workers, *grid.leaders)) if grid else set()

    def card_text(self, issue: IssueView) -> str:
        return self.render("worker_card", issue, Audience.WORKER, **_NO_EXTRA)

    def card_buttons(self, issue: IssueView, viewer: int | None = None) -> Markup | None:
        """The triage buttons the transition table allows now; with ``viewer``, only for the
        staff of the issue's grid (after a 转办 the old grid's cards keep the text and lose
        the buttons)."""
        if viewer is not None and viewer not in self.grid_staff(issue.grid):
            return None
        return kb.card(self.t, issue)

    def order_text(self, issue: IssueView, notice: Notice | None = None) -> str:
        extra = _NO_EXTRA if notice is None else self.notice_extra(notice)
        return self.render("handler_order", issue, Audience.HANDLER, **extra)

    def order_buttons(self, issue: IssueView) -> Markup | None:
        return kb.handler_order(self.t, issue)

    async def edit_if_sent(self, ref: str, chat_id: int, text: str, markup: Markup | None) -> bool:
        """Edit the message sent under ``ref`` if there is one (a leader may have no card)."""
        outbox = self.services.outbox
        if await outbox.message_of(ref) is None:
            return False
        empty: Markup = {"inline_keyboard": []}
        await outbox.edit_message(ref, chat_id, text, reply_markup=markup or empty)
        return True

    async def show_card(self, ref: str, chat_id: int, issue: IssueView) -> None:
        """Edit a worker's card (or hint) to the issue's current state and buttons."""
        await self.edit_if_sent(
            ref, chat_id, self.card_text(issue), self.card_buttons(issue, chat_id)
        )

    async def show_order(self, chat_id: int, issue: IssueView) -> None:
        ref = order_ref(issue.number, chat_id)
        await self.edit_if_sent(ref, chat_id, self.order_text(issue), self.order_buttons(issue))

    async def refresh(self, user: int, issue: IssueView, own_ref: str | None = None) -> None:
        """After an action, the presser's own message (``own_ref``, else their card) shows the
        new state and buttons, and so do the other workers' and leaders' messages about it
        (else theirs would offer 受理 on an issue already assigned; the service would refuse
        the press, but the card would mislead)."""
        await self._refresh_own(user, issue, own_ref)
        others = self.grid_staff(issue.grid)
        if user not in others:  # a 转办 away: the old grid's staff lose their buttons
            for grid in self.config.grids:
                if user in (members := self.grid_staff(grid.key)):
                    others |= members
        others.discard(user)
        # Their card, and any 催受理 reminder or hint with the same buttons: one query for all.
        refs = [
            (staff, ref) for staff in sorted(others) for ref in worker_refs(issue.number, staff)
        ]
        outbox = self.services.outbox
        sent = await outbox.delivered([ref for _, ref in refs])
        text = self.card_text(issue)
        for staff, ref in refs:
            if ref in sent:
                markup = self.card_buttons(issue, staff) or {"inline_keyboard": []}
                await outbox.edit_message(ref, staff, text, reply_markup=markup)

    async def _refresh_own(self, user: int, issue: IssueView, own_ref: str | None) -> None:
        handler = self.config.handler_by_key(issue.handler or "")
        if handler is not None and handler.user_id == user:
            await self.show_order(user, issue)
            return
        await self.show_card(own_ref or card_ref(issue.number, user), user, issue)

    async def _plain(self, notice: Notice, issue: IssueView) -> None:
        """Status to reporters, updates to workers, return decisions to the handler."""
        audience = (
            Audience.HANDLER if notice.kind is NoticeKind.RETURN_DECISION else (Audience.WORKER)
        )
        text = self.render(notice.kind.value, issue, audience, **self.notice_extra(notice))
        await self.services.outbox.send_message(notice.chat_id, text)

    # -- feedback slips ------------------------------------------------------------------------

    async def send_slip(self, notice: Notice, issue: IssueView) -> None:
        """The slip privately; also a deep-link button in the group for an unreachable reporter."""
        assert notice.slip_id is not None
        await self.slip_message(
            notice.chat_id,
            notice.slip_id,
            issue,
            reminder=(notice.kind is NoticeKind.FEEDBACK_REMINDER),
        )
        group = notice.fallback_chat_id
        if group is None and notice.kind is NoticeKind.FEEDBACK_REMINDER:
            group = next(
                (
                    r.chat_id
                    for r in issue.reporters
                    if r.user_id == notice.chat_id and r.chat_id < 0
                ),
                None,
            )
        if group is not None and not await self.reaches_privately(notice.chat_id):
            await self.slip_fallback(group, notice, issue)

    async def reaches_privately(self, user_id: int) -> bool:
        """Whether a private message is known to reach ``user_id``: one was delivered before
        and the user has not blocked the bot since. Anyone else also gets the group link,
        since a bot cannot open a private chat that the resident never started."""
        services = self.services
        if services.sender.is_unreachable(user_id):
            return False
        return await services.outbox.has_reached(user_id)

    async def slip_message(
        self, chat_id: int, slip_id: int, issue: IssueView, *, reminder: bool = False
    ) -> None:
        text = self.render(
            "slip", issue, Audience.WORKER, answers=[], reminder=reminder, done=False
        )
        await self.services.outbox.send_message(
            chat_id, text, reply_markup=kb.slip_step(self.t, slip_id, ()), ref=slip_ref(slip_id)
        )

    async def slip_fallback(self, group: int, notice: Notice, issue: IssueView) -> None:
        assert notice.slip_id is not None
        url = f"https://t.me/{self.bot_username}?start=slip_{notice.slip_id}"
        reporter = next((r for r in issue.reporters if r.user_id == notice.chat_id), None)
        name = reporter_name(reporter, Audience.GROUP) if reporter else ""
        text = self.render("slip_group", issue, Audience.GROUP, name=name)
        markup = kb.slip_link(self.t, issue.number, url)
        reply_to = reporter.message_id if reporter else None
        await self.services.outbox.send_message(
            group, text, reply_markup=markup, reply_to=reply_to
        )

    def slip_answers(self, answers: tuple[str, ...]) -> list[str]:
        """Human words for the answers given so far (是 / 未解决 / 满意 …)."""
        words = []
        if answers:
            words.append(self.t("issues.slip.contacted_" + ("yes" if answers[0] == "y" else "no")))
        if len(answers) > 1:
            words.append(self.t(f"issues.slip.{kb.SOLVED[answers[1]]}"))
        if len(answers) > 2:
            words.append(self.t(f"issues.slip.{kb.SATISFACTION[answers[2]]}"))
        return words

    async def slip_issue(self, slip_id: int) -> tuple[int, IssueView] | None:
        """(owner, issue) of a feedback slip; None for an unknown slip id."""
        return await issue_service(self.services).slip(slip_id)

    async def slip_progress(
        self, chat_id: int, slip_id: int, issue: IssueView, answers: tuple[str, ...]
    ) -> None:
        """Edit the slip to show the answers so far and the next question (none when done)."""
        done = len(answers) > 3
        text = self.render(
            "slip",
            issue,
            Audience.WORKER,
            answers=self.slip_answers(answers),
            reminder=False,
            done=done,
        )
        markup = {"inline_keyboard": []} if done else kb.slip_step(self.t, slip_id, answers)
        await self.services.outbox.edit_message(
            slip_ref(slip_id), chat_id, text, reply_markup=markup
        )
