"""窗帘之约 (issue #5): elderly residents living alone confirm every morning that they are well.

Rules, in the words residents are told:

* A grid worker enrols a resident of their grid (``/checkin_enrol``), optionally with a linked
  volunteer or family member and the household's location. The resident is then asked, in a
  private chat, to consent; nothing is sent before they do (PIPL art. 28–29: living alone is
  sensitive information and needs separate consent).
* Every morning at ``ask`` (07:30) the resident gets one button, 我很好. The resident or the
  linked volunteer may press it.
* Nobody pressed it by ``deadline`` (09:00): exactly one private alert to the grid's workers
  and the volunteer, with the resident's name and location. Never in a group. The alert stays
  open until one of them records the outcome (已联系，平安 / 已上门处理).
* Nobody recorded an outcome ``escalate_after`` (1h) later: the grid's leaders are alerted
  (the secretaries when the grid has none); after twice that, the secretaries; then, each
  time it passes again, everyone involved again, until the end of the alert's day (issue #13
  item 19). Anyone alerted may record the outcome. After downtime only the step due now is
  sent, once (``escalation`` on the alert, in the sweep's transaction).
* The volunteer is usually family: their copy is worded for family, not for staff.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TypeAlias

from bot.config import Config
from bot.core.clock import Clock
from bot.core.errors import InvalidInput, NotFound, NotPermitted, StaleSlip
from bot.schedule.model import NoticeKind, ScheduleNotice, at_local, local_day
from storage.schedule.checkins import AlertRecord, CheckinRepo, EnrolmentRecord

# What the service hands out, under its own name (presenters never import storage).
Enrolment: TypeAlias = EnrolmentRecord

OUTCOMES = ("safe", "visited")


class CheckinService:
    def __init__(self, repo: CheckinRepo, clock: Clock, config: Config) -> None:
        self.repo = repo
        self.clock = clock
        self.config = config

    async def enrol(
        self, worker_id: int, user_id: int, volunteer_id: int | None, location: str | None
    ) -> ScheduleNotice:
        """A grid worker enrols a resident; the resident is asked to consent privately."""
        grids = self.config.grids_of_worker(worker_id)
        if not grids:
            raise NotPermitted("schedule.errors.only_worker")
        if user_id == volunteer_id:
            raise InvalidInput("schedule.errors.volunteer_self")
        async with self.repo.db.transaction():
            enrolment = await self.repo.enrol(
                user_id, volunteer_id, grids[0].key, location, worker_id, self.clock.now()
            )
        return ScheduleNotice(NoticeKind.CHECKIN_CONSENT, user_id, enrolment_id=enrolment)

    async def consent(self, enrolment_id: int, user_id: int, name: str | None = None) -> None:
        """The resident agrees; mornings start tomorrow (or today, before the question).

        ``name``: as they go by on Telegram, so an alert can name them to those who act."""
        enrolment = await self._enrolment(enrolment_id)
        if enrolment.user_id != user_id:
            raise NotPermitted("schedule.errors.not_yours")
        async with self.repo.db.transaction():
            if not await self.repo.consent(enrolment_id, user_id, name, self.clock.now()):
                raise StaleSlip("schedule.errors.already_done")

    async def confirm(self, enrolment_id: int, day: str, user_id: int) -> None:
        """我很好, pressed by the resident or the linked volunteer."""
        enrolment = await self._enrolment(enrolment_id)
        if user_id not in (enrolment.user_id, enrolment.volunteer_id):
            raise NotPermitted("schedule.errors.not_yours")
        async with self.repo.db.transaction():
            if not await self.repo.confirm(enrolment_id, day, user_id, self.clock.now()):
                raise StaleSlip("schedule.errors.already_done")

    async def record_outcome(self, alert_id: int, user_id: int, outcome: str) -> EnrolmentRecord:
        """已联系，平安 / 已上门处理: closes the alert (a grid worker or the volunteer)."""
        if outcome not in OUTCOMES:
            raise InvalidInput()
        alert = await self.repo.alert(alert_id)
        if alert is None:
            raise NotFound("schedule.errors.no_alert")
        enrolment = await self._enrolment(alert.enrolment_id)
        if user_id not in self.everyone(enrolment):
            raise NotPermitted("schedule.errors.not_yours")
        async with self.repo.db.transaction():
            if not await self.repo.close_alert(alert_id, outcome, user_id, self.clock.now()):
                raise StaleSlip("schedule.errors.already_done")
        return enrolment

    def responders(self, enrolment: EnrolmentRecord) -> tuple[int, ...]:
        """Who is alerted: the grid's workers, then the volunteer (private chats only)."""
        grid = self.config.grid_by_key(enrolment.grid)
        people = list(grid.workers if grid else ())
        if enrolment.volunteer_id is not None and enrolment.volunteer_id not in people:
            people.append(enrolment.volunteer_id)
        return tuple(people)

    def everyone(self, enrolment: EnrolmentRecord) -> tuple[int, ...]:
        """Everyone an alert may reach (and who may record its outcome): the responders, the
        grid's leaders and the secretaries."""
        grid = self.config.grid_by_key(enrolment.grid)
        leaders = grid.leaders if grid else ()
        secretaries = self.config.secretaries_of_grid(enrolment.grid)
        people = (*self.responders(enrolment), *leaders, *secretaries)
        return tuple(dict.fromkeys(people))

    def is_family(self, enrolment: EnrolmentRecord, person: int) -> bool:
        """The linked contact, unless they are also staff: they get wording meant for family."""
        staff = set(self.everyone(enrolment)) - {enrolment.volunteer_id}
        return person == enrolment.volunteer_id and person not in staff

    def _escalated_to(self, enrolment: EnrolmentRecord, step: int) -> tuple[int, ...]:
        grid = self.config.grid_by_key(enrolment.grid)
        leaders = grid.leaders if grid else ()
        secretaries = self.config.secretaries_of_grid(enrolment.grid)
        if step == 1:
            return leaders or secretaries
        if step == 2:
            return secretaries
        return self.everyone(enrolment)

    async def open_alerts_for(self, user_id: int) -> list[tuple[AlertRecord, EnrolmentRecord]]:
        """Alerts with no outcome yet that this person may record one for (issue #18 item 6)."""
        found = []
        for alert in await self.repo.open_alerts():
            enrolment = await self.repo.get(alert.enrolment_id)
            if enrolment is not None and user_id in self.everyone(enrolment):
                found.append((alert, enrolment))
        return found

    async def _enrolment(self, enrolment_id: int) -> EnrolmentRecord:
        enrolment = await self.repo.get(enrolment_id)
        if enrolment is None:
            raise NotFound("schedule.errors.no_enrolment")
        return enrolment

    # -- the sweep's two daily steps (called inside its transaction) ---------------------------

    async def ask_all(self, day: date) -> list[ScheduleNotice]:
        notices = []
        for enrolment in await self.repo.active():
            await self.repo.asked(enrolment.id, str(day), self.clock.now())
            notices.append(
                ScheduleNotice(
                    NoticeKind.CHECKIN_ASK,
                    enrolment.user_id,
                    enrolment_id=enrolment.id,
                    day=str(day),
                )
            )
        return notices

    async def alert_unconfirmed(self, day: date) -> list[ScheduleNotice]:
        notices = []
        for enrolment_id in await self.repo.unconfirmed(str(day)):
            alert_id = await self.repo.raise_alert(enrolment_id, str(day), self.clock.now())
            enrolment = await self.repo.get(enrolment_id)
            if alert_id is None or enrolment is None:
                continue
            notices += self._alerts(enrolment, alert_id, str(day), self.responders(enrolment))
        return notices

    async def escalate(self, now: datetime) -> list[ScheduleNotice]:
        """Open alerts whose next escalation step is due (see the module docstring), in the
        caller's transaction (tests)."""
        notices = []
        for alert, step in await self.due_escalations(now):
            notices += await self.escalate_one(alert, step)
        return notices

    async def due_escalations(self, now: datetime) -> list[tuple[AlertRecord, int]]:
        """(alert, step) of every open alert whose next step is due: reads only, outside the
        write transaction (issue #15 item 3)."""
        due = []
        for alert in await self.repo.open_alerts():
            step = self._due_step(alert, now)
            if step > alert.escalation:
                due.append((alert, step))
        return due

    async def escalate_one(self, alert: AlertRecord, step: int) -> list[ScheduleNotice]:
        """Send escalation ``step`` of an alert, in the caller's write transaction; nothing
        if someone recorded the outcome (or the step went out) since it was read."""
        if not await self.repo.escalated(alert.id, step):
            return []
        enrolment = await self._enrolment(alert.enrolment_id)
        people = self._escalated_to(enrolment, step)
        return self._alerts(enrolment, alert.id, alert.day, people, step)

    def _due_step(self, alert: AlertRecord, now: datetime) -> int:
        """The last step due by ``now`` that still falls on the alert's own day."""
        every = timedelta(hours=self.config.schedule.checkin.escalate_after.amount)
        day_ends = at_local(date.fromisoformat(alert.day) + timedelta(days=1), time(), self.config)
        step = (min(now, day_ends - timedelta(microseconds=1)) - alert.raised_at) // every
        return max(int(step), 0)

    def _alerts(
        self,
        enrolment: EnrolmentRecord,
        alert_id: int,
        day: str,
        people: tuple[int, ...],
        step: int = 0,
    ) -> list[ScheduleNotice]:
        hours = step * self.config.schedule.checkin.escalate_after.amount
        return [
            ScheduleNotice(
                NoticeKind.CHECKIN_ALERT,
                person,
                values=self.alert_values(enrolment, person) | {"step": step, "hours": hours},
                enrolment_id=enrolment.id,
                alert_id=alert_id,
                day=day,
            )
            for person in people
        ]

    def alert_values(self, enrolment: EnrolmentRecord, person: int) -> dict[str, object]:
        """What an alert tells ``person``: only ever sent in a private chat."""
        return {
            "resident": enrolment.user_id,
            "name": enrolment.name,
            "location": enrolment.location,
            "family": self.is_family(enrolment, person),
        }

    def today(self) -> date:
        return local_day(self.clock.now(), self.config)
