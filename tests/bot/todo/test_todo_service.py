"""/todo (issue #18 items 5-6) on a real database with the registry imported, on a fake clock:
each list holds what is waiting and loses an item as soon as it is answered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from bot.app import build_features
from bot.context import Features
from bot.core.rendering import Renderer
from bot.issues.rates import Satisfaction, Solved
from storage.db import Database
from tests.support import factories as f
from tests.support.registry import as_csv, sample_rows

OWNER = 601  # verified owner of 1-2-301 (grid g1)
FAR = 602  # verified owner of 2-1-101 (grid g2)
SPOUSE = 603  # verified, when a test says so, for OWNER's household
FORM = "电梯协商会 | 3月10日19:00 | 活动室 | 1. 方案 2. 费用 | 1-2"


@asynccontextmanager
async def todo_world(tmp_path: Path) -> AsyncIterator[tuple[Features, f.FakeClock]]:
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    clock = f.FakeClock()
    try:
        features = await build_features(db, clock, f.make_config(), Renderer())
        await features.registry.import_sheet(as_csv(sample_rows()), "households.csv", None)
        for user, room in ((OWNER, "1-2-301"), (FAR, "2-1-101")):
            await verify(features, user, room)
        yield features, clock
    finally:
        await db.close()


async def verify(features: Features, user: int, room: str) -> None:
    registry = features.registry
    await registry.consent(user, f"住户{user}")
    household = await registry.find_room(room)
    await registry.claim(user, household.id, "owner")
    await registry.decide(f.SECRETARY, user, household.id, approve=True)


async def report(features: Features, text: str = "#报事 1号楼2单元路灯坏了") -> int:
    outcome = await features.issues.report(
        chat_id=f.G1_CHAT, user_id=OWNER, display_name="王阿姨", text=text
    )
    return outcome.issue.number


async def resolved(features: Features) -> int:
    number = await report(features)
    issues = features.issues
    await issues.accept(f.WORKER_G1, number)
    await issues.assign(f.WORKER_G1, number, "property")
    await issues.handler_resolve(f.PROPERTY_USER, number, "已更换灯泡")
    return number


async def test_a_resident_with_nothing_waiting_has_an_empty_list(tmp_path: Path) -> None:
    async with todo_world(tmp_path) as (features, _):
        todo = await features.todo.of(f.STRANGER)
    assert todo.empty and todo.worker is None


async def test_a_slip_is_listed_until_it_is_answered(tmp_path: Path) -> None:
    async with todo_world(tmp_path) as (features, _):
        number = await resolved(features)
        [(slip_id, issue)] = (await features.todo.resident(OWNER)).slips
        assert issue.number == number
        await features.issues.answer_slip(
            slip_id,
            OWNER,
            contacted=True,
            solved=Solved.SOLVED,
            satisfaction=Satisfaction.SATISFIED,
        )
        assert (await features.todo.resident(OWNER)).slips == ()


async def test_an_owners_vote_is_listed_until_the_household_casts_its_ballot(
    tmp_path: Path,
) -> None:
    async with todo_world(tmp_path) as (features, _):
        vote = await features.votes.create_owners(
            f.WORKER_G1, f.G1_CHAT, "g1", ["unit:1-2", "ordinary", "更换门禁"]
        )
        [waiting] = (await features.todo.resident(OWNER)).votes
        assert waiting.vote.id == vote.vote.id
        assert (await features.todo.resident(FAR)).votes == ()  # not in the electorate
        await features.votes.cast(OWNER, vote.vote.id, "yes")
        assert (await features.todo.resident(OWNER)).votes == ()


async def test_a_notice_of_my_grid_is_listed_until_i_tap_received(tmp_path: Path) -> None:
    async with todo_world(tmp_path) as (features, _):
        notice = await features.notices.post(f.WORKER_G1, f.G1_CHAT, "g1", "周六停水")
        assert [n.id for n in (await features.todo.resident(OWNER)).notices] == [notice.id]
        assert (await features.todo.resident(FAR)).notices == ()  # another grid's notice
        await features.notices.acknowledge(OWNER, notice.id)
        assert (await features.todo.resident(OWNER)).notices == ()


async def test_a_notice_my_household_acknowledged_is_not_asked_of_me(tmp_path: Path) -> None:
    async with todo_world(tmp_path) as (features, _):
        await verify(features, SPOUSE, "1-2-301")
        older = await features.notices.post(f.WORKER_G1, f.G1_CHAT, "g1", "周六停水")
        newer = await features.notices.post(f.WORKER_G1, f.G1_CHAT, "g1", "周日停电")
        listed = (await features.todo.resident(OWNER)).notices
        assert [n.id for n in listed] == [newer.id, older.id]  # newest first
        await features.notices.acknowledge(SPOUSE, older.id)
        assert [n.id for n in (await features.todo.resident(OWNER)).notices] == [newer.id]


async def test_an_open_jielong_of_my_grid_is_listed_until_i_join(tmp_path: Path) -> None:
    async with todo_world(tmp_path) as (features, _):
        view = await features.jielong.start(f.G1_CHAT, f.NEIGHBOUR, "周六义务植树")
        assert [j.id for j in (await features.todo.resident(OWNER)).jielongs] == [view.id]
        assert (await features.todo.resident(FAR)).jielongs == ()
        await features.jielong.join(view.id, OWNER, "住户")
        assert (await features.todo.resident(OWNER)).jielongs == ()


async def test_a_jielong_past_its_deadline_or_full_is_not_offered(tmp_path: Path) -> None:
    async with todo_world(tmp_path) as (features, clock):
        buying = await features.jielong.start(f.G1_CHAT, f.NEIGHBOUR, "团购 截止3月6日18:00")
        full = await features.jielong.start(f.G1_CHAT, f.NEIGHBOUR, "义诊 限1人")
        await features.jielong.join(full.id, f.NEIGHBOUR, "孙大爷")
        assert [j.id for j in (await features.todo.resident(OWNER)).jielongs] == [buying.id]
        clock.advance(days=2)
        assert (await features.todo.resident(OWNER)).jielongs == ()


async def test_a_meeting_i_signed_up_for_is_listed_until_it_ends(tmp_path: Path) -> None:
    async with todo_world(tmp_path) as (features, clock):
        created = await features.meetings.create(f.WORKER_G1, FORM)
        assert (await features.todo.resident(OWNER)).meetings == ()  # not signed up
        await features.meetings.sign_up(created.view.id, OWNER, "住户")
        [meeting] = (await features.todo.resident(OWNER)).meetings
        assert meeting.id == created.view.id
        clock.set(created.view.record.ends_at + timedelta(minutes=1))
        assert (await features.todo.resident(OWNER)).meetings == ()


async def test_a_meeting_i_signed_in_to_is_no_longer_listed(tmp_path: Path) -> None:
    async with todo_world(tmp_path) as (features, clock):
        created = await features.meetings.create(f.WORKER_G1, FORM)
        await features.meetings.sign_up(created.view.id, OWNER, "住户")
        clock.set(created.view.record.starts_at)
        assert len((await features.todo.resident(OWNER)).meetings) == 1  # under way
        await features.meetings.sign_in(created.view.id, OWNER, "住户")
        assert (await features.todo.resident(OWNER)).meetings == ()


async def test_a_worker_sees_new_then_returns_then_overdue_once_each(tmp_path: Path) -> None:
    async with todo_world(tmp_path) as (features, clock):
        issues = features.issues
        fresh = await report(features, "#报事 1号楼门口垃圾没人清")
        returned = await report(features, "#报事 2号楼电梯停了")
        late = await report(features, "#报事 3号楼楼道灯坏了")
        for number in (returned, late):
            await issues.accept(f.WORKER_G1, number)
            await issues.assign(f.WORKER_G1, number, "property")
        await issues.handler_request_return(f.PROPERTY_USER, returned, "归市政管")
        clock.advance(days=30)  # everything is overdue now
        todo = await features.todo.worker(f.WORKER_G1)
        assert todo is not None
        assert [i.number for i in todo.new] == [fresh]
        assert [i.number for i in todo.returns] == [returned]
        assert [i.number for i in todo.overdue] == [late]
        await issues.accept(f.WORKER_G1, fresh)
        after = await features.todo.worker(f.WORKER_G1)
        assert after is not None and after.new == ()
        # Accepted now, its resolve-by counts from now: no longer waiting on the worker.
        assert [i.number for i in after.overdue] == [late]
        assert await features.todo.worker(OWNER) is None  # a resident has no staff list


async def test_a_grid_worker_sees_claims_of_their_grid_and_the_secretary_all(
    tmp_path: Path,
) -> None:
    async with todo_world(tmp_path) as (features, _):
        registry = features.registry
        for user, room in ((701, "1-1-101"), (702, "2-1-102")):
            await registry.consent(user, f"住户{user}")
            await registry.claim(user, (await registry.find_room(room)).id, "tenant")
        mine = await features.todo.worker(f.WORKER_G1)
        every = await features.todo.worker(f.SECRETARY)
        assert mine is not None and [c.user_id for c in mine.claims] == [701]
        assert every is not None and [c.user_id for c in every.claims] == [701, 702]
        household = await registry.find_room("1-1-101")
        await registry.decide(f.WORKER_G1, 701, household.id, approve=True)
        after = await features.todo.worker(f.WORKER_G1)
        assert after is not None and after.claims == ()


async def test_an_open_checkin_alert_is_listed_until_its_outcome_is_recorded(
    tmp_path: Path,
) -> None:
    async with todo_world(tmp_path) as (features, _):
        checkin = features.checkin
        notice = await checkin.enrol(f.WORKER_G1, OWNER, None, "1号楼2单元301")
        assert notice.enrolment_id is not None
        await checkin.consent(notice.enrolment_id, OWNER)
        day = checkin.today()
        await checkin.ask_all(day)
        await checkin.alert_unconfirmed(day)
        todo = await features.todo.worker(f.WORKER_G1)
        assert todo is not None
        [(alert, enrolment)] = todo.alerts
        assert enrolment.user_id == OWNER
        other = await features.todo.worker(f.WORKER_G2)
        assert other is not None and other.alerts == ()  # not their grid
        await checkin.record_outcome(alert.id, f.WORKER_G1, "safe")
        after = await features.todo.worker(f.WORKER_G1)
        assert after is not None and after.alerts == ()
