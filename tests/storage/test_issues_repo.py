"""The issues repository on a real database: numbering, reporters, events, slips, aggregates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

from storage.db import Database
from storage.issues.repo import _OPEN_LITERALS, IssueRepo, NewIssue, ReporterRecord

T0 = datetime(2025, 3, 5, 2, 0, tzinfo=UTC)


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[IssueRepo]:
    db = await Database.open(tmp_path / "issues.sqlite3")
    try:
        yield IssueRepo(db)
    finally:
        await db.close()


def draft(grid: str = "g1", at: datetime = T0) -> NewIssue:
    return NewIssue(
        type="report",
        category="streetlight",
        grid=grid,
        building="3",
        unit="2",
        location=None,
        description="路灯坏了",
        urgent=False,
        private=False,
        anonymous=False,
        source_chat_id=-1001,
        source_message_id=7,
        reported_at=at,
        respond_by=at + timedelta(hours=2),
    )


async def test_repo_numbers_issues_in_sequence_and_round_trips(repo: IssueRepo) -> None:
    first, second = (await repo.create(draft())).id, (await repo.create(draft())).id
    assert [await repo.number_of(first), await repo.number_of(second)] == [1, 2]
    record = await repo.by_number(2)
    assert record is not None
    assert (record.id, record.state, record.reported_at, record.resolve_by) == (
        second,
        "new",
        T0,
        None,
    )
    assert await repo.by_number(3) is None


async def test_repo_reporters_are_unique_per_issue(repo: IssueRepo) -> None:
    issue = (await repo.create(draft())).id
    reporter = ReporterRecord(501, "李四", -1001, 7, None)
    assert await repo.add_reporter(issue, reporter, T0)
    assert not await repo.add_reporter(issue, reporter, T0)
    await repo.add_photos(issue, ["a", "b"], "report", T0)
    record = await repo.by_id(issue)
    assert record is not None
    assert [r.user_id for r in record.reporters] == [501]
    assert [p.file_id for p in record.photos] == ["a", "b"]
    assert [r.number for r in await repo.by_reporter(501)] == [1]


async def test_repo_update_refuses_unknown_columns(repo: IssueRepo) -> None:
    issue = (await repo.create(draft())).id
    with pytest.raises(ValueError, match="number"):
        await repo.update(issue, {"number": 9}, T0)
    await repo.update(issue, {"state": "assigned", "resolve_by": T0 + timedelta(days=7)}, T0)
    record = await repo.by_id(issue)
    assert record is not None and record.resolve_by == T0 + timedelta(days=7)


async def test_repo_queue_filters_overdue_and_grid(repo: IssueRepo) -> None:
    late = (await repo.create(draft())).id
    await repo.create(draft(grid="g2"))
    on_time = (await repo.create(draft(at=T0 + timedelta(hours=5)))).id
    await repo.update(on_time, {"state": "assigned", "resolve_by": T0 + timedelta(days=7)}, T0)
    overdue = await repo.queue(["g1"], unassigned=False, overdue_at=T0 + timedelta(hours=3))
    assert [r.id for r in overdue] == [late]
    unassigned = await repo.queue(["g1"], unassigned=True, overdue_at=None)
    assert [r.id for r in unassigned] == [late]
    assert len(await repo.queue(["g1", "g2"], unassigned=False, overdue_at=None)) == 3
    assert await repo.queue([], unassigned=False, overdue_at=None) == []


async def test_repo_events_in_order(repo: IssueRepo) -> None:
    issue = (await repo.create(draft())).id
    for action, to_state in (("report", "new"), ("accept", "accepted")):
        await repo.add_event(
            issue,
            actor_id=101,
            actor_role="worker",
            at=T0,
            from_state=None,
            to_state=to_state,
            action=action,
        )
    assert [e.action for e in await repo.events(issue)] == ["report", "accept"]


async def test_repo_slips_aggregate_counts(repo: IssueRepo) -> None:
    issue = (await repo.create(draft())).id
    ids = [
        await repo.slips.create(
            issue, 1, user, grid="g1", handler="property", category="streetlight", now=T0
        )
        for user in (501, 502, 503, 504)
    ]
    assert await repo.slips.answer(
        ids[0], contacted=True, solved="solved", satisfaction="satisfied", comment=None, now=T0
    )
    assert await repo.slips.answer(
        ids[1], contacted=False, solved="partly", satisfaction="basic", comment="一般", now=T0
    )
    assert not await repo.slips.answer(
        ids[1], contacted=True, solved="solved", satisfaction="satisfied", comment=None, now=T0
    )
    assert await repo.slips.mark_expired(ids[2], T0)
    assert not await repo.slips.mark_expired(ids[2], T0)
    assert await repo.slips.open_count(issue) == 1
    end = T0 + timedelta(days=1)
    counts = await repo.slips.rate_counts("handler", "property", T0, end)
    assert counts == {
        "valid": 2,
        "missing": 1,
        "contacted": 1,
        "solved": 1,
        "partly": 1,
        "satisfied": 1,
        "basic": 1,
        "unsatisfied": 0,
    }
    assert (await repo.slips.rate_counts("grid", "g2", T0, end))["valid"] == 0
    assert (await repo.slips.rate_counts(None, None, end, end + end.resolution))["valid"] == 0
    with pytest.raises(ValueError):
        await repo.slips.rate_counts("grid; DROP TABLE issues", "x", T0, end)


async def test_duplicate_candidates_use_the_open_issues_index(repo: IssueRepo) -> None:
    """The literal state list must keep matching migration 0009's partial index."""
    for _ in range(3):
        await repo.create(draft())
    closed = (await repo.create(draft())).id
    await repo.update(closed, {"state": "closed"}, T0)
    rows = await repo.duplicate_candidates("g1", T0 - timedelta(days=1))
    assert [number for number, *_ in rows] == [3, 2, 1]
    plan = await repo.db.fetchall(
        "EXPLAIN QUERY PLAN SELECT number FROM issues WHERE grid = 'g1'"
        f" AND state IN ({_OPEN_LITERALS}) ORDER BY number DESC LIMIT 100"
    )
    assert any("issues_open_by_grid" in str(row[3]) for row in plan)


