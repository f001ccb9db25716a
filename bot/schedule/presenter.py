"""Renders the sweep's ScheduleNotices and queues them in the outbox (issue #5).

Refs (so a later button press can edit the message in place):

    checkin:ask:<enrolment>:<day>           the morning question
    checkin:alert:<alert>:<person>          an alert, edited when someone records the outcome
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from bot.context import Services
from bot.core.rendering import Renderer
from bot.issues.presenter import IssueNotifier, chase_ref, issue_service
from bot.issues.rates import Rate, Rates
from bot.privacy.service import audience_of
from bot.schedule.chasing import WAITING_FOR_WORKERS
from bot.schedule.checkin import Enrolment
from bot.schedule.digest import CommunityLine, Digest, DistrictRollup, Rollup
from bot.schedule.digest_chart import trend_png
from bot.schedule.digest_xlsx import digest_workbook
from bot.schedule.model import NoticeKind, ScheduleNotice

log = logging.getLogger(__name__)


def ask_ref(enrolment_id: int, day: str) -> str:
    return f"checkin:ask:{enrolment_id}:{day}"


def alert_ref(alert_id: int, person: int) -> str:
    return f"checkin:alert:{alert_id}:{person}"


def button(text: str, data: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": text, "callback_data": data}]]}


def outcome_buttons(t: Any, alert_id: int, *, family: bool = False) -> dict[str, Any]:
    """已联系，平安 / 已上门处理; the family's copy says the same in family words."""
    prefix = "schedule.buttons.family_" if family else "schedule.buttons."
    return {
        "inline_keyboard": [
            [
                {"text": t(f"{prefix}{outcome}"), "callback_data": f"ck:o:{alert_id}:{outcome}"}
                for outcome in ("safe", "visited")
            ]
        ]
    }


def rate_line(rates: Rates) -> list[str]:
    """The four rates in order; the template joins them with its locale's separator."""
    return [rates.percent(r) for r in Rate]


def _line_values(line: CommunityLine) -> dict[str, Any]:
    """One roll-up line and its three percentages, as the roll-up templates show them."""
    return {
        "line": line,
        "on_time": line.on_time_30.percent(),
        "solved": line.rates_30.percent("resolution_rate"),
        "satisfied": line.rates_30.percent("satisfaction_rate"),
    }


def rollup_text(renderer: Renderer, office: str, rollup: Rollup) -> str:
    """The street office's roll-up (issue #15) in the renderer's locale."""
    return renderer.render(
        "schedule/rollup",
        office=office,
        day=renderer.month_day(rollup.start),
        lines=[_line_values(line) for line in rollup.lines],
    )


def district_text(renderer: Renderer, district: str, rollup: DistrictRollup) -> str:
    """The district's roll-up (issue #16): each street office's totals, then its
    communities, in the renderer's locale."""
    return renderer.render(
        "schedule/district",
        district=district,
        day=renderer.month_day(rollup.start),
        offices=[
            {
                "name": block.office,
                "total": _line_values(block.total),
                "lines": [_line_values(line) for line in block.lines],
            }
            for block in rollup.offices
        ],
    )


def digest_values(renderer: Renderer, community: str, digest: Digest) -> dict[str, Any]:
    """What the digest templates are rendered with, in the renderer's locale."""
    last = digest.end.toordinal() - 1
    first = digest.start
    period = renderer.month_day(first)
    if digest.weekly:
        period += "–" + renderer.month_day(type(first).fromordinal(last))
    today = renderer.join(renderer.text(f"schedule.rules.{name}") for name in digest.today)
    rates = {
        "period": rate_line(digest.rates),
        "last30": rate_line(digest.rates_30),
        "change": change_line(digest.changes),
    }
    year = digest.holidays_unknown
    return {
        "d": digest,
        "warning": None
        if year is None
        else renderer.text("schedule.calendar.unknown_year", year=year),
        "community": community,
        "period": period,
        "rates": rates,
        "today": today,
        "more": renderer.text("schedule.digest.more"),
    }


