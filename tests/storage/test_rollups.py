"""Rollups equal the naive computation over random histories (issue #15 item 2).

Each history is driven through the real issue service and its transition table: reports in
four grids of three communities, every triage and handling action (including illegal ones,
which the service refuses), merges, transfers, 改类别, 改时限, slips answered or expired by the
sweep, /forget and retention, with the clock moving over local midnights and, in New York, over
the switch to summer time. After it, the maintained rollups must equal the rollups recomputed
from the issues, events and slips (``rollups.differences``), and every figure the digest reads
must equal the naive query for periods of whole days and for periods cut anywhere.
"""

from __future__ import annotations

import asyncio
import copy
import random
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import config_from_dict
from bot.core.errors import UserError
from bot.issues.model import TRANSITIONS, Action, State
from bot.issues.rates import Satisfaction, Solved
from bot.issues.service import IssueService
from storage.clock import to_db
from storage.db import Database
from storage.issues import rollups
from storage.issues.naive import NaiveStats
from storage.issues.repo import IssueRecord, IssueRepo, NewIssue, ReporterRecord
from storage.issues.stats import IssueStats
from storage.privacy.declare import Period
from storage.privacy.personal_data import PersonalDataRepo
from tests.support.factories import ENV, FakeClock, calendar_for, community_data

GRIDS = {"g1": -1001, "g2": -1002, "g3": -1003, "g4": -1004}
WORKERS = {"g1": 101, "g2": 102, "g3": 103, "g4": 104}
# Intake fills issues.community on the r3-communities branch; here the repository below does.
COMMUNITY_OF = {"g1": "north", "g2": "north", "g3": "south", "g4": "east"}
HANDLERS = {"property": 301, "city": 302}
RESIDENTS = tuple(range(501, 513))
TEXTS = (
    "3号楼2单元门口路灯坏了",
    "5号楼楼道电动车飞线充电",
    "小区垃圾桶满了没人清运",
    "楼上漏水到我家",
    "半夜装修噪音扰民",
    "消防通道乱停车",
    "电梯故障困人",
)
ACTIONS = {
    "accept": Action.ACCEPT,
    "assign": Action.ASSIGN,
    "reject": Action.REJECT,
    "merge": Action.MERGE,
    "transfer": Action.TRANSFER,
    "recategorise": Action.RECATEGORISE,
    "deadline": Action.SET_DEADLINE,
    "contacted": Action.CONTACTED,
    "progress": Action.PROGRESS,
    "resolve": Action.RESOLVE,
    "request_return": Action.REQUEST_RETURN,
    "approve_return": Action.APPROVE_RETURN,
    "refuse_return": Action.REFUSE_RETURN,
}


class CommunityRepo(IssueRepo):
    """Files each new issue under its grid's community, in the transaction that creates it."""

    async def create(
        self, new: NewIssue, reporter: ReporterRecord | None = None, photos: Any = ()
    ) -> IssueRecord:
        async with self.db.writing() as tx:
            record = await super().create(new, reporter, photos)
            await tx.execute(
                "UPDATE issues SET community = ? WHERE id = ?",
                (COMMUNITY_OF[new.grid], record.id),
            )
        return record


def config(zone: str) -> Any:
    data = copy.deepcopy(community_data())
    data["timezone"] = zone
    data["community"]["grids"] = [
        {"key": key, "name": f"第{key}网格", "chat_id": chat, "workers": [WORKERS[key]]}
        for key, chat in GRIDS.items()
    ]
    return config_from_dict(data, ENV)


