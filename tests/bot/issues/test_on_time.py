"""按期办结率 (issue #18 item 4): each 办结 judged by the deadline in force when it happened,
counted in SQL from the issue timeline, on a real database and a fake clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from importlib import resources
from pathlib import Path

import pytest

from bot.issues.rates import OnTime, Satisfaction, Solved, on_time
from storage.db import Database
from storage.issues import rollups
from storage.issues.stats import IssueStats
from tests.bot.schedule.schedule_support import ScheduleWorld, schedule_world
from tests.support.factories import G1_CHAT, PROPERTY_USER, RESIDENT, SHANGHAI, WORKER_G1


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


MONTH = (at(1, 0), at(31, 0))


async def reported(world: ScheduleWorld, when: datetime, due: datetime) -> int:
    world.issues.clock.set(when)
    service = world.issues.service
    outcome = await service.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="王阿姨", text="#报事 2号楼路灯不亮"
    )
    number = outcome.issue.number
    await service.assign(WORKER_G1, number, "property", resolve_by=due)
    return number


async def resolve(world: ScheduleWorld, number: int, when: datetime) -> int | None:
    world.issues.clock.set(when)
    outcome = await world.issues.service.handler_resolve(PROPERTY_USER, number, "已处理")
    return next((n.slip_id for n in outcome.notices if n.slip_id is not None), None)


async def counts(world: ScheduleWorld, scope: str | None = None) -> dict[str | None, OnTime]:
    rows = await IssueStats(world.issues.db).on_time(*MONTH, scope)
    return {key: OnTime(*value) for key, value in rows.items()}


async def test_on_time_at_the_deadline_and_late_after_it(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        punctual = await reported(world, at(2, 9), at(5, 18))
        await resolve(world, punctual, at(5, 18))  # exactly at the deadline: on time
        late = await reported(world, at(2, 9), at(5, 18))
        await resolve(world, late, at(5, 18, 1))
        result = await counts(world)
        by_handler = await counts(world, "handler")

    assert result == {None: OnTime(resolved=2, on_time=1)}
    assert result[None].rate == Fraction(1, 2) and result[None].percent() == "50.0%"
    assert by_handler == {"property": OnTime(2, 1)}


async def test_a_changed_deadline_counts_as_the_new_one(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        number = await reported(world, at(2, 9), at(5, 18))
        world.issues.clock.set(at(4, 9))
        await world.issues.service.change_deadline(WORKER_G1, number, "2026-03-10")
        await resolve(world, number, at(8, 9))  # late by the first deadline, on time by 改时限
        moved_later = await counts(world)
        other = await reported(world, at(2, 9), at(20, 18))
        world.issues.clock.set(at(3, 9))
        await world.issues.service.change_deadline(WORKER_G1, other, "2026-03-06")
        await resolve(world, other, at(9, 9))  # on time by the first, late by the moved one
        both = await counts(world)

    assert moved_later == {None: OnTime(1, 1)}
    assert both == {None: OnTime(2, 1)}


async def test_a_reopened_issue_is_judged_again_by_its_fresh_deadline(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        number = await reported(world, at(2, 9), at(5, 18))
        slip = await resolve(world, number, at(6, 9))  # round 1: late by its deadline
        assert slip is not None
        world.issues.clock.set(at(6, 10))
        await world.issues.service.answer_slip(
            slip,
            RESIDENT,
            contacted=True,
            solved=Solved.NOT_SOLVED,
            satisfaction=Satisfaction.UNSATISFIED,
        )  # 重办: a fresh deadline from now (the category's limit)
        issue = await world.issues.service.core.load(number)
        fresh = issue.resolve_by
        assert fresh is not None and fresh > at(6, 10)
        await resolve(world, number, fresh - timedelta(minutes=1))  # round 2: on time
        result = await counts(world)
        stats = IssueStats(world.issues.db)
        first_round = await stats.on_time(at(1, 0), at(6, 10))
        second_round = await stats.on_time(at(6, 10), fresh)

    # Two 办结, each judged by the deadline in force when it happened: the first stays late
    # although the issue's deadline is now later than it (the fresh one would call it on time).
    assert result == {None: OnTime(2, 1)}
    assert first_round == {None: (1, 0)} and second_round == {None: (1, 1)}


async def test_without_resolutions_the_rate_is_a_dash(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        await reported(world, at(2, 9), at(5, 18))  # assigned, never resolved
        result = await counts(world)
    assert result == {}
    assert OnTime().rate is None and OnTime().percent() == "—"


def test_reference_count_skips_resolutions_without_a_deadline() -> None:
    due = at(5, 18)
    assert on_time([(at(5, 18), due), (at(6, 9), due), (at(1, 9), None)]) == OnTime(2, 1)
    with pytest.raises(ValueError):
        OnTime(resolved=1, on_time=2)


async def test_unknown_scope_is_refused(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        with pytest.raises(ValueError):
            await IssueStats(world.issues.db).on_time(*MONTH, "reporter")


async def test_migration_backfills_the_latest_resolution_unless_reopened(tmp_path: Path) -> None:
    """Resolutions written before migration *_on_time_deadline: the latest one of an issue takes
    the issue's deadline; one followed by a 重办 stays without (its deadline is lost)."""
    folder = tmp_path / "before"
    folder.mkdir()
    migrations = [
        e for e in (resources.files("storage") / "migrations").iterdir() if e.name.endswith(".sql")
    ]
    ours = next(int(e.name[:4]) for e in migrations if "on_time_deadline" in e.name)
    for entry in migrations:
        if int(entry.name[:4]) < ours:
            (folder / entry.name).write_text(entry.read_text(encoding="utf-8"), "utf-8")
    path, stamp, due = tmp_path / "issues.sqlite3", "2026-03-02T01:00:00Z", "2026-03-05T10:00:00Z"
    db = await Database.open(path, migrations=folder)
    async with db.writing() as tx:
        await tx.execute(
            "INSERT INTO issues (id, number, type, category, grid, description, source_chat_id,"
            " reported_at, respond_by, resolve_by, updated_at)"
            " VALUES (1, 1, 'report', 'streetlight', 'g1', '路灯坏了', -1001, ?, ?, ?, ?)",
            (stamp, stamp, due, stamp),
        )
        for at_, action in (
            ("2026-03-03T01:00:00Z", "resolve"),
            ("2026-03-03T02:00:00Z", "reopen"),
            ("2026-03-04T01:00:00Z", "resolve"),
        ):
            await tx.execute(
                "INSERT INTO issue_events (issue_id, actor_role, at, from_state, to_state, action)"
                " VALUES (1, 'handler', ?, 'in_progress', 'resolved', ?)",
                (at_, action),
            )
    await db.close()
    db = await Database.open(path)
    try:
        rows = await db.fetchall(
            "SELECT at, resolve_by FROM issue_events WHERE action = 'resolve' ORDER BY id"
        )
    finally:
        await db.close()
    assert [tuple(row) for row in rows] == [
        ("2026-03-03T01:00:00Z", None),
        ("2026-03-04T01:00:00Z", due),
    ]


async def test_a_resolution_without_a_handler_counts_for_the_community_only(
    tmp_path: Path,
) -> None:
    async with schedule_world(tmp_path) as world:
        number = await reported(world, at(2, 9), at(5, 18))
        await resolve(world, number, at(3, 9))
        async with world.issues.db.transaction() as tx:  # as if a worker had resolved it
            await tx.execute("UPDATE issues SET handler = NULL WHERE number = ?", (number,))
        await rollups.rebuild(world.issues.db)  # edited by hand, so rebuilt as an operator would
        community, by_handler = await counts(world), await counts(world, "handler")
    assert community == {None: OnTime(1, 1)} and by_handler == {}