def change_line(changes: dict[str, Fraction | None]) -> list[str]:
    parts = []
    for rate in Rate:
        value = changes.get(rate.value)
        parts.append("—" if value is None else f"{float(value):+.1f}")
    return parts


class ScheduleNotifier:
    def __init__(self, services: Services, bot_username: str) -> None:
        self.services = services
        self.renderer = services.renderer
        self.t = services.renderer.text
        self.render = services.renderer.render
        self.config = services.config
        self.issues = IssueNotifier(services, bot_username)
        # One chart per digest, however many secretaries receive it (by the digest's id:
        # the notices hold the digest while they are delivered).
        self._charts: dict[int, bytes | None] = {}

    def when(self, moment: datetime | None) -> str | None:
        return self.issues.when(moment)

    async def deliver(self, notices: Iterable[ScheduleNotice]) -> None:
        for notice in notices:
            await self.send(notice)

    async def send(self, notice: ScheduleNotice) -> None:
        outbox = self.services.outbox
        match notice.kind:
            case NoticeKind.ANNOUNCEMENT:
                await outbox.send_message(notice.chat_id, self.announcement(notice))
            case NoticeKind.CHASE:
                await self._chase(notice)
            case NoticeKind.CHECKIN_CONSENT | NoticeKind.CHECKIN_ASK | NoticeKind.CHECKIN_ALERT:
                await self.send_checkin(notice)
            case NoticeKind.DIGEST:
                await self._digest(notice.chat_id, notice.digest)
            case NoticeKind.ROLLUP:
                await outbox.send_message(notice.chat_id, self.rollup_text(notice.digest))
            case NoticeKind.DISTRICT:
                text = district_text(self.renderer, self.config.district.name, notice.digest)
                await outbox.send_message(notice.chat_id, text)

    def announcement(self, notice: ScheduleNotice) -> str:
        """A calendar rule's message: the event's own date, and the day a holiday moved it from."""
        values = notice.values
        event: datetime = values["event_at"]
        moved: date | None = values.get("moved_from")
        moved_from = None
        if moved is not None:
            local = event.astimezone(self.config.timezone)
            key = "day" if (moved.year, moved.month) == (local.year, local.month) else "date"
            moved_from = self.t(f"schedule.moved.{key}", month=moved.month, day=moved.day)
        return self.render(
            f"schedule/{notice.template}",
            variant=values["variant"],
            when=self.when(event),
            moved_from=moved_from,
        )

    async def _chase(self, notice: ScheduleNotice) -> None:
        assert notice.issue_no is not None
        issue = await issue_service(self.services).load(notice.issue_no)
        audience = audience_of(self.config, issue, notice.chat_id)
        days = next(
            (
                s.after_working_days
                for i, s in enumerate(self.config.schedule.chase.ladder, 1)
                if notice.values.get("step") == f"escalate{i}"
            ),
            0,
        )
        step = notice.values["step"]
        text = self.render(
            "schedule/chase", issue=self.issues.fields(issue, audience), step=step, days=days
        )
        if step in WAITING_FOR_WORKERS:  # the worker acts straight from the reminder
            await self.services.outbox.send_message(
                notice.chat_id,
                text,
                reply_markup=self.issues.card_buttons(issue),
                ref=chase_ref(issue.number, notice.chat_id),
            )
        else:
            await self.services.outbox.send_message(notice.chat_id, text)

    async def send_checkin(self, notice: ScheduleNotice, outcome: str | None = None) -> None:
        outbox, checkin = self.services.outbox, self.config.schedule.checkin
        if notice.kind is NoticeKind.CHECKIN_CONSENT:
            assert notice.enrolment_id is not None
            text = self.render(
                "schedule/checkin_consent",
                ask=f"{checkin.ask:%H:%M}",
                deadline=f"{checkin.deadline:%H:%M}",
                volunteer=True,
            )
            markup = button(self.t("schedule.buttons.consent"), f"ck:c:{notice.enrolment_id}")
            await outbox.send_message(notice.chat_id, text, reply_markup=markup)
        elif notice.kind is NoticeKind.CHECKIN_ASK:
            assert notice.enrolment_id is not None and notice.day is not None
            ref = ask_ref(notice.enrolment_id, notice.day)
            data = f"ck:ok:{notice.enrolment_id}:{notice.day}"
            markup = button(self.t("schedule.buttons.fine"), data)
            await outbox.send_message(
                notice.chat_id, self.render("schedule/checkin_ask"), reply_markup=markup, ref=ref
            )
        else:
            assert notice.alert_id is not None
            family = bool(notice.values["family"])
            markup = outcome_buttons(self.t, notice.alert_id, family=family)
            await outbox.send_message(
                notice.chat_id,
                self.alert_text(notice.values),
                reply_markup=markup,
                ref=alert_ref(notice.alert_id, notice.chat_id),
            )

    def alert_text(self, values: Mapping[str, Any], outcome: str | None = None) -> str:
        """A 窗帘之约 alert (private chats only: it names the resident), for staff or family."""
        template = "checkin_family" if values["family"] else "checkin_alert"
        return self.render(
            f"schedule/{template}",
            resident=values["resident"],
            name=values["name"],
            location=values["location"],
            step=values.get("step", 0),
            hours=values.get("hours", 0),
            outcome=outcome,
            deadline=f"{self.config.schedule.checkin.deadline:%H:%M}",
        )

    async def alert_closed(self, alert_id: int, enrolment: Enrolment, outcome: str) -> None:
        """Show the outcome, without buttons, on every copy of the alert anyone received."""
        checkins = self.services.features.checkin
        outbox = self.services.outbox
        label = self.t(f"schedule.outcomes.{outcome}")
        for person in checkins.everyone(enrolment):
            ref = alert_ref(alert_id, person)
            if await outbox.message_of(ref) is not None:
                text = self.alert_text(checkins.alert_values(enrolment, person), label)
                await outbox.edit_message(ref, person, text, reply_markup={"inline_keyboard": []})

    def digest_text(self, digest: Digest) -> str:
        return self.render("schedule/digest", **self._digest_values(digest))

    def _digest_values(self, digest: Digest) -> dict[str, Any]:
        community = self.config.community_by_key(digest.community)
        name = community.name if community is not None else digest.community
        return digest_values(self.renderer, name, digest)

    def rollup_text(self, rollup: Rollup) -> str:
        """The street office's roll-up: one line per community, worst first."""
        return rollup_text(self.renderer, self.config.street_office.name, rollup)

    async def _digest(self, chat_id: int, digest: Digest) -> None:
        text = self.digest_text(digest)
        outbox = self.services.outbox
        if len(text) <= self.config.schedule.digest.max_chars:
            await outbox.send_message(chat_id, text)
        else:
            short = self.render("schedule/digest_short", **self._digest_values(digest))
            await outbox.send_message(chat_id, short)
            name = f"digest-{digest.end.isoformat()}.xlsx"
            await outbox.send_document(chat_id, digest_workbook(self.t, text), name)
        await self._trend_chart(chat_id, digest)

    async def _trend_chart(self, chat_id: int, digest: Digest) -> None:
        """The 30-day trend as a picture, when there was any activity to draw."""
        if not any(new or resolved for _, new, resolved in digest.trend):
            return
        if id(digest) not in self._charts:
            days = [day for day, _, _ in digest.trend]
            self._charts[id(digest)] = trend_png(
                days,
                [
                    (self.t("schedule.chart.new"), [new for _, new, _ in digest.trend]),
                    (self.t("schedule.chart.resolved"), [done for _, _, done in digest.trend]),
                ],
                self.t("schedule.chart.title", start=f"{days[0]:%m-%d}", end=f"{days[-1]:%m-%d}"),
            )
        png = self._charts[id(digest)]
        if png is not None:
            await self.services.outbox.send_photo(
                chat_id, png, caption=self.t("schedule.chart.caption")
            )