class History:
    """One random history on one database."""

    def __init__(self, rng: random.Random, db: Database, zone: str) -> None:
        self.rng, self.db = rng, db
        self.config = config(zone)
        self.clock = FakeClock(datetime(2025, 3, 5, 10, 0, tzinfo=ZoneInfo(zone)))
        self.repo = CommunityRepo(db)
        self.service = IssueService(self.repo, self.clock, self.config, calendar_for(self.config))
        self.reported = 0

    async def run(self, steps: int) -> None:
        for _ in range(steps):
            roll = self.rng.random()
            try:
                if roll < 0.2 or not self.reported:
                    await self.report()
                elif roll < 0.62:
                    await self.act(*await self.pick())
                elif roll < 0.67:
                    await self.answer()
                elif roll < 0.75:
                    await self.service.sweep_feedback(self.clock.now())
                elif roll < 0.77:
                    await self.forget()
                else:
                    self.clock.advance(
                        minutes=self.rng.choice(
                            (7, 50, 190, 600, 1440, 2 * 1440, 6 * 1440, 9 * 1440)
                        )
                    )
            except UserError:
                pass  # refused by the service, as a person would be told

    async def report(self) -> None:
        grid = self.rng.choice(list(GRIDS))
        user = self.rng.choice(RESIDENTS)
        await self.service.report(
            chat_id=GRIDS[grid], user_id=user, display_name="王阿姨", text=self.rng.choice(TEXTS)
        )
        self.reported += 1

    async def pick(self) -> tuple[str, int]:
        """Mostly an open issue and an action its state allows (the table decides), sometimes
        any issue and any action (refused, and nothing may change)."""
        rows = await self.db.fetchall(
            # Ordered: PostgreSQL's row order moves with its updates, and the seed must make one
            # history on both databases (the tests' "something happened" checks rely on it).
            f"SELECT number, state FROM issues WHERE state IN ({rollups.OPEN_LITERALS})"
            " ORDER BY number"
        )
        if not rows or self.rng.random() < 0.15:
            return self.rng.choice(list(ACTIONS)), self.rng.randint(1, self.reported)
        number, state = self.rng.choice(rows)
        legal = [name for name, a in ACTIONS.items() if State(state) in TRANSITIONS[a][0]]
        return self.rng.choice(legal or list(ACTIONS)), number

    async def act(self, action: str, number: int) -> None:
        record = await self.repo.by_number(number)
        assert record is not None
        worker = WORKERS[record.grid]
        handler = HANDLERS.get(record.handler or "", 0)
        rng, s = self.rng, self.service
        match action:
            case "accept":
                await s.accept(worker, number)
            case "assign":
                await s.assign(worker, number, rng.choice(list(HANDLERS)))
            case "reject":
                await s.reject(worker, number, "不属于社区事务")
            case "merge":
                await s.merge(worker, number, rng.randint(1, self.reported))
            case "transfer":
                await s.transfer(worker, number, rng.choice(list(GRIDS)))
            case "recategorise":
                await s.recategorise(worker, number, rng.choice(("leak", "noise", "other")))
            case "deadline":
                await s.change_deadline(worker, number, rng.choice(("1d", "3d", "8h")))
            case "contacted":
                await s.handler_contacted(handler, number)
            case "progress":
                await s.handler_progress(handler, number, f"处理中 {rng.randint(1, 9)}")
            case "resolve":
                await s.handler_resolve(handler, number, "已修好")
            case "request_return":
                await s.handler_request_return(handler, number, "不归我们管")
            case "approve_return":
                await s.approve_return(worker, number)
            case "refuse_return":
                await s.refuse_return(worker, number, "请继续办理")

    async def answer(self) -> None:
        rows = await self.db.fetchall(
            "SELECT id, user_id FROM feedback_slips WHERE state = 'open' ORDER BY id"
        )
        if not rows:
            return
        slip_id, user = self.rng.choice(rows)
        await self.service.answer_slip(
            slip_id,
            user,
            contacted=self.rng.random() < 0.8,
            solved=self.rng.choice(list(Solved)),
            satisfaction=self.rng.choice(list(Satisfaction)),
            comment="谢谢",
        )

    async def forget(self) -> None:
        """/forget of a resident, then the retention sweep: names and ids change, no count."""
        personal = PersonalDataRepo(self.db)
        async with self.db.transaction():
            await personal.forget(self.rng.choice(RESIDENTS), "已注销居民", [], [])
        now = self.clock.now()
        cutoffs = {period: now - timedelta(days=3) for period in Period}
        await personal.expire(cutoffs, "已注销居民", [])


