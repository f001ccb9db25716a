"""/mydata, /forget and retention (PIPL, issue #4): the raw database files are searched."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.errors import NotPermitted
from bot.issues.model import NoticeKind
from bot.issues.rates import Satisfaction, Solved
from storage.consult.jielong import JielongRepo
from storage.consult.meetings import MeetingRepo, NewMeeting
from storage.issues.drafts import DraftRepo
from storage.registry.repo import SensitiveRecord
from storage.schedule.checkins import CheckinRepo
from storage.transport.inbox import InboxRepo
from storage.votes.repo import ElectorRow, NewVote, VoteRepo
from tests.support import postgres as pg
from tests.support.factories import (
    G1_CHAT,
    PROPERTY_USER,
    RESIDENT,
    SECRETARY,
    WORKER_G1,
    WORKER_G2,
)
from tests.support.registry import RegistryWorld, as_csv, registry_world, sample_rows

NAME, PHONE = "欧阳娜娜", "13987654321"
DRAFT = "隔壁602的王某每晚十一点后拉二胡"
SUGGESTION = "建议在小区东门加装快递柜"
OBJECTION = "反对把绿地改成停车位"
COMMENT = "师傅晚上九点才来修"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[RegistryWorld]:
    async with registry_world(tmp_path) as world:
        await world.registry.import_sheet(as_csv(sample_rows()), "a.csv", None)
        yield world


async def verified_resident(world: RegistryWorld) -> int:
    """RESIDENT consents, claims 1-1-101 (grid g1) and is approved; returns the household id."""
    household = await world.registry.find_room("1-1-101")
    await world.registry.consent(RESIDENT, NAME)
    claim = await world.registry.claim(RESIDENT, household.id, "owner")
    assert claim.reviewers == (WORKER_G1,)
    await world.registry.decide(WORKER_G1, RESIDENT, household.id, approve=True)
    return household.id


async def closed_report(world: RegistryWorld) -> int:
    service = world.issues
    text = f"#报事 1号楼1单元电梯坏了，我是{NAME}，电话{PHONE}"
    reported = await service.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name=NAME, text=text
    )
    number = reported.issue.number
    await service.assign(WORKER_G1, number, "property")
    resolved = await service.handler_resolve(PROPERTY_USER, number, "已修好")
    [slip] = [n.slip_id for n in resolved.notices if n.kind is NoticeKind.FEEDBACK_SLIP]
    assert slip is not None
    await service.answer_slip(
        slip,
        RESIDENT,
        contacted=True,
        solved=Solved.SOLVED,
        satisfaction=Satisfaction.SATISFIED,
        comment=COMMENT,
    )
    return number


async def consultation(world: RegistryWorld) -> None:
    """RESIDENT is the owner named in the household sheet, joins a 接龙, signs in at a meeting,
    sends a suggestion and an objection (issue #13 item 23)."""
    rows = sample_rows()
    rows[0][4:6] = [NAME, PHONE]  # 1-1-101
    await world.registry.import_sheet(as_csv(rows), "b.csv", None)
    now = world.clock.now()
    jielong = await JielongRepo(world.db).create(
        G1_CHAT, "周六义务大扫除", None, None, WORKER_G1, now
    )
    assert await JielongRepo(world.db).add_entry(jielong, RESIDENT, NAME, now)
    meetings = MeetingRepo(world.db)
    new = NewMeeting(
        "加装电梯议事会",
        now,
        now + timedelta(hours=2),
        "社区活动室",
        "grid",
        "g1",
        ("加装电梯",),
        (RESIDENT,),
    )
    meeting = await meetings.create(new, WORKER_G1, now)
    assert await meetings.mark(meeting, RESIDENT, NAME, "signed_in_at", now)
    await meetings.add_suggestion(meeting, RESIDENT, NAME, 1, SUGGESTION, "private", now)
    await meetings.add_objection(meeting, RESIDENT, NAME, OBJECTION, now)
    later = replace(new, title="垃圾分类议事会", starts_at=now + timedelta(days=7))
    await meetings.create(later, WORKER_G1, now)  # invited only: nothing to keep after /forget
    votes = VoteRepo(world.db)
    new_vote = NewVote("owners", "更换电梯", G1_CHAT, "g1", WORKER_G1, None, matter="special")
    vote = await votes.create(new_vote, [ElectorRow(1, 8950, "1-1-101", (RESIDENT,))], now)
    await votes.cast(vote, 1, RESIDENT, "yes", now)


async def raw_bytes(world: RegistryWorld) -> bytes:
    if pg.ACTIVE:
        return await pg.stored_text(world.db)
    path = world.db.path
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def test_mydata_holds_profile_households_reports_slips_and_grants(
    world: RegistryWorld,
) -> None:
    await verified_resident(world)
    number = await closed_report(world)
    await world.registry.grant(SECRETARY, RESIDENT, "楼栋长", "g1")
    data = json.loads((await world.personal.my_data(RESIDENT)).file)
    assert data["profile"][0]["display_name"] == NAME
    assert data["households"][0]["room"] == "101" and data["households"][0]["state"] == "verified"
    assert [r["number"] for r in data["reports"]] == [number]
    assert data["feedback_slips"][0]["satisfaction"] == "satisfied"
    assert data["role_grants"][0]["role"] == "building_head"
    assert {e["action"] for e in data["report_events"]} >= {"report", "resolve"}


async def test_forget_leaves_no_name_or_phone_in_the_database_files(
    world: RegistryWorld,
) -> None:
    household = await verified_resident(world)
    number = await closed_report(world)
    await world.registry.record_sensitive(
        RESIDENT, SensitiveRecord(household, True, f"{NAME} 高血压", "")
    )
    checkins = CheckinRepo(world.db)
    enrolment = await checkins.enrol(
        RESIDENT, None, "g1", "幸福里3号楼2单元301独居", WORKER_G1, world.clock.now()
    )
    await checkins.asked(enrolment, "2026-03-05", world.clock.now())
    await checkins.raise_alert(enrolment, "2026-03-05", world.clock.now())
    await DraftRepo(world.db).put(RESIDENT, 1, {"description": DRAFT}, world.clock.now())
    await consultation(world)
    exported = json.loads((await world.personal.my_data(RESIDENT)).file)
    assert exported["checkin_enrolment"][0]["location"] == "幸福里3号楼2单元301独居"
    assert len(exported["checkin_alerts"]) == 1
    assert DRAFT in exported["report_draft"][0]["draft"]
    await world.db.checkpoint()
    assert NAME.encode() in await raw_bytes(world)

    await world.personal.forget(RESIDENT)
    await world.personal.wait_checkpoints()

    raw = await raw_bytes(world)
    for secret in (
        NAME,
        PHONE,
        "高血压",
        "幸福里3号楼2单元301独居",
        DRAFT,
        SUGGESTION,
        OBJECTION,
        COMMENT,
    ):
        assert secret.encode() not in raw, secret
    # What the records need stays as counts: the household and its area (vote electorates),
    # one attendance at the meeting; the name is gone.
    owned = await world.registry.household(household)
    assert owned is not None and owned.area_centi == 8950 and owned.owner_names == "已注销居民"
    people = await MeetingRepo(world.db).people(1)
    assert [(p.name, p.signed_in_at is not None) for p in people] == [("已注销居民", True)]
    assert await MeetingRepo(world.db).people(2) == []
    # The ballot still counts for its elector (and area); the person is no longer its voter.
    [elector] = await VoteRepo(world.db).electors(1)
    assert (elector.area_centi, elector.user_ids) == (8950, ())
    [ballot] = await VoteRepo(world.db).ballots(1)
    assert (ballot.elector, ballot.choice) == (1, "yes") and ballot.user_id < 0
    issue = await world.issues.get(number, WORKER_G1)
    assert [r.name for r in issue.reporters] == ["已注销居民"]
    assert PHONE not in issue.description and "139****4321" in issue.description
    assert json.loads((await world.personal.my_data(RESIDENT)).file)["reports"] == []
    assert not await world.registry.has_consent(RESIDENT)


async def test_sensitive_data_only_for_the_grid_worker_and_secretary(world: RegistryWorld) -> None:
    household = await verified_resident(world)
    await world.registry.record_sensitive(RESIDENT, SensitiveRecord(household, True, "", "轮椅"))
    seen = await world.registry.read_sensitive(WORKER_G1, household)
    assert seen is not None and seen.living_alone and seen.disability == "轮椅"
    assert await world.registry.read_sensitive(SECRETARY, household) == seen
    for other in (WORKER_G2, PROPERTY_USER, RESIDENT):
        with pytest.raises(NotPermitted):
            await world.registry.read_sensitive(other, household)


async def test_retention_anonymises_contacts_of_long_closed_issues(world: RegistryWorld) -> None:
    number = await closed_report(world)
    world.clock.advance(days=364)
    assert await world.personal.retention_sweep() == 0
    world.clock.advance(timedelta(days=2))
    assert await world.personal.retention_sweep() == 1
    issue = await world.issues.get(number, WORKER_G1)
    assert [r.name for r in issue.reporters] == ["已注销居民"]
    assert PHONE not in issue.description
    # The slip's comment goes from the slip and from the event that recorded it.
    for table, column in (("feedback_slips", "comment"), ("issue_events", "note")):
        rows = await world.db.fetchall(f"SELECT 1 FROM {table} WHERE {column} = ?", (COMMENT,))
        assert rows == [], table
    assert await world.personal.retention_sweep() == 0


async def test_retention_clears_an_abandoned_report_draft(world: RegistryWorld) -> None:
    drafts = DraftRepo(world.db)
    await drafts.put(RESIDENT, 3, {"description": DRAFT}, world.clock.now())
    world.clock.advance(days=6)
    await world.personal.retention_sweep()
    assert await drafts.get(RESIDENT) == (3, {"description": DRAFT})
    world.clock.advance(days=2)
    await world.personal.retention_sweep()
    assert await drafts.get(RESIDENT) == (3, None)  # the message counter stays


async def test_retention_deletes_raw_updates_handled_a_week_ago_but_the_newest(
    world: RegistryWorld,
) -> None:
    inbox = InboxRepo(world.db)
    start = world.clock.now()
    updates = [{"update_id": n, "message": {"text": f"{DRAFT} {n}"}} for n in (1, 2, 3)]
    async with world.db.transaction():
        await inbox.store(updates, start)
        await inbox.mark_done([1, 3], start)  # 2 is still pending (a crash mid-batch)
    world.clock.advance(days=8)
    await world.personal.retention_sweep()

    left = await world.db.fetchall("SELECT update_id, state FROM inbox ORDER BY update_id")
    assert [tuple(row) for row in left] == [(2, "pending"), (3, "done")]
    assert await inbox.last_update_id() == 3  # polling resumes after it
