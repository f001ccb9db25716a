"""窗帘之约 (issue #5): elderly residents living alone confirm every morning that they are well.

Rules, in the words residents are told:

* A grid worker enrols a resident of their grid (``/checkin_enrol``), optionally with a linked
  volunteer or family member and the household's location. The resident is then asked, in a
  private chat, to consent; nothing is sent before they do (PIPL art. 28–29: living alone is
  sensitive information and needs separate consent).
* Every morning at ``ask`` (07:30) the resident gets one button, 我很好. The resident or the
  linked volunteer may press it.
* Nobody pressed it by ``deadline`` (09:00): exactly one private alert to the grid's workers
  and the volunteer, with the location. Never in a group. The alert stays open until one of
  them records the outcome (已联系，平安 / 已上门处理).
"""

from __future__ import annotations

from datetime import date

from bot.config import Config
from bot.core.clock import Clock
from bot.core.errors import InvalidInput, NotFound, NotPermitted, StaleSlip
from bot.schedule.model import NoticeKind, ScheduleNotice, local_day
from storage.schedule.checkins import CheckinRepo, EnrolmentRecord

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

    async def consent(self, enrolment_id: int, user_id: int) -> None:
        """The resident agrees; mornings start tomorrow (or today, before the question)."""
        enrolment = await self._enrolment(enrolment_id)
        if enrolment.user_id != user_id:
            raise NotPermitted("schedule.errors.not_yours")
        async with self.repo.db.transaction():
            if not await self.repo.consent(enrolment_id, user_id, self.clock.now()):
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
        if user_id not in self.responders(enrolment):
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
                ScheduleNotice(NoticeKind.CHECKIN_ASK, enrolment.user_id,
                               enrolment_id=enrolment.id, day=str(day))
            )  # fmt: skip
        return notices

    async def alert_unconfirmed(self, day: date) -> list[ScheduleNotice]:
        notices = []
        for enrolment_id in await self.repo.unconfirmed(str(day)):
            alert_id = await self.repo.raise_alert(enrolment_id, str(day), self.clock.now())
            enrolment = await self.repo.get(enrolment_id)
            if alert_id is None or enrolment is None:
                continue
            values = {"resident": enrolment.user_id, "location": enrolment.location}
            notices += [
                ScheduleNotice(NoticeKind.CHECKIN_ALERT, person, values=values,
                               enrolment_id=enrolment_id, alert_id=alert_id, day=str(day))
                for person in self.responders(enrolment)
            ]  # fmt: skip
        return notices

    def today(self) -> date:
        return local_day(self.clock.now(), self.config)