async def assert_equal_to_naive(db: Database, rng: random.Random, now: datetime) -> None:
    found = await rollups.differences(db)
    assert found == [], "\n".join(map(str, found))
    stats, naive = IssueStats(db), NaiveStats(db)
    zone = ZoneInfo(await rollups.zone_of(db))
    first = datetime(2025, 3, 3, tzinfo=zone)
    for community in (None, "north", "south", "east", "nowhere"):
        c = {"community": community}
        for _ in range(6):
            if rng.random() < 0.5:  # whole local days of the rollups' zone
                start = first + timedelta(days=rng.randint(0, 20))
                start = start.replace(tzinfo=zone)
                end = (start + timedelta(days=rng.randint(1, 25))).replace(tzinfo=zone)
                start, end = _midnight(start, zone), _midnight(end, zone)
            else:  # cut anywhere
                start = first + timedelta(minutes=rng.randint(0, 30 * 1440))
                end = start + timedelta(minutes=rng.randint(0, 30 * 1440))
            assert await stats.event_counts(start, end, **c) == await naive.event_counts(
                start, end, **c
            )
            for scope in (None, "grid", "handler", "category"):
                assert await stats.on_time(start, end, scope, **c) == await naive.on_time(
                    start, end, scope, **c
                ), (start, end, scope, community)
                assert await stats.rate_counts_by(scope, start, end, **c) == (
                    await naive.rate_counts_by(scope, start, end, **c)
                ), (start, end, scope, community)
            categories = await naive.category_counts(start, end, **c)
            ranked = sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))
            assert await stats.top_categories(start, end, 99, **c) == ranked
            days = [
                (
                    _midnight(start + timedelta(days=n), zone),
                    _midnight(start + timedelta(days=n + 1), zone),
                )
                for n in range(rng.randint(1, 8))
            ]
            assert await stats.daily_counts(days, **c) == await naive.daily_counts(days, **c)
            moment = now + timedelta(minutes=rng.randint(-5 * 1440, 5 * 1440))
            assert await stats.open_by_grid(moment, **c) == await naive.open_by_grid(moment, **c)
            assert await stats.overdue_count(moment, **c) == await naive.overdue_count(moment, **c)
        assert await stats.open_count(**c) == await naive.open_count(**c)


def _midnight(moment: datetime, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone)
    return datetime(local.year, local.month, local.day, tzinfo=zone)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
@pytest.mark.parametrize("seed", range(4))
async def test_rollups_equal_the_naive_computation_over_random_histories(
    tmp_path: Path, zone: str, seed: int
) -> None:
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    try:
        await rollups.rebuild(db, ZoneInfo(zone))
        rng = random.Random(f"{zone}-{seed}")
        history = History(rng, db, zone)
        await history.run(100)
        await assert_equal_to_naive(db, rng, history.clock.now())
        await history.run(100)
        await assert_equal_to_naive(db, rng, history.clock.now())
        assert history.reported > 10  # the history did something
        assert (
            await IssueStats(db).event_counts(
                datetime(2025, 1, 1, tzinfo=ZoneInfo(zone)), history.clock.now()
            )
        )["resolved"] > 0
    finally:
        await db.close()


