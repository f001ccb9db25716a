"""Deadline chasing (催办 / 督办, issue #5), derived from each issue's deadline on every sweep.

For an issue a handler is working on (已交办 / 处理中) with a resolve-by deadline:

* ``remind``: at ``remind_fraction`` (75%) of the time from assignment to the deadline (or the
  next working moment after it), 催办 to the handler;
* ``overdue``: once the deadline has passed, 督办 to the handler and the grid's workers;
* ``escalate<i>``: once the deadline is ``after_working_days`` working days behind (China's
  official calendar: weekends and holidays do not count, make-up days do), 升级督办 to the
  grid's leaders or the community's secretaries.

A report nobody accepted (已登记) by its respond-by (受理) deadline is chased too, and so is a
handler's return request (申请退单) nobody decided on within the same time limit
(``return_waiting`` / ``return_waiting_escalate``, same audiences):

* ``unaccepted``: at the deadline (or the next working moment), 催受理 to the grid's workers;
* ``unaccepted_escalate``: ``unaccepted_escalate_after`` later (2 working hours), to the
  grid's leaders.

Each step is recorded under a key holding the deadline, so a reopened issue (new deadline)
walks the ladder again, and an issue resolved, returned, rejected or closed is never chased.
After downtime only the latest step that is due is sent; earlier ones it overtook are recorded
as skipped, so nobody receives a 催办 and a 督办 for the same issue in one burst.

The sweep never holds the writer while it looks (issue #15 item 3): :meth:`Chaser.due` reads
the chased issues from indexes on the reader connection, outside any transaction, and works
out which steps fell due; :meth:`Chaser.apply` then writes a slice of them in a short write
transaction, checking first that each issue is still in the state, with the deadline, that
the read saw. A worker who accepted the report in between is not reminded to accept it, and
the step is recorded once (its key is unique), so nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bot.config import Config
from bot.core.workcal import Duration, Unit, WorkCalendar
from bot.issues.core import SYSTEM
from bot.issues.model import Action
from bot.issues.service import IssueService
from bot.schedule.model import NoticeKind, ScheduleNotice
from storage.clock import to_db
from storage.db import Row
from storage.issues.stats import (
    CHASED_STATES,
    ChaseCandidate,
    IssueStats,
    Raw,
    ReturnRequest,
    Unaccepted,
)
from storage.schedule.runs import ScheduleRepo

MAX_STEPS_PER_SWEEP: Final = 200
# Steps written per transaction at most (fewer once the slice took its time: bot.core.slices):
# each transaction is short, so an update waiting for the writer waits for one slice, never
# for the whole sweep.
STEPS_PER_TRANSACTION: Final = 10
# The chaser looks at every chased issue each tick (~7,000 on 1,000,000 issues) in a worker
# thread, not on the event loop (issue #15 item 6). A thread running Python holds the GIL up to
# sys.getswitchinterval() (5 ms) before the loop's thread may take it, so the scan lets go of
# it by itself after this much work: a message arriving meanwhile waits at most about that.
GIL_SLICE: Final = 0.0005
# How long it lets go: long enough for the waiting loop thread to be woken and take the GIL
# (a sleep of 0 gives it back to the same thread most of the time).
GIL_PAUSE: Final = 0.0001
HANDLED, NEW, RETURNED = "handled", "new", "returned"  # the three kinds of chased rows
# What waits for the grid's workers (worker_ladder): its reminder carries the card's buttons.
UNACCEPTED: Final = "unaccepted"
RETURN_WAITING: Final = "return_waiting"
WAITING_FOR_WORKERS: Final = frozenset({UNACCEPTED, RETURN_WAITING})
# An urgent report's escalation span, in clock time instead of working time.
_CLOCK_TIME: Final = {Unit.WORKING_HOURS: Unit.HOURS, Unit.WORKING_DAYS: Unit.DAYS}


@dataclass(frozen=True)
class Step:
    name: str  # "remind", "overdue", "escalate1", "unaccepted" …
    at: datetime
    action: Action
    audience: tuple[str, ...]  # "handler", "workers", "leaders", "secretaries"


@dataclass(frozen=True)
class Chase:
    """One chased issue: its steps, earliest first, and the key prefix they are recorded
    under (it holds the deadline or the request, so a new one walks its ladder again)."""

    number: int
    grid: str
    handler: str | None
    steps: list[Step]
    key: str
    # What the read saw, checked again inside the write: the issue's state, and the deadline
    # (or request time) the steps were derived from (None: the state alone).
    states: tuple[str, ...]
    deadline: tuple[str, datetime] | None


Due = tuple[Chase, list[Step]]

# A chase as kept between ticks: nothing but plain tuples of numbers, strings and datetimes.
# The cyclic collector stops tracking such a tuple once it saw everything in it untracked
# (a full collection per level of nesting, three here); kept as objects,
# 7,000 ladders were ~50,000 objects that every full collection walked, 10–40 ms with the
# GIL held, whichever thread triggered it. Fields: the step times (timestamps: comparing
# zoned datetimes asks the zone for its offset each time), the steps as (name, at, action,
# audience), then number, grid, handler, key, states, deadline as in Chase.
_Step = tuple[str, datetime, str, tuple[str, ...]]
Compact = tuple[
    tuple[float, ...],
    tuple[_Step, ...],
    int,
    str,
    str | None,
    str,
    tuple[str, ...],
    tuple[str, datetime] | None,
]
_KEY: Final = 5


def compact(chase: Chase) -> Compact:
    """What is kept of ``chase`` between ticks (its deadline and states are plain tuples
    already)."""
    steps = tuple((s.name, s.at, s.action.value, s.audience) for s in chase.steps)
    times = tuple(step.at.timestamp() for step in chase.steps)
    c = chase
    return (times, steps, c.number, c.grid, c.handler, c.key, c.states, c.deadline)


def expand(kept: Compact, due: int) -> Due:
    """The chase ``kept`` stands for, with its first ``due`` steps (those due)."""
    _, rows, number, grid, handler, key, states, deadline = kept
    steps = [Step(name, at, Action(action), audience) for name, at, action, audience in rows]
    return Chase(number, grid, handler, steps, key, states, deadline), steps[:due]


class _Breather:
    """Called once per row by work in a worker thread: after ``GIL_SLICE`` of work, sleeps
    ``GIL_PAUSE`` so the event loop's thread gets the GIL (see GIL_SLICE)."""

    def __init__(self) -> None:
        self.until = time.perf_counter() + GIL_SLICE
        self.pauses = 0

    def __call__(self) -> None:
        if time.perf_counter() >= self.until:
            time.sleep(GIL_PAUSE)
            self.pauses += 1
            self.until = time.perf_counter() + GIL_SLICE


