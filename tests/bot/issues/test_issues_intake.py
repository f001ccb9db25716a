"""Reading reports: hashtags, locations, categories, emergencies, duplicates, bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.errors import InvalidInput
from bot.issues.emergency import read_emergency
from bot.issues.model import IssueType, NoticeKind, State
from bot.issues.parsing import (
    SIMILARITY_THRESHOLD,
    Candidate,
    likely_duplicates,
    parse_location,
    similarity,
    split_hashtag,
    suggest_category,
)
from bot.issues.service import QueueFilter
from bot.privacy.service import Place, mask_location, mask_name, mask_phones
from tests.support.factories import (
    G1_CHAT,
    G2_CHAT,
    RESIDENT,
    WORKER_G1,
    IssueWorld,
    issue_world,
    make_config,
)

CONFIG = make_config()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[IssueWorld]:
    async with issue_world(tmp_path) as world:
        yield world


@pytest.mark.parametrize(
    ("text", "category"),
    [
        pytest.param("3号楼2单元门口路灯坏了", "streetlight", id="streetlight"),
        pytest.param("电梯困人了，快来", "elevator", id="elevator"),
        pytest.param("有人把电动车推进电梯充电", "ebike", id="ebike-most-keywords"),
        pytest.param("楼上装修太吵，半夜还在电钻", "noise", id="noise"),
        pytest.param("卫生间漏水到楼下", "leak", id="leak"),
        pytest.param("物业费乱收费", "property", id="property"),
        pytest.param("楼道里有人遛狗不拴绳", "dog", id="dog"),
        pytest.param("3号楼快递点把消防车道占了", "ebike", id="fire-lane-chedao"),
        pytest.param("消防通道被车堵死了", "ebike", id="fire-lane-tongdao"),
        pytest.param("想问下社区活动时间", "other", id="default"),
    ],
)
def test_suggest_category(text: str, category: str) -> None:
    assert suggest_category(text, CONFIG).key == category


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("3号楼2单元门口", ("3", "2"), id="haolou-danyuan"),
        pytest.param("3栋2单元", ("3", "2"), id="dong"),
        pytest.param("三号楼二单元", ("3", "2"), id="chinese-numerals"),
        pytest.param("在3-2楼道", ("3", "2"), id="dashed"),
        pytest.param("12幢门口", ("12", None), id="building-only"),
        pytest.param("小区东门", (None, None), id="free-text"),
        pytest.param("2025-03-05 停水", (None, None), id="date-is-not-a-location"),
    ],
)
def test_parse_location(text: str, expected: tuple[str | None, str | None]) -> None:
    where = parse_location(text)
    assert (where.building, where.unit) == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param("#报事 路灯坏了", IssueType.REPORT, id="baoshi"),
        pytest.param("#求助 老人摔倒", IssueType.HELP, id="qiuzhu"),
        pytest.param("#投诉楼上装修", IssueType.COMPLAINT, id="tousu-no-space"),
        pytest.param("＃举报 群租", IssueType.WRONGDOING, id="jubao-fullwidth"),
        pytest.param("#建议 多装路灯", IssueType.SUGGESTION, id="jianyi"),
        pytest.param("#咨询 几点开门", IssueType.CONSULT, id="zixun"),
        pytest.param("路灯坏了 #报事", None, id="not-leading"),
    ],
)
def test_split_hashtag(text: str, kind: IssueType | None) -> None:
    assert split_hashtag(text)[0] is kind


def test_detect_emergency_names_the_numbers() -> None:
    found = read_emergency("楼下打架了，还有燃气泄漏", CONFIG).live
    assert [(s.kind, s.number) for s in found] == [("police", "110"), ("gas", "119")]
    assert read_emergency("路灯坏了", CONFIG).live == ()


def test_similarity_threshold_is_documented_and_applied() -> None:
    assert SIMILARITY_THRESHOLD == 0.5
    assert similarity("3号楼门口路灯坏了", "3号楼门口的路灯坏了好几天") >= 0.5
    assert similarity("3号楼门口路灯坏了", "5号楼电梯困人") < 0.5
    candidates = [
        Candidate(1, "streetlight", "3", "门口路灯坏了"),
        Candidate(2, "noise", "3", "装修太吵"),
        Candidate(3, "streetlight", "7", "7号楼路灯不亮"),
    ]
    draft = Candidate(0, "streetlight", "3", "3号楼灯不亮")
    assert likely_duplicates(draft, candidates, CONFIG) == (1,)


def test_duplicate_hint_names_at_most_three_likeliest() -> None:
    candidates = [Candidate(n, "noise", None, f"{n}号楼门口路灯坏了") for n in range(1, 11)]
    candidates.append(Candidate(11, "streetlight", "3", "灯不亮"))  # same place and category
    candidates.append(Candidate(12, "noise", None, "3号楼门口路灯坏了"))  # the same words as #3
    found = likely_duplicates(
        Candidate(0, "streetlight", "3", "3号楼门口路灯坏了"), candidates, CONFIG
    )
    assert found == (11, 12, 3)  # same place first, then most similar (#12 = #3), newest first


# Six reports of the blocked fire lane of building 3, filed under the ebike category.
FIRE_LANE = [
    Candidate(1, "ebike", "3", "3号楼消防通道被快递堆满了"),
    Candidate(2, "ebike", "3", "3号楼门口快递柜占了消防通道"),
    Candidate(3, "ebike", "3", "快递把3号楼消防通道占了"),
    Candidate(4, "parking", "3", "3号楼消防车道被快递车堵住"),
    Candidate(5, "other", "3", "3号楼旁边堆满快递，车进不来"),
    Candidate(6, "ebike", "5", "5号楼消防通道被快递堆满了"),  # another building
]


@pytest.mark.parametrize(
    ("draft", "expected"),
    [
        pytest.param(
            Candidate(0, "other", "3", "3号楼快递点把消防车道占了"),
            (3, 4, 2),
            id="other-category-same-building-same-topic",
        ),
        pytest.param(
            Candidate(0, "other", "3", "3号楼快递点堆得车都进不来"),
            (5,),
            id="other-category-close-wording",
        ),
        pytest.param(
            Candidate(0, "streetlight", "3", "3号楼门口路灯坏了"), (), id="other-problem"
        ),
        pytest.param(
            Candidate(0, "other", "7", "7号楼快递点把消防车道占了"), (), id="other-building"
        ),
        pytest.param(Candidate(0, "other", None, "快递点把消防车道占了"), (), id="no-building"),
    ],
)
def test_duplicates_in_one_building_whatever_the_category(
    draft: Candidate, expected: tuple[int, ...]
) -> None:
    assert likely_duplicates(draft, FIRE_LANE, CONFIG) == expected


def test_privacy_masks() -> None:
    assert (mask_name("李四"), mask_name("王小明")) == ("李*", "王**")
    assert mask_phones("请打13812345678") == "请打138****5678"
    assert mask_location("3", "2", "3号楼2单元501室") == Place(building="3", unit="2")
    assert mask_location(None, None, "5号楼301室 电话13812345678") == Place(
        text="5号楼 电话138****5678"
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param("", "issues.errors.empty", id="empty"),
        pytest.param("#报事   ", "issues.errors.empty", id="hashtag-only"),
        pytest.param("#报事 " + "灯" * 10_000, "issues.errors.too_long", id="too-long"),
    ],
)
async def test_bad_reports_are_refused(world: IssueWorld, text: str, key: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        await world.service.report(
            chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text=text
        )
    assert refused.value.key == key
    if key == "issues.errors.too_long":
        assert refused.value.values == {"limit": 2000, "length": 10_000}
    assert await world.service.mine(RESIDENT) == ()


async def test_report_in_unbound_group_is_refused(world: IssueWorld) -> None:
    with pytest.raises(InvalidInput) as refused:
        await world.service.report(
            chat_id=-999, user_id=RESIDENT, display_name="李四", text="#报事 路灯坏了"
        )
    assert refused.value.key == "issues.errors.not_bound"


async def test_duplicate_hint_only_within_the_grid_and_window(world: IssueWorld) -> None:
    service = world.service
    await service.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text="3号楼楼下垃圾堆放没人清运"
    )
    elsewhere = await service.report(
        chat_id=G2_CHAT, user_id=RESIDENT, display_name="李四", text="3号楼楼下垃圾堆放没人清运"
    )
    assert NoticeKind.DUPLICATE_HINT not in {n.kind for n in elsewhere.notices}
    world.clock.advance(days=15)  # past duplicate_window_days = 14
    later = await service.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text="3号楼楼下垃圾堆放没人清运"
    )
    assert NoticeKind.DUPLICATE_HINT not in {n.kind for n in later.notices}
    soon = await service.report(
        chat_id=G1_CHAT,
        user_id=RESIDENT,
        display_name="李四",
        text="3号楼下垃圾堆放，一直没人清运",
    )
    hints = [n.related for n in soon.notices if n.kind is NoticeKind.DUPLICATE_HINT]
    assert hints == [(later.issue.number,)]


async def test_fire_lane_report_under_another_category_gets_the_hint(world: IssueWorld) -> None:
    """Issue #13 item 10: six reports of the blocked fire lane got hints, a seventh filed under
    其他 did not."""
    service, numbers = world.service, []
    for text in ("3号楼消防通道被快递堆满了", "3号楼门口快递柜占了消防通道"):
        done = await service.report(
            chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text=text
        )
        numbers.append(done.issue.number)
    late = await service.report_private(
        user_id=RESIDENT,
        display_name="李四",
        grid_key="g1",
        description="3号楼快递点把消防车道占了",
        category_key="other",
    )
    assert late.issue.category == "other"
    hints = [n.related for n in late.notices if n.kind is NoticeKind.DUPLICATE_HINT]
    assert hints == [tuple(reversed(numbers))]


async def test_recategorise_and_queue_filters(world: IssueWorld) -> None:
    service, clock = world.service, world.clock
    first = await service.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text="#报事 3号楼路灯坏了"
    )
    changed = await service.recategorise(WORKER_G1, first.issue.number, "greenery")
    assert changed.issue.category == "greenery"
    with pytest.raises(InvalidInput):
        await service.recategorise(WORKER_G1, first.issue.number, "nonsense")
    await service.assign(WORKER_G1, first.issue.number, "property")
    second = await service.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text="#建议 增加健身器材"
    )
    unassigned = await service.worker_queue(WORKER_G1, queue=QueueFilter.UNASSIGNED)
    assert [i.number for i in unassigned] == [second.issue.number]
    clock.advance(hours=3)  # the suggestion was due within 2 working hours
    overdue = await service.worker_queue(WORKER_G1, queue=QueueFilter.OVERDUE)
    assert [(i.number, i.state) for i in overdue] == [(second.issue.number, State.NEW)]
    assert overdue[0].is_overdue(clock.now())