async def test_by_community_lists_each_community_as_the_naive_count(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    try:
        rng = random.Random(15)
        history = History(rng, db, "Asia/Shanghai")
        await history.run(200)
        now = history.clock.now()
        zone = ZoneInfo("Asia/Shanghai")
        start, end = _midnight(now - timedelta(days=10), zone), _midnight(now, zone)
        listed = await IssueStats(db).by_community(now, start, end)
        naive = NaiveStats(db)
        assert [f.community for f in listed] == ["east", "north", "south"]
        for figures in listed:
            c = figures.community
            events = await naive.event_counts(start, end, community=c)
            slips = (await naive.rate_counts_by(None, start, end, community=c)).get(None, {})
            timed = (await naive.on_time(start, end, community=c)).get(None, (0, 0))
            assert (figures.reported, figures.resolved, figures.reopened) == (
                events["new"],
                events["resolved"],
                events["reopened"],
            )
            assert (figures.timed, figures.punctual) == timed
            assert figures.valid == slips.get("valid", 0)
            assert figures.missing == slips.get("missing", 0)
            assert figures.open == await naive.open_count(community=c)
            assert figures.overdue == await naive.overdue_count(now, community=c)
    finally:
        await db.close()


async def test_a_change_outside_the_event_writer_is_caught_by_the_check(tmp_path: Path) -> None:
    """The check is not vacuous: a category changed by hand, without an event, shows."""
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    try:
        history = History(random.Random(3), db, "Asia/Shanghai")
        for _ in range(3):
            await history.report()
        assert await rollups.differences(db) == []
        async with db.transaction() as tx:
            await tx.execute("UPDATE issues SET category = 'dog' WHERE number = 2")
        found = await rollups.differences(db)
        assert {(d.table, d.counter) for d in found} >= {("issue_rollup", "reported")}
        assert {d.key[-1] for d in found if d.table == "issue_rollup"} >= {"dog"}
        await rollups.rebuild(db)
        assert await rollups.differences(db) == []
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("zone", "years"),
    [
        ("America/Sao_Paulo", (2008, 2019)),  # summer time began at midnight: no 00:00 that day
        ("Pacific/Apia", (2011, 2012)),  # skipped 30 December 2011 going west to east
        ("Asia/Kathmandu", (2000, 2001)),  # +05:45
        ("Europe/London", (2099, 2100)),
    ],
)
def test_days_are_the_aware_local_midnights(zone: str, years: tuple[int, int]) -> None:
    """``days_of`` skips the aware conversion; what it yields is still that conversion."""
    tz = ZoneInfo(zone)
    for start, day in rollups.days_of(tz, date(years[0], 1, 1), date(years[1], 12, 31)):
        midnight = datetime.combine(date.fromisoformat(day), time(), tz)
        assert (start, day) == (to_db(midnight), day)


def test_days_start_at_local_midnight_across_summer_time() -> None:
    zone = ZoneInfo("America/New_York")
    days = dict((day, start) for start, day in rollups.days_of(zone))
    assert days["2025-03-09"] == "2025-03-09T05:00:00Z"  # EST
    assert days["2025-03-10"] == "2025-03-10T04:00:00Z"  # EDT from 02:00 on the 9th
    assert rollups.fixed_offset(zone) is None
    assert rollups.fixed_offset(ZoneInfo("Asia/Shanghai")) == 480
    assert to_db(datetime(2025, 3, 10, tzinfo=zone)) == days["2025-03-10"]


async def test_a_rebuild_rewrites_the_days_unless_they_are_the_zones_already(
    tmp_path: Path,
) -> None:
    """A rebuild writes the days of its zone: anew for another zone, or when the table is not
    that zone's whole calendar (a rebuild in the zone the days are kept in leaves them:
    rewriting 36,890 rows was most of its cost)."""
    new_york = ZoneInfo("America/New_York")
    expected = list(rollups.days_of(new_york))

    async def day(name: str) -> tuple[object, ...]:
        row = await db.fetchone(
            "SELECT start, (SELECT COUNT(*) FROM rollup_days) FROM rollup_days WHERE day = ?",
            (name,),
        )
        return tuple(row) if row else ()

    db = await Database.open(tmp_path / "gridbot.sqlite3")
    try:
        assert await day("2050-06-01") == ("2050-05-31T16:00:00Z", len(expected))  # UTC+8
        await rollups.rebuild(db, new_york)
        rows = await db.fetchall("SELECT start, day FROM rollup_days ORDER BY start")
        assert [(str(r[0]), str(r[1])) for r in rows] == expected
        assert await rollups.zone_of(db) == "America/New_York"
        async with db.transaction() as tx:  # hand-edited: one day gone
            await tx.execute("DELETE FROM rollup_days WHERE day = '2050-06-01'")
        await rollups.rebuild(db, new_york)
        assert await day("2050-06-01") == ("2050-06-01T04:00:00Z", len(expected))  # EDT
        async with db.transaction() as tx:  # the same count, another zone's first day
            await tx.execute(
                "UPDATE rollup_days SET start = '1999-12-31T16:00:00Z' WHERE day = '2000-01-01'"
            )
        await rollups.rebuild(db, new_york)
        assert await day("2000-01-01") == ("2000-01-01T05:00:00Z", len(expected))  # EST
    finally:
        await db.close()