def ladder(candidate: ChaseCandidate, config: Config, calendar: WorkCalendar) -> list[Step]:
    """The chase steps of one issue, earliest first."""
    chase = config.schedule.chase
    span = candidate.resolve_by - candidate.assigned_at
    # Nobody is chased at 04:00: a reminder falling outside working time waits for it.
    remind_at = calendar.next_working_moment(candidate.assigned_at + span * chase.remind_fraction)
    steps = [Step("overdue", candidate.resolve_by, Action.SUPERVISE, ("handler", "workers"))]
    if remind_at < candidate.resolve_by:  # a short limit can end before working time resumes
        steps.append(Step("remind", remind_at, Action.CHASE, ("handler",)))
    for index, rung in enumerate(chase.ladder, start=1):
        at = calendar.add_working_days(candidate.resolve_by, rung.after_working_days)
        steps.append(Step(f"escalate{index}", at, Action.ESCALATE, (rung.to,)))
    return sorted(steps, key=lambda step: step.at)


def worker_ladder(
    name: str, deadline: datetime, urgent: bool, config: Config, calendar: WorkCalendar
) -> list[Step]:
    """The chase steps of something waiting for the grid's workers past ``deadline`` (a report
    to accept, a return request to decide): ``name`` to the workers at the deadline (or the
    next working moment), ``name_escalate`` to the leaders ``unaccepted_escalate_after`` later.

    An urgent issue (a threat to life or property) waits for nobody's working hours: its
    workers are reminded at the deadline and its leaders the same span later in clock time."""
    after = config.schedule.chase.unaccepted_escalate_after
    if urgent:
        remind_at = deadline
        after = Duration(after.amount, _CLOCK_TIME.get(after.unit, after.unit))
    else:
        remind_at = calendar.next_working_moment(deadline)
    later = calendar.add(deadline, after)
    return [
        Step(name, remind_at, Action.CHASE, ("workers",)),
        Step(f"{name}_escalate", max(later, remind_at), Action.ESCALATE, ("leaders",)),
    ]


