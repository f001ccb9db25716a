"""Emergency words meant now, imagined, denied or over (issue #13 item 9).

Each phrasing is something a resident could post in a group chat; ``live`` is what makes the
bot post the emergency number in the group, ``doubt`` what it asks the grid worker to check.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.issues.emergency import read_emergency
from bot.issues.model import NoticeKind
from tests.support.factories import (
    G1_CHAT,
    RESIDENT,
    WORKER_G1,
    IssueWorld,
    issue_world,
    make_config,
)

CONFIG = make_config()

LIVE = "live"
DOUBT = "doubt"
NONE = "none"

PHRASINGS = [
    # happening now
    pytest.param("3号楼楼道着火了", LIVE, ("fire",), id="live-fire"),
    pytest.param("快来人！5栋2单元起火了！！", LIVE, ("fire",), id="live-fire-shouted"),
    pytest.param("楼下有人打架，还动了刀", LIVE, ("police",), id="live-fight"),
    pytest.param("楼道里一股煤气味，赶紧来看看", LIVE, ("gas",), id="live-gas-smell"),
    pytest.param("有位老人在小区门口晕倒了", LIVE, ("medical",), id="live-faint"),
    pytest.param("东门外车祸，有人受伤", LIVE, ("traffic",), id="live-crash"),
    pytest.param("昨天着火没人管，今天又冒烟了", LIVE, ("fire",), id="live-again-today"),
    pytest.param("没想到楼下着火了", LIVE, ("fire",), id="live-not-negated-by-mei-xiang-dao"),
    pytest.param("着火了，火还没扑灭", LIVE, ("fire",), id="live-not-yet-put-out"),
    pytest.param("不知道谁家着火了，好大的烟", LIVE, ("fire",), id="live-someone-elses-fire"),
    # imagined: a risk worth reporting, not an emergency
    pytest.param("楼道堆满纸箱，万一着火怎么办", NONE, (), id="hyp-wanyi"),
    pytest.param("万一着火了怎么办", NONE, (), id="hyp-wanyi-le"),
    pytest.param("燃气管道老化，怕漏气", NONE, (), id="hyp-pa"),
    pytest.param("电动车在楼道充电，担心会起火", NONE, (), id="hyp-danxin"),
    pytest.param("如果发生火灾，消防车根本进不来", NONE, (), id="hyp-ruguo"),
    pytest.param("要是着火了，老人怎么跑", NONE, (), id="hyp-yaoshi"),
    pytest.param("假如有人晕倒，电梯里也没有急救箱", NONE, (), id="hyp-jiaru"),
    pytest.param("飞线充电会不会着火？", NONE, (), id="hyp-hui-bu-hui"),
    pytest.param("着火怎么办？逃生通道被堵了", NONE, (), id="hyp-zenmeban"),
    pytest.param("这些杂物很容易烧起来", NONE, (), id="hyp-rongyi"),
    pytest.param("楼道堆物存在火灾隐患", NONE, (), id="hyp-yinhuan"),
    pytest.param("一旦漏气后果不堪设想", NONE, (), id="hyp-yidan"),
    pytest.param("飞线充电会起火的", NONE, (), id="hyp-hui"),
    pytest.param("周六社区组织消防演习，模拟着火疏散", NONE, (), id="drill"),
    pytest.param("楼道里都是烟，快打119，3楼着火了！", LIVE, ("fire",), id="live-smoke-call"),
    pytest.param("家里燃气泄漏了，已经关了阀门", LIVE, ("gas",), id="live-valve-closed"),
    # denied
    pytest.param("没有着火，是邻居在烧烤", NONE, (), id="neg-meiyou"),
    pytest.param("刚才那不是漏气，是下水道的味道", NONE, (), id="neg-bushi"),
    pytest.param("查过了，没闻到煤气味", NONE, (), id="neg-mei-wendao"),
    pytest.param("并没有人打架，只是吵了几句", NONE, (), id="neg-bing-meiyou-ren"),
    # over
    pytest.param("昨天着火了已经扑灭", NONE, (), id="past-put-out"),
    pytest.param("前天5号楼起火，已经扑灭了，楼道还是黑的", NONE, (), id="past-put-out-later"),
    pytest.param("上周有人在楼下打架，派出所已处理", NONE, (), id="past-handled"),
    pytest.param("刚才冒烟了，物业处理好了", DOUBT, ("fire",), id="over-without-a-time-word"),
    pytest.param("楼下着火了！电梯昨天修好了", LIVE, ("fire",), id="live-another-thing-mended"),
    # in doubt: the grid worker is asked privately
    pytest.param("好像着火了", DOUBT, ("fire",), id="doubt-haoxiang"),
    pytest.param("是不是哪里漏气了", DOUBT, ("gas",), id="doubt-shi-bu-shi"),
    pytest.param("有没有人闻到煤气味？", DOUBT, ("gas",), id="doubt-question"),
    pytest.param("昨天晚上3号楼着火了", DOUBT, ("fire",), id="doubt-past-not-over"),
    pytest.param("楼道着火了怎么办", DOUBT, ("fire",), id="doubt-le-zenmeban"),
    pytest.param("可能有人晕倒在电梯里", DOUBT, ("medical",), id="doubt-keneng"),
    # no emergency word at all
    pytest.param("3号楼门口路灯坏了", NONE, (), id="none-streetlight"),
]


@pytest.mark.parametrize(("text", "reading", "kinds"), PHRASINGS)
def test_emergency_reading(text: str, reading: str, kinds: tuple[str, ...]) -> None:
    found = read_emergency(text, CONFIG)
    live = tuple(s.kind for s in found.live)
    doubtful = tuple(s.kind for s in found.doubtful)
    expected_live = kinds if reading == LIVE else ()
    expected_doubt = kinds if reading == DOUBT else ()
    assert (live, doubtful) == (expected_live, expected_doubt)


def test_live_and_doubtful_services_in_one_report() -> None:
    found = read_emergency("楼下有人打架，好像还有人晕倒了", CONFIG)
    assert [s.kind for s in found.live] == ["police"]
    assert [s.kind for s in found.doubtful] == ["medical"]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[IssueWorld]:
    async with issue_world(tmp_path) as world:
        yield world


async def report(world: IssueWorld, text: str) -> tuple[bool, set[NoticeKind], set[int]]:
    outcome = await world.service.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text=text
    )
    kinds = {n.kind for n in outcome.notices}
    group = {n.chat_id for n in outcome.notices if n.kind is NoticeKind.EMERGENCY_REPLY}
    return outcome.issue.urgent, kinds, group


async def test_hypothetical_fire_is_a_normal_report(world: IssueWorld) -> None:
    urgent, kinds, _ = await report(world, "楼道堆满纸箱，万一着火怎么办")
    assert not urgent
    assert not kinds & {
        NoticeKind.EMERGENCY_REPLY,
        NoticeKind.EMERGENCY_ALERT,
        NoticeKind.EMERGENCY_CHECK,
    }


async def test_live_fire_tells_the_group_and_is_urgent(world: IssueWorld) -> None:
    urgent, kinds, group = await report(world, "3号楼楼道着火了")
    assert urgent and group == {G1_CHAT}
    assert {NoticeKind.EMERGENCY_REPLY, NoticeKind.EMERGENCY_ALERT} <= kinds


async def test_doubtful_fire_asks_the_worker_privately(world: IssueWorld) -> None:
    outcome = await world.service.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text="好像着火了"
    )
    assert not outcome.issue.urgent
    checks = [n for n in outcome.notices if n.kind is NoticeKind.EMERGENCY_CHECK]
    assert [(n.chat_id, n.services) for n in checks] == [(WORKER_G1, (("fire", "119"),))]
    assert all(n.chat_id > 0 for n in outcome.notices if n.kind is not NoticeKind.ACK_GROUP)
