"""The digest and the street office's roll-up read the rollups and say exactly what the naive
queries say, for each community of a shared database (issue #15 item 2)."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from bot.issues.rates import OnTime, RateCounts, rates_from_counts
from bot.issues.service import IssueService
from bot.schedule.digest import DigestService, roll_up_order
from storage.db import Database
from storage.issues.repo import IssueRepo
from storage.issues.stats import IssueStats, NaiveIssueStats
from storage.schedule.checkins import CheckinRepo
from tests.storage.test_rollups import History
from tests.support.factories import calendar_for


def digest_service(history: History, *, naive: bool) -> DigestService:
    repo = IssueRepo(history.db)
    stats = NaiveIssueStats(history.db) if naive else IssueStats(history.db)
    repo.slips.stats = stats
    issues = IssueService(repo, history.clock, history.config, calendar_for(history.config))
    return DigestService(issues.feedback, stats, CheckinRepo(history.db))


@pytest.mark.parametrize("weekly", [False, True], ids=["daily", "weekly"])
async def test_each_communitys_digest_equals_the_naive_one(tmp_path: Path, weekly: bool) -> None:
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    try:
        history = History(random.Random(2), db, "Asia/Shanghai")  # resolutions in the last 30 days
        await history.run(300)
        now = history.clock.now()
        today = now.date() + timedelta(days=1)  # the morning after the history
        at = datetime.combine(today, time(8), now.tzinfo)
        rollup, naive = digest_service(history, naive=False), digest_service(history, naive=True)
        digests = {}
        for community in ("north", "south", "east", None):
            got = await rollup.build(at, today, weekly=weekly, community=community)
            assert got == await naive.build(at, today, weekly=weekly, community=community)
            digests[community] = got
    finally:
        await db.close()
    # the communities' figures add up to the whole database's, and each has something in it
    assert sum(digests[c].open_now for c in ("north", "south", "east")) == digests[None].open_now
    assert all(sum(new for _, new, _ in digests[c].trend) for c in ("north", "south", "east"))
    assert digests[None].counts["resolved"] + sum(n for _, _, n in digests[None].trend) > 0
    assert sum(digests[c].rates_30.valid + digests[c].rates_30.missing for c in digests) > 0


async def test_roll_up_lists_every_community_worst_first(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    try:
        history = History(random.Random(5), db, "Asia/Shanghai")
        await history.run(300)
        now = history.clock.now()
        today = now.date() + timedelta(days=1)
        at = datetime.combine(today, time(8), now.tzinfo)
        lines = (await digest_service(history, naive=False).roll_up(at, today)).lines
        naive = NaiveIssueStats(db).naive
        start = datetime.combine(today - timedelta(days=30), time(), now.tzinfo)
        end = datetime.combine(today, time(), now.tzinfo)
        for line in lines:
            c = line.community
            slips = (await naive.rate_counts_by(None, start, end, community=c)).get(None)
            timed = (await naive.on_time(start, end, community=c)).get(None, (0, 0))
            assert (line.open, line.overdue) == (
                await naive.open_count(community=c),
                await naive.overdue_count(at, community=c),
            )
            assert line.on_time_30 == OnTime(*timed)
            assert line.rates_30 == rates_from_counts(
                RateCounts(**slips) if slips else RateCounts()
            )
    finally:
        await db.close()
    # every community the data holds (the one configured has no line of its own: no street
    # office is configured)
    assert sorted(line.community for line in lines) == ["east", "north", "south"]
    assert list(lines) == sorted(lines, key=roll_up_order)
    assert lines[0].overdue > lines[-1].overdue  # not a tie: the order is visible