async def test_the_chasers_read_never_touches_the_issues_table(repo: IssueRepo) -> None:
    """Migration 0024: every column the chaser reads each tick is in issues_chase."""
    plan = await repo.db.fetchall(
        "EXPLAIN QUERY PLAN SELECT number, grid, handler, assigned_at, resolve_by FROM issues"
        " WHERE state IN (?, ?) AND resolve_by IS NOT NULL AND assigned_at IS NOT NULL"
        " ORDER BY number",
        ("assigned", "in_progress"),
    )
    assert any("COVERING INDEX issues_chase" in str(row[3]) for row in plan), plan


async def test_migration_gives_existing_reporters_the_report_they_filed(
    tmp_path: Path,
) -> None:
    """Reporters merged in before migration *_reporter_own_report take the type and anonymity
    of their own issue (via_issue), the others those of the issue they are on (issue #13
    item 11)."""
    folder = tmp_path / "before"
    folder.mkdir()
    migrations = [
        e for e in (resources.files("storage") / "migrations").iterdir() if e.name.endswith(".sql")
    ]
    ours = next(int(e.name[:4]) for e in migrations if "reporter_own_report" in e.name)
    for entry in migrations:
        if int(entry.name[:4]) < ours:
            (folder / entry.name).write_text(entry.read_text(encoding="utf-8"), "utf-8")
    path, stamp = tmp_path / "issues.sqlite3", "2025-03-05T02:00:00Z"
    db = await Database.open(path, migrations=folder)
    async with db.writing() as tx:
        for number, kind, anonymous in ((1, "report", 0), (2, "complaint", 1)):
            await tx.execute(
                "INSERT INTO issues (id, number, type, category, grid, description, anonymous,"
                " source_chat_id, reported_at, respond_by, updated_at)"
                " VALUES (?, ?, ?, 'streetlight', 'g1', '路灯坏了', ?, -1001, ?, ?, ?)",
                (number, number, kind, anonymous, stamp, stamp, stamp),
            )
        for issue_id, user_id, via in ((1, 501, None), (2, 502, None), (1, 502, 2)):
            await tx.execute(
                "INSERT INTO issue_reporters (issue_id, user_id, display_name, chat_id,"
                " via_issue, added_at) VALUES (?, ?, '李四', -1001, ?, ?)",
                (issue_id, user_id, via, stamp),
            )
    await db.close()
    db = await Database.open(path)
    try:
        record = await IssueRepo(db).by_number(1)
    finally:
        await db.close()
    assert record is not None
    assert [(r.user_id, r.report_type, r.anonymous) for r in record.reporters] == [
        (501, "report", False),
        (502, "complaint", True),
    ]
