"""Each secretary's digest counts their own community only, and the street office's staff get
the roll-up, one line per community, worst first (issue #15 item 1), on a real database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import config_from_dict
from bot.core.errors import InvalidInput, NotPermitted
from bot.core.rendering import Renderer
from bot.schedule.digest import Digest, Rollup
from bot.schedule.model import NoticeKind
from bot.schedule.presenter import rollup_text
from tests.bot.schedule.schedule_support import (
    at,
    of_kind,
    report,
    schedule_world,
    seed_two_communities,
)
from tests.support import factories as f


async def test_each_secretary_gets_their_own_communitys_digest(tmp_path: Path) -> None:
    async with schedule_world(tmp_path, f.make_two_communities()) as world:
        await seed_two_communities(world)
        result = await world.sweep_at(at(4, 8, 1))

    digests: dict[int, Digest] = {
        n.chat_id: n.digest for n in result.notices if n.kind is NoticeKind.DIGEST
    }
    assert sorted(digests) == [f.SECRETARY, f.SECRETARY_B]
    mine, theirs = digests[f.SECRETARY], digests[f.SECRETARY_B]
    assert (mine.community, theirs.community) == ("yhw", "jsh")
    assert (mine.counts["new"], mine.counts["resolved"]) == (2, 1)
    assert (theirs.counts["new"], theirs.counts["resolved"]) == (1, 0)
    assert (mine.open_now, theirs.open_now) == (1, 1)
    assert (mine.overdue_now, theirs.overdue_now) == (0, 1)
    assert [o.number for o in theirs.overdue] == [3] and mine.overdue == ()
    assert (mine.on_time.resolved, theirs.on_time.resolved) == (1, 0)
    # per-grid lines are the community's own grids only
    assert sorted(name for name, *_ in mine.grids) == ["第一网格", "第二网格"]
    assert theirs.grids == ()  # one grid: the totals say it all


async def test_the_street_office_gets_the_roll_up_worst_first(tmp_path: Path) -> None:
    async with schedule_world(tmp_path, f.make_two_communities()) as world:
        await seed_two_communities(world)
        result = await world.sweep_at(at(4, 8, 1))

    [notice] = [n for n in result.notices if n.kind is NoticeKind.ROLLUP]
    rollup: Rollup = notice.digest
    assert notice.chat_id == f.STREET_STAFF
    assert [(line.community, line.overdue, line.open) for line in rollup.lines] == [
        ("jsh", 1, 1),
        ("yhw", 0, 1),
    ]
    yhw = rollup.lines[1]
    assert (yhw.reported, yhw.resolved, yhw.on_time_30.percent()) == (2, 1, "100.0%")
    zh = rollup_text(Renderer("zh_CN"), "阅海街道", rollup)
    en = rollup_text(Renderer("en"), "阅海街道", rollup)
    assert zh.index("金沙湖社区") < zh.index("阅海湾社区")
    assert "1. <b>金沙湖社区</b>：超期 1，未办结 1" in zh
    assert "近30天按期办结率 100.0%" in zh
    assert "1. <b>金沙湖社区</b>: overdue 1, open 1" in en


async def test_one_community_sends_no_roll_up_and_keeps_its_digest(tmp_path: Path) -> None:
    async with schedule_world(tmp_path) as world:
        world.issues.clock.set(at(3, 9))
        await report(world, f.G1_CHAT, "#报事 3号楼路灯坏了")
        result = await world.sweep_at(at(4, 8, 1))

    digests = [n for n in result.notices if n.kind in (NoticeKind.DIGEST, NoticeKind.ROLLUP)]
    assert [(n.kind, n.chat_id) for n in digests] == [(NoticeKind.DIGEST, f.SECRETARY)]
    assert digests[0].digest.counts["new"] == 1


async def test_civic_pushes_go_to_each_communitys_own_groups_and_pause_apart(
    tmp_path: Path,
) -> None:
    """金沙湖 has its own rule on the 5th at 09:00 (instead of the shared ones); 阅海湾 follows
    the shared 民意“5”来听 (the 5th, 15th, 25th). Each secretary pauses their own only.
    Thursday 5 and Wednesday 25 March 2026 are working days."""
    data = f.two_communities_data()
    data["communities"][1]["rules"] = [
        {"key": "jsh-talk", "template": "reception_day", "days": [5], "time": "09:00"}
    ]
    async with schedule_world(tmp_path, config_from_dict(data, f.ENV)) as world:
        schedule = world.schedule
        mine = [v.rule.key for v in (await schedule.rules(f.SECRETARY)).rules]
        theirs = [v.rule.key for v in (await schedule.rules(f.SECRETARY_B)).rules]
        with pytest.raises(NotPermitted):  # a worker, and nobody else's secretary
            await schedule.set_paused(f.WORKER_H1, "jsh-talk", True)
        with pytest.raises(InvalidInput):  # not a rule of 阅海湾's calendar
            await schedule.set_paused(f.SECRETARY, "jsh-talk", True)
        await world.sweep_at(at(5, 8, 55))
        both = await world.sweep_at(at(5, 9, 1))
        await schedule.set_paused(f.SECRETARY, "opinion_day", True)
        only_b = await world.run(at(25, 8, 55), at(25, 9, 5), timedelta(minutes=5))
        views = {v.rule.key: v.paused for v in (await schedule.rules(f.SECRETARY)).rules}

    assert "jsh-talk" not in mine and "opinion_day" in mine
    assert theirs == ["jsh-talk"]
    pushed = {n.chat_id: n.template for n in both.notices if n.kind is NoticeKind.ANNOUNCEMENT}
    assert pushed == {
        f.G1_CHAT: "opinion_day",
        f.G2_CHAT: "opinion_day",
        f.H1_CHAT: "reception_day",
    }
    assert of_kind(only_b, NoticeKind.ANNOUNCEMENT) == []  # the 25th: 阅海湾 paused, 金沙湖 none
    assert views["opinion_day"] is True
