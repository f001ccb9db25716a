"""The district's roll-up (issue #16): two street offices, each its own bot (token, config,
community), on one database; the district's staff get one roll-up a day across both offices,
grouped by office, worst first, however many of the bots are configured to send it."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import record_communities, schedule_features
from bot.config import Config, ConfigError, config_from_dict
from bot.core.rendering import Renderer
from bot.issues.rates import OnTime, RateCounts, rates_from_counts
from bot.issues.service import IssueService
from bot.schedule.digest import CommunityLine, DistrictRollup, OfficeBlock
from bot.schedule.model import NoticeKind, ScheduleNotice
from bot.schedule.presenter import district_text
from bot.schedule.service import ScheduleService
from storage.db import Database
from storage.issues.repo import IssueRepo
from storage.schedule.district import DistrictRepo
from storage.schedule.runs import DISTRICT_RUNS, ScheduleRepo
from tests.bot.schedule.schedule_support import at, schedule_world, seed_two_communities
from tests.support import factories as f

DISTRICT_STAFF = 951
DISTRICT = {"name": "金凤区", "staff": [DISTRICT_STAFF]}


def office_config(
    token: str, community: int, office: str, district: dict[str, Any] | None = DISTRICT
) -> Config:
    """One street office's bot: the ``community``-th community of the two-community test
    data alone, under its own street office and token, with ``[district]`` if given."""
    data = f.two_communities_data()
    data["communities"] = [copy.deepcopy(data["communities"][community])]
    data["street_office"] = {"name": office, "staff": [f.STREET_STAFF + community]}
    if district is not None:
        data["district"] = dict(district)
    return config_from_dict(data, {"GRIDBOT_TOKEN": token})


@dataclass
class Office:
    config: Config
    schedule: ScheduleService


def office(db: Database, clock: f.FakeClock, config: Config) -> Office:
    issues = IssueService(IssueRepo(db), clock, config, f.calendar_for(config))
    schedule, _ = schedule_features(db, clock, config, issues)
    return Office(config, schedule)


@asynccontextmanager
async def district(
    tmp_path: Path, sends: tuple[bool, bool] = (True, True)
) -> AsyncIterator[tuple[Any, Office, Office]]:
    """The seeded two communities (阅海湾 overdue 0, 金沙湖 overdue 1 on 4 March), served by
    two bots: 阅海街道 (700001, 阅海湾) and 金沙街道 (700002, 金沙湖), each recording its
    communities as at start; ``sends``: which of them has ``[district]``."""
    async with schedule_world(tmp_path, f.make_two_communities()) as world:
        await seed_two_communities(world)
        db, clock = world.issues.db, world.issues.clock
        configs = [
            office_config("700001:a", 0, "阅海街道", DISTRICT if sends[0] else None),
            office_config("700002:b", 1, "金沙街道", DISTRICT if sends[1] else None),
        ]
        for config in configs:
            await record_communities(db, config, clock.now())
        a, b = (office(db, clock, config) for config in configs)
        yield world, a, b


def district_notices(notices: tuple[ScheduleNotice, ...]) -> list[ScheduleNotice]:
    return [n for n in notices if n.kind is NoticeKind.DISTRICT]


async def test_the_district_gets_one_roll_up_of_both_offices_worst_first(
    tmp_path: Path,
) -> None:
    async with district(tmp_path) as (world, a, b):
        world.issues.clock.set(at(4, 8, 31))
        first = await a.schedule.sweep(at(4, 8, 31))
        second = await b.schedule.sweep(at(4, 8, 31))
        later = await a.schedule.sweep(at(4, 8, 45))
        # the street office's roll-up over the same two communities, for comparison
        office_lines = (await world.schedule.digests.roll_up(at(4, 8, 31), at(4, 0).date())).lines
        runs = await ScheduleRepo(world.issues.db, DISTRICT_RUNS).runs()
        own = await ScheduleRepo(world.issues.db, "700002").runs("district")

    [notice] = district_notices(first.notices)
    assert notice.chat_id == DISTRICT_STAFF
    assert district_notices(second.notices) == district_notices(later.notices) == []
    assert [(r.key, r.outcome) for r in runs] == [("district:daily:2026-03-04", "sent")]
    assert own == []  # claimed for the district, not by a bot
    rollup: DistrictRollup = notice.digest
    assert (rollup.start, rollup.end) == (at(3, 0).date(), at(4, 0).date())
    # 金沙街道 has the overdue issue: it comes first; each office lists its own community
    assert [(o.office, [line.community for line in o.lines]) for o in rollup.offices] == [
        ("金沙街道", ["jsh"]),
        ("阅海街道", ["yhw"]),
    ]
    # the lines are the street office's roll-up lines: the same figures, whoever asks
    mine = {line.community: line for o in rollup.offices for line in o.lines}
    assert mine == {line.community: line for line in office_lines}
    yhw = rollup.offices[1].total
    assert (yhw.overdue, yhw.open, yhw.reported, yhw.resolved) == (0, 1, 2, 1)
    assert yhw.on_time_30.percent() == "100.0%"


async def test_the_roll_up_is_built_before_the_sweeps_transaction(tmp_path: Path) -> None:
    """Like the digests: read outside the write transaction, then sent by the sweep."""
    async with district(tmp_path) as (world, a, _b):
        world.issues.clock.set(at(4, 8, 31))
        prepared = await a.schedule.prepare_digests(at(4, 8, 31))
        result = await a.schedule.sweep(at(4, 8, 31), prepared)
        again = await a.schedule.prepare_digests(at(4, 8, 32))

    rollup = prepared["district:daily:2026-03-04"]
    assert isinstance(rollup, DistrictRollup)
    [notice] = district_notices(result.notices)
    assert notice.digest is rollup
    assert "district:daily:2026-03-04" not in again  # claimed: nothing more to prepare


async def test_an_office_total_sums_its_communities_and_ranks_the_offices(
    tmp_path: Path,
) -> None:
    """One office of two communities (the test's street office) beside an office of none:
    its total is the sum of its lines, and the empty office comes last."""
    async with schedule_world(tmp_path, f.make_two_communities()) as world:
        await seed_two_communities(world)
        db, clock = world.issues.db, world.issues.clock
        await record_communities(db, world.issues.config, clock.now())
        await DistrictRepo(db).keep_current("700009", "空街道", [("zz", "新社区")], clock.now())
        rollup = await world.schedule.digests.district_roll_up(at(4, 8, 31), at(4, 0).date())

    [street, empty] = rollup.offices
    assert (street.office, empty.office) == ("阅海街道", "空街道")
    assert [line.community for line in street.lines] == ["jsh", "yhw"]  # worst first
    total = street.total
    assert (total.open, total.overdue, total.reported, total.resolved) == (2, 1, 3, 1)
    assert total.on_time_30 == street.lines[1].on_time_30  # jsh resolved nothing
    assert [(line.community, line.open, line.overdue) for line in empty.lines] == [("zz", 0, 0)]


async def test_a_community_no_bot_serves_any_more_is_still_counted(tmp_path: Path) -> None:
    """金沙湖 leaves the district's records (its bot now serves another community): its
    issues are still the district's, listed under no street office, last."""
    async with district(tmp_path) as (world, a, _b):
        db, clock = world.issues.db, world.issues.clock
        await DistrictRepo(db).keep_current("700002", "金沙街道", [("new", "新社区")], clock.now())
        rollup = await a.schedule.digests.district_roll_up(at(4, 8, 31), at(4, 0).date())
        known = await DistrictRepo(db).communities()

    assert [(c.community, c.office, c.bot) for c in known] == [
        ("new", "金沙街道", "700002"),
        ("yhw", "阅海街道", "700001"),
    ]
    assert [(o.office, [line.community for line in o.lines]) for o in rollup.offices] == [
        ("阅海街道", ["yhw"]),
        ("金沙街道", ["new"]),
        (None, ["jsh"]),
    ]
    assert rollup.offices[2].total.overdue == 1


async def test_a_street_offices_roll_up_lists_no_other_offices_communities(
    tmp_path: Path,
) -> None:
    """The street office's roll-up also lists communities the data holds and its config no
    longer has; on a district's database, another bot's communities are not among them."""
    async with district(tmp_path) as (_world, a, b):
        mine = await a.schedule.digests.roll_up(at(4, 8, 1), at(4, 0).date())
        theirs = await b.schedule.digests.roll_up(at(4, 8, 1), at(4, 0).date())

    assert [line.community for line in mine.lines] == ["yhw"]
    assert [line.community for line in theirs.lines] == ["jsh"]


async def test_keeping_current_moves_a_community_and_reports_the_clash(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        repo, now = DistrictRepo(world.issues.db), world.issues.clock.now()
        assert await repo.keep_current("1", "甲街道", [("x", "X社区"), ("y", "Y社区")], now) == []
        taken = await repo.keep_current("2", "乙街道", [("y", "Y社区二")], now)
        await repo.keep_current("1", "甲街道", [("x", "X社区")], now)  # 1 gave y up
        known = await repo.communities()

    assert [(t.community, t.bot) for t in taken] == [("y", "1")]
    assert sorted((c.community, c.name, c.office, c.bot) for c in known) == [
        ("x", "X社区", "甲街道", "1"),
        ("y", "Y社区二", "乙街道", "2"),
    ]


async def test_only_the_bot_with_a_district_sends_it(tmp_path: Path) -> None:
    async with district(tmp_path, sends=(False, True)) as (world, a, b):
        world.issues.clock.set(at(4, 8, 31))
        without = await a.schedule.sweep(at(4, 8, 31))
        sender = await b.schedule.sweep(at(4, 8, 31))

    assert district_notices(without.notices) == []
    [notice] = district_notices(sender.notices)
    assert len(notice.digest.offices) == 2  # both offices, though this bot serves one


async def test_a_district_roll_up_long_past_is_missed_once_not_sent(tmp_path: Path) -> None:
    async with district(tmp_path) as (world, a, b):
        world.issues.clock.set(at(4, 8, 0))
        await a.schedule.sweep(at(4, 8, 0))
        await b.schedule.sweep(at(4, 8, 0))
        late = await a.schedule.sweep(at(4, 10, 0))  # down from 08:00 to 10:00
        other = await b.schedule.sweep(at(4, 10, 1))
        runs = await ScheduleRepo(world.issues.db, DISTRICT_RUNS).runs()

    assert district_notices(late.notices) == district_notices(other.notices) == []
    assert ("district:daily:2026-03-04", "missed") in [(r.key, r.outcome) for r in runs]


async def test_two_bots_sweeping_at_once_on_their_own_connections_send_it_once(
    tmp_path: Path,
) -> None:
    """Each bot's process has its own connection: both claim the same roll-up at the same
    moment; one claim waits for the other's transaction and finds it taken."""
    async with district(tmp_path) as (world, a, _b):
        second_db = await Database.open(tmp_path / "gridbot.sqlite3")  # the other process
        try:
            b = office(second_db, world.issues.clock, office_config("700002:b", 1, "金沙街道"))
            world.issues.clock.set(at(4, 8, 31))
            results = await asyncio.gather(
                a.schedule.sweep(at(4, 8, 31)), b.schedule.sweep(at(4, 8, 31))
            )
        finally:
            await second_db.close()

    sent = [n for result in results for n in district_notices(result.notices)]
    assert [n.chat_id for n in sent] == [DISTRICT_STAFF]


def test_the_district_roll_up_reads_in_both_languages() -> None:
    def line(key: str, name: str, overdue: int, open_: int) -> CommunityLine:
        rates = rates_from_counts(RateCounts(valid=2, contacted=2, solved=1, satisfied=1, basic=1))
        return CommunityLine(key, name, open_, overdue, 2, 1, OnTime(1, 1), rates)

    office = line("金沙街道", "金沙街道", 1, 3)
    rollup = DistrictRollup(
        at(3, 0).date(),
        at(4, 0).date(),
        (
            OfficeBlock("金沙街道", office, (line("jsh", "金沙湖社区", 1, 3),)),
            OfficeBlock(None, line("", "", 0, 1), (line("old", "old", 0, 1),)),
        ),
    )
    zh = district_text(Renderer("zh_CN"), "金凤区", rollup)
    en = district_text(Renderer("en"), "金凤区", rollup)

    assert zh.startswith("<b>金凤区各街道简报</b>｜3月3日")
    assert (
        "<b>1. 金沙街道</b>：超期 1，未办结 3；昨日新增 2、办结 1；近30天按期办结率 100.0%" in zh
    )
    assert "\n1) 金沙湖社区：超期 1，未办结 3" in zh
    assert "<b>2. 未归属任何街道的社区</b>" in zh
    assert en.startswith("<b>金凤区: street offices</b> | ")
    assert "<b>1. 金沙街道</b>: overdue 1, open 3; yesterday 2 new, 1 resolved" in en
    assert "<b>2. communities of no street office</b>" in en


def test_the_district_needs_its_staff_and_a_time() -> None:
    data = f.two_communities_data()
    data["district"] = {"name": "金凤区", "time": "8点"}
    with pytest.raises(ConfigError) as caught:
        config_from_dict(data, f.ENV)

    problems = caught.value.problems
    assert "district.staff：至少需要一名区级工作人员的 Telegram 用户 ID" in problems
    assert any(p.startswith("district.time：") for p in problems), problems


def test_the_district_time_defaults_to_half_past_eight() -> None:
    data = f.two_communities_data()
    data["district"] = {"name": "金凤区", "staff": [1]}
    config = config_from_dict(data, f.ENV)

    assert (config.district.name, config.district.staff) == ("金凤区", (1,))
    assert f"{config.district.time:%H:%M}" == "08:30"
    assert config_from_dict(f.two_communities_data(), f.ENV).district.staff == ()
