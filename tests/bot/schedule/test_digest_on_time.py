"""按期办结率 in the daily digest and the weekly summary, with the handler league table
(issue #18 item 4), on a real database and a fake clock, rendered in both locales."""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction
from pathlib import Path

from bot.core.rendering import Renderer
from bot.issues.rates import OnTime, Satisfaction, Solved
from bot.schedule.digest import Digest
from bot.schedule.presenter import digest_values
from tests.bot.schedule.schedule_support import ScheduleWorld, schedule_world
from tests.support.factories import (
    CITY_USER,
    G1_CHAT,
    PROPERTY_USER,
    RESIDENT,
    SHANGHAI,
    WORKER_G1,
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


async def handled(
    world: ScheduleWorld,
    handler: tuple[str, int],
    due: datetime,
    done: datetime,
    satisfaction: Satisfaction | None,
) -> None:
    service = world.issues.service
    world.issues.clock.set(at(2, 9))
    outcome = await service.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="王阿姨", text="#报事 2号楼路灯不亮"
    )
    number = outcome.issue.number
    await service.assign(WORKER_G1, number, handler[0], resolve_by=due)
    world.issues.clock.set(done)
    resolved = await service.handler_resolve(handler[1], number, "已处理")
    if satisfaction is not None:
        [slip] = [n.slip_id for n in resolved.notices if n.slip_id is not None]
        await service.answer_slip(
            slip, RESIDENT, contacted=True, solved=Solved.SOLVED, satisfaction=satisfaction
        )


async def digests(tmp_path: Path) -> tuple[Digest, Digest]:
    """The daily digest of Friday 6 March and the weekly summary of 2–8 March."""
    property_, city = ("property", PROPERTY_USER), ("city", CITY_USER)
    async with schedule_world(tmp_path) as world:
        await handled(world, property_, at(4, 18), at(3, 10), Satisfaction.SATISFIED)  # on time
        await handled(world, property_, at(4, 18), at(5, 10), Satisfaction.BASIC)  # late
        await handled(world, city, at(6, 18), at(6, 10), None)  # on time, slip not answered
        build = world.schedule.digests.build
        daily = await build(at(7, 8), date(2026, 3, 7), weekly=False)
        weekly = await build(at(9, 8), date(2026, 3, 9), weekly=True)
    return daily, weekly


async def test_digest_and_weekly_summary_carry_the_on_time_rate(tmp_path: Path) -> None:
    daily, weekly = await digests(tmp_path)

    assert daily.on_time == OnTime(resolved=1, on_time=1)  # 6 March: the city's, on time
    assert daily.on_time_30 == OnTime(3, 2) and daily.league == ()
    assert daily.on_time_grids == (("第一网格", OnTime(3, 2)), ("第二网格", OnTime()))
    assert daily.on_time_categories == (("路灯/市政设施", OnTime(3, 2)),)
    assert weekly.on_time == OnTime(3, 2)
    # Worst first: 物业 resolved one of two late; 市政所 on time, with no answered slip.
    [first, second] = weekly.league
    assert (first.name, first.on_time, first.rates.satisfaction_rate) == (
        "万象美物业",
        OnTime(2, 1),
        Fraction(19, 20),
    )
    assert (second.name, second.on_time, second.rates.satisfaction_rate) == (
        "市政所",
        OnTime(1, 1),
        None,
    )


async def test_digest_text_shows_the_on_time_rate_and_league_in_both_locales(
    tmp_path: Path,
) -> None:
    daily, weekly = await digests(tmp_path)
    zh, en = Renderer("zh_CN"), Renderer("en")

    def text(renderer: Renderer, digest: Digest) -> str:
        return renderer.render("schedule/digest", **digest_values(renderer, "阅海湾社区", digest))

    zh_daily, zh_weekly = text(zh, daily), text(zh, weekly)
    assert "<b>按期办结率</b>\n昨日：100.0%（办结 1，按期 1）\n" in zh_daily
    assert "近30天：66.7%（办结 3，按期 2）" in zh_daily
    assert "各网格（近30天）：第一网格 66.7%、第二网格 —" in zh_daily
    assert "按期率较低的类别（近30天）：路灯/市政设施 66.7%" in zh_daily
    assert "办理单位排行" not in zh_daily
    assert "上周：66.7%（办结 3，按期 2）" in zh_weekly
    assert (
        "<b>办理单位排行</b>（上周办结／按期率／满意率，较差在前）\n"
        "1. 万象美物业：2／50.0%／95.0%\n"
        "2. 市政所：1／100.0%／—\n"
    ) in zh_weekly

    en_daily, en_weekly = text(en, daily), text(en, weekly)
    assert "<b>On-time rate</b>\nYesterday: 100.0% (1 resolved, 1 on time)\n" in en_daily
    assert "By grid (last 30 days): 第一网格 66.7%, 第二网格 —" in en_daily
    assert (
        "<b>Handler league</b> (resolved last week / on time / satisfaction, worst first)\n"
        "1. 万象美物业: 2 / 50.0% / 95.0%\n"
        "2. 市政所: 1 / 100.0% / —\n"
    ) in en_weekly