class Chaser:
    def __init__(
        self,
        issues: IssueService,
        stats: IssueStats,
        runs: ScheduleRepo,
        calendar: WorkCalendar,
    ) -> None:
        self.issues = issues
        self.stats = stats
        self.runs = runs
        self.calendar = calendar
        self.config = issues.config
        # Every tick reads every chased issue (thousands on a large database) on the one event
        # loop that also serves residents. A ladder depends only on what the read returned, so
        # it is worked out once per candidate row, not once a minute; and a step found recorded
        # stays recorded. What is no longer a candidate is dropped at the next tick.
        self._ladders: dict[Hashable, Compact] = {}
        self._recorded: set[str] = set()

    async def sweep(self, now: datetime) -> list[ScheduleNotice]:
        """Find the due steps and send them, in the caller's transaction (tests, one slice)."""
        return await self.apply(await self.due(now), now)

    async def due(self, now: datetime) -> list[Due]:
        """The chases with a step due and not recorded yet, with their due steps: reads only,
        meant to run outside any transaction.

        Every tick looks at every chased issue, but only a step that fell due since the last
        one is returned: the latest due steps already recorded are read in one query. A
        backlog (chasing turned on over a large database) is worked off a slice per tick;
        the outbox could not deliver thousands at once anyway.

        The look itself (a tuple per row, the ladders not kept yet, which steps are due) is
        Python over thousands of rows: it runs in a worker thread that lets go of the GIL
        every GIL_SLICE, so the event loop keeps serving residents meanwhile (issue #15
        item 6). The loop only awaits the reads and, at the end, the few chases found due.
        """
        stats = self.stats
        handled = await stats.chase_rows()
        unaccepted = await stats.unaccepted_rows(now)
        returned = await stats.return_request_rows()
        sources = ((HANDLED, handled), (NEW, unaccepted), (RETURNED, returned))
        # The ladders and steps seen are only read by the thread and replaced here after it:
        # one sweep at a time looks (bot.schedule.jobs's sweep lock).
        found = await asyncio.to_thread(self._look, sources, now.timestamp())
        pending, latest, self._ladders = found
        self._recorded &= latest  # only what can still be asked about: bounded memory
        keys = [kept[_KEY] + kept[1][due - 1][0] for kept, due in pending]
        recorded = await self.runs.recorded_among(keys)
        self._recorded |= recorded  # committed: read on the reader connection
        fresh = [
            expand(kept, due)
            for (kept, due), key in zip(pending, keys, strict=True)
            if key not in recorded
        ]
        return fresh[:MAX_STEPS_PER_SWEEP]

    def _look(
        self, sources: Sequence[tuple[str, Sequence[Row]]], now: float
    ) -> tuple[list[tuple[Compact, int]], set[str], dict[Hashable, Compact]]:
        """In a worker thread: (each chase with a step due and not known recorded, with how
        many of its steps are due), the keys of the latest due steps, and the ladders to keep
        (the ones of these rows; a ladder depends only on the row, so it is worked out once
        per row, not once a tick)."""
        known, seen = self._ladders, dict[Hashable, Compact]()
        builders: dict[str, Callable[[Raw], Chase]] = {
            HANDLED: self._handled,
            NEW: self._unaccepted,
            RETURNED: self._returned,
        }
        recorded, pending, latest = self._recorded, [], set()
        breathe = _Breather()
        for kind, rows in sources:
            build = builders[kind]
            for row in rows:
                raw = tuple(row)
                source = (kind, *raw)
                kept = known.get(source)
                if kept is None:
                    kept = compact(build(raw))
                seen[source] = kept
                due = bisect_left(kept[0], now)
                if due:
                    key = kept[_KEY] + kept[1][due - 1][0]
                    latest.add(key)
                    if key not in recorded:
                        pending.append((kept, due))
                breathe()
        return pending, latest, seen

    async def apply(self, due: list[Due], now: datetime) -> list[ScheduleNotice]:
        """Record and send the latest step of each chase, inside the caller's (short) write
        transaction; a chase whose issue moved on since :meth:`due` read it is left alone."""
        notices: list[ScheduleNotice] = []
        for chase, steps in due:
            if not await self.stats.still_in(chase.number, chase.states, chase.deadline):
                continue
            *overtaken, latest = steps
            for step in overtaken:
                await self.runs.record(chase.key + step.name, "chase", step.at, "skipped", now)
            if await self.runs.record(chase.key + latest.name, "chase", latest.at, "sent", now):
                notices += await self._send(chase, latest)
        return notices

    def _handled(self, row: Raw) -> Chase:
        c = ChaseCandidate.parse(row)
        key = f"chase:{c.number}:{to_db(c.resolve_by)}:"
        steps = ladder(c, self.config, self.calendar)
        return Chase(
            c.number, c.grid, c.handler, steps, key, CHASED_STATES, ("resolve_by", c.resolve_by)
        )

    def _unaccepted(self, row: Raw) -> Chase:
        r = Unaccepted.parse(row)
        steps = worker_ladder(UNACCEPTED, r.respond_by, r.urgent, self.config, self.calendar)
        key = f"respond:{r.number}:{to_db(r.respond_by)}:"
        return Chase(r.number, r.grid, None, steps, key, ("new",), ("respond_by", r.respond_by))

    def _returned(self, row: Raw) -> Chase:
        q = ReturnRequest.parse(row)
        # Deciding a return request has the 受理 time limit, counted from the request.
        cal = self.calendar
        deadline = cal.add(q.requested_at, self.issues.limit_for(q.category, q.urgent).respond)
        steps = worker_ladder(RETURN_WAITING, deadline, q.urgent, self.config, cal)
        key = f"return:{q.number}:{to_db(q.requested_at)}:"
        return Chase(q.number, q.grid, None, steps, key, ("return_requested",), None)

    async def _send(self, chase: Chase, step: Step) -> list[ScheduleNotice]:
        issue = await self.issues.load(chase.number)
        await self.issues.note_event(issue, step.action, actor_id=None, role=SYSTEM)
        values = {"step": step.name, "action": step.action.value}
        return [
            ScheduleNotice(
                NoticeKind.CHASE,
                person,
                template=step.action.value,
                values=values,
                issue_no=chase.number,
            )
            for person in self._people(chase, step.audience)
        ]

    def _people(self, chase: Chase, audience: tuple[str, ...]) -> list[int]:
        grid = self.config.grid_by_key(chase.grid)
        handler = self.config.handler_by_key(chase.handler or "")
        groups = {
            "handler": (handler.user_id,) if handler else (),
            "workers": grid.workers if grid else (),
            "leaders": grid.leaders if grid else (),
            "secretaries": self.config.secretaries_of_grid(chase.grid),
        }
        people: list[int] = []
        for name in audience:
            people += [p for p in groups[name] if p not in people]
        return people
