"""Duplicate detection's candidates are followed in memory (storage/issues/open_cache.py): after
every kind of change the answer must equal the database's, read afresh with the same query."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from storage.clock import to_db
from storage.db import Database
from storage.issues.open_cache import open_issues
from storage.issues.repo import _OPEN_LITERALS, IssueRepo
from storage.privacy.personal_data import PersonalDataRepo, ReportedText
from tests.storage.test_issues_repo import T0, draft

WINDOW = T0 - timedelta(days=14)


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[IssueRepo]:
    db = await Database.open(tmp_path / "issues.sqlite3")
    try:
        yield IssueRepo(db)
    finally:
        await db.close()


async def fresh(repo: IssueRepo, grid: str, since: Any = WINDOW, limit: int = 100) -> list[Any]:
    rows = await repo.db.fetchall(
        "SELECT number, category, building, description FROM issues"
        f" WHERE grid = ? AND state IN ({_OPEN_LITERALS}) AND reported_at >= ?"
        " ORDER BY number DESC LIMIT ?",
        (grid, to_db(since), limit),
    )
    return [tuple(row) for row in rows]


async def candidates(
    repo: IssueRepo, grid: str = "g1", since: Any = WINDOW, limit: int = 100
) -> list[Any]:
    """As a report reads them: inside its transaction, so the read is kept."""
    async with repo.db.transaction():
        found = await repo.duplicate_candidates(grid, since, limit)
    assert found == await fresh(repo, grid, since, limit)
    return found


def held(repo: IssueRepo, grid: str = "g1") -> bool:
    return grid in open_issues(repo.db).grids


async def test_a_new_issue_joins_its_grids_list_without_a_read(repo: IssueRepo) -> None:
    for grid in ("g1", "g1", "g2"):
        await repo.create(draft(grid))
    assert [n for n, *_ in await candidates(repo)] == [2, 1]
    await repo.create(draft("g1"))
    assert held(repo)  # followed, not dropped
    assert [n for n, *_ in await candidates(repo)] == [4, 2, 1]
    assert [n for n, *_ in await candidates(repo, "g2")] == [3]


@pytest.mark.parametrize(
    "changes",
    [
        {"state": "closed"},
        {"state": "merged", "merged_into": 1},
        {"state": "rejected"},
        {"grid": "g2"},  # 转办
        {"category": "lift"},  # 改类别
        {"description": "路灯又亮了又灭"},  # a voice report's gist typed in
        {"building": "5"},
    ],
)
async def test_a_change_that_matters_drops_the_lists(
    repo: IssueRepo, changes: dict[str, Any]
) -> None:
    for _ in range(3):
        await repo.create(draft())
    await candidates(repo, "g1")
    await candidates(repo, "g2")
    record = await repo.by_number(2)
    assert record is not None
    await repo.update(record.id, changes, T0)
    assert not held(repo) and not held(repo, "g2")
    await candidates(repo, "g1")  # equal to the database's (asserted inside)
    await candidates(repo, "g2")


async def test_a_change_that_does_not_matter_keeps_them(repo: IssueRepo) -> None:
    record = await repo.create(draft())
    await candidates(repo)
    await repo.update(record.id, {"handler": "wuye", "resolve_by": T0}, T0)
    assert held(repo)
    await candidates(repo)


async def test_rolled_back_changes_are_not_remembered(repo: IssueRepo) -> None:
    """A report whose update fails (its savepoint rolls back) leaves no issue behind, nor in
    memory; nor does a close rolled back with its whole transaction."""
    await repo.create(draft())
    await candidates(repo)
    async with repo.db.transaction():
        with pytest.raises(RuntimeError):
            async with repo.db.transaction():  # the update's savepoint
                await repo.create(draft())
                assert [n for n, *_ in await repo.duplicate_candidates("g1", WINDOW)] == [2, 1]
                raise RuntimeError("the handler failed")
        assert [n for n, *_ in await repo.duplicate_candidates("g1", WINDOW)] == [1]
    assert [n for n, *_ in await candidates(repo)] == [1]
    with pytest.raises(RuntimeError):
        async with repo.db.transaction():
            await repo.update(1, {"state": "closed"}, T0)
            assert await repo.duplicate_candidates("g1", WINDOW) == []
            raise RuntimeError("rolled back")
    assert [n for n, *_ in await candidates(repo)] == [1]


async def test_forget_drops_the_lists(repo: IssueRepo) -> None:
    """/forget rewrites the reports' text: the hint must not compare the erased words."""
    record = await repo.create(draft())
    await candidates(repo)
    personal = PersonalDataRepo(repo.db)
    await personal.forget(42, "已注销", [ReportedText(record.id, "***", None, None)], [])
    assert not held(repo)
    assert [d for *_, d in await candidates(repo)] == ["***"]


async def test_issues_leave_the_window_as_time_passes(repo: IssueRepo) -> None:
    """Kept for one window and asked for a later one: the old ones fall out; when the list was
    cut at its limit, it is read again (older issues may be in the window still)."""
    for day in range(6):
        await repo.create(draft(at=T0 + timedelta(days=day)))
    assert len(await candidates(repo, since=T0)) == 6
    assert [n for n, *_ in await candidates(repo, since=T0 + timedelta(days=3))] == [6, 5, 4]
    assert held(repo)
    open_issues(repo.db).forget()
    assert [n for n, *_ in await candidates(repo, since=T0, limit=4)] == [6, 5, 4, 3]
    assert [n for n, *_ in await candidates(repo, since=T0 + timedelta(days=1), limit=4)] == [
        6,
        5,
        4,
        3,
    ]
    assert len(await candidates(repo, since=T0 - timedelta(days=1))) == 6  # an earlier window
    await repo.create(draft(at=T0 + timedelta(days=7)))
    assert [n for n, *_ in await candidates(repo, since=T0, limit=3)] == [7, 6, 5]


async def test_a_read_outside_a_transaction_is_not_kept(repo: IssueRepo) -> None:
    """The reader's connection may see a snapshot older than the writer's latest commit."""
    await repo.create(draft())
    assert [n for n, *_ in await repo.duplicate_candidates("g1", WINDOW)] == [1]
    assert not held(repo)