async def test_migration_0023_backfills_the_rollups_of_an_existing_database(
    tmp_path: Path,
) -> None:
    """A database written before the rollups gets them from its issues when it upgrades."""
    source = tmp_path / "now.sqlite3"
    before = tmp_path / "migrations"
    before.mkdir()
    for migration in resources.files("storage").joinpath("migrations").iterdir():
        if migration.name < "0023":
            (before / migration.name).write_text(migration.read_text(encoding="utf-8"))
    old = tmp_path / "old.sqlite3"
    db = await Database.open(source)
    target = await Database.open(old, migrations=before)
    try:
        history = History(random.Random(23), db, "Asia/Shanghai")
        await history.run(250)
        expected = await IssueStats(db).event_counts(
            datetime(2025, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")), history.clock.now()
        )
        # The same rows, as gridbot wrote them before 0023, through the database API so the
        # PostgreSQL run copies them too; counted is 0023's and stays behind.
        tables = ("issues", "issue_events", "issue_reporters", "feedback_slips")
        # Read before the transaction: inside it every read goes to the transaction's database.
        copied = {table: await db.fetchall(f"SELECT * FROM {table}") for table in tables}
        async with target.transaction() as tx:
            for table, rows in copied.items():
                if not rows:
                    continue
                columns = [c for c in rows[0].keys() if c != "counted"]
                await tx.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)})"
                    f" VALUES ({', '.join('?' for _ in columns)})",
                    # merged_into may name a later issue: set once every issue is in.
                    [
                        tuple(None if c == "merged_into" else row[c] for c in columns)
                        for row in rows
                    ],
                )
            await tx.executemany(
                "UPDATE issues SET merged_into = ? WHERE id = ?",
                [
                    (row["merged_into"], row["id"])
                    for row in copied["issues"]
                    if row["merged_into"]
                ],
            )
    finally:
        await target.close()
        await db.close()
    db = await Database.open(old)  # applies 0023
    try:
        assert await rollups.row_count(db) > 0
        assert await rollups.differences(db) == []
        assert (
            await IssueStats(db).event_counts(
                datetime(2025, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")), history.clock.now()
            )
            == expected
        )
        assert expected["resolved"] > 0
    finally:
        await db.close()


async def test_the_check_never_waits_for_the_bots_writer(tmp_path: Path) -> None:
    """``gridbot rollups check`` runs beside a live bot: while the bot's writer holds a
    transaction open, the check still reads its one moment of the database and finishes."""
    path = tmp_path / "gridbot.sqlite3"
    bot = await Database.open(path)
    operator = await Database.open(path)
    try:
        history = History(random.Random(4), bot, "Asia/Shanghai")
        await history.run(60)
        async with bot.transaction():
            await history.report()  # the bot is in the middle of a report, uncommitted
            found = await asyncio.wait_for(rollups.differences(operator), timeout=4)
    finally:
        await operator.close()
        await bot.close()
    assert found == []


async def test_a_digests_periods_are_split_into_days_once(tmp_path: Path) -> None:
    """Inside ``remembered_spans`` a period's whole days are read once (a round trip each on
    PostgreSQL), so a change to the days table is not seen there; outside, every call reads."""
    db = await Database.open(tmp_path / "spans.sqlite3")
    try:
        stats = IssueStats(db)
        start = datetime(2026, 3, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
        end = start + timedelta(days=3)
        with stats.remembered_spans():
            before = await stats._span(start, end)
            async with db.transaction() as tx:
                await tx.execute("DELETE FROM rollup_days")
            remembered = await stats._span(start, end)
        outside = await stats._span(start, end)
    finally:
        await db.close()

    assert before.days is not None and remembered == before
    assert outside.days is None  # read again: no days, the whole period an edge
