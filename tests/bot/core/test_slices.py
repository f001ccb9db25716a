"""A sweep's writes in short transactions cut by their time (bot.core.slices): on a real
SQLite file, with the slice's clock replaced so no test depends on how fast the machine is."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.core import slices
from bot.core.slices import write_in_slices
from storage.db import Database


class FakeTime:
    """``perf_counter`` for bot.core.slices: moves only when the work says it took time."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(slices, "time", fake)
    return fake


async def open_db(tmp_path: Path) -> Database:
    db = await Database.open(tmp_path / "g.sqlite3")
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE done (item INTEGER, tx INTEGER)")
        await tx.execute("CREATE TABLE sent (item INTEGER)")
    return db


async def test_a_slice_ends_once_its_work_took_the_slice_time(
    tmp_path: Path, fake_time: FakeTime
) -> None:
    db = await open_db(tmp_path)
    commits: list[int] = []
    try:

        async def work(part: Sequence[int]) -> list[int]:
            async with db.writing() as tx:
                for item in part:
                    await tx.execute("INSERT INTO done VALUES (?, ?)", (item, db.commits))
            fake_time.now += 0.4 * slices.SLICE_SECONDS  # three items fill a slice
            return list(part)

        async def deliver(part: list[int]) -> None:
            commits.append(len(part))

        done = await write_in_slices(db.transaction, range(8), work, deliver, most=10)
        rows = await db.fetchall("SELECT item, tx FROM done ORDER BY item")
    finally:
        await db.close()

    assert done == list(range(8))
    assert commits == [3, 3, 2]
    # each slice its own transaction: the items of one saw the same count of commits
    by_commit: dict[int, list[int]] = {}
    for item, seen in rows:
        by_commit.setdefault(seen, []).append(item)
    assert list(by_commit.values()) == [[0, 1, 2], [3, 4, 5], [6, 7]]


async def test_quick_work_is_still_cut_at_most_items(tmp_path: Path, fake_time: FakeTime) -> None:
    db = await open_db(tmp_path)
    sizes: list[int] = []
    try:

        async def work(part: Sequence[int]) -> list[int]:
            return list(part)  # takes no time at all

        async def deliver(part: list[int]) -> None:
            sizes.append(len(part))

        await write_in_slices(db.transaction, range(25), work, deliver, most=10)
    finally:
        await db.close()

    assert sizes == [10, 10, 5]


async def test_a_slice_that_fails_keeps_the_slices_before_it_and_none_of_its_own(
    tmp_path: Path, fake_time: FakeTime
) -> None:
    """What a slice records and what it delivers commit together: a failure in the second
    slice leaves the first one's rows and deliveries, and nothing of the second."""
    db = await open_db(tmp_path)
    try:

        async def work(part: Sequence[int]) -> list[int]:
            if part[0] == 3:
                raise RuntimeError("boom")
            async with db.writing() as tx:
                await tx.execute("INSERT INTO done VALUES (?, 0)", (part[0],))
            fake_time.now += 0.6 * slices.SLICE_SECONDS  # two items fill a slice
            return list(part)

        async def deliver(part: list[int]) -> None:
            async with db.writing() as tx:
                await tx.executemany("INSERT INTO sent VALUES (?)", [(i,) for i in part])

        with pytest.raises(RuntimeError):
            await write_in_slices(db.transaction, range(6), work, deliver, most=10)
        done = [r[0] for r in await db.fetchall("SELECT item FROM done ORDER BY item")]
        sent = [r[0] for r in await db.fetchall("SELECT item FROM sent ORDER BY item")]
    finally:
        await db.close()

    assert done == [0, 1]
    assert sent == [0, 1]
