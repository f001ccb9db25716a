"""Who sees what of the people behind an issue (issue #12; issue #13 item 11).

One rule, bot.privacy.service.shown_to: each reporter is shown by the report they filed, to a
group, a grid worker, a grid leader or the handler.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from bot.core.rendering import Renderer
from bot.issues.model import IssueType, IssueView, ReporterView, State
from bot.privacy.presenter import place_text
from bot.privacy.service import Audience, audience_of, shown_to
from tests.support.factories import (
    G1_CHAT,
    LEADER_G1,
    NEIGHBOUR,
    PROPERTY_USER,
    RESIDENT,
    SECRETARY,
    STRANGER,
    WORKER_G1,
    WORKER_G2,
    IssueWorld,
    issue_world,
    make_config,
)

CONFIG = make_config()
T0 = datetime(2025, 3, 5, 2, 0)

REPORTED = ReporterView(RESIDENT, "王小明", G1_CHAT, 1, IssueType.REPORT)
COMPLAINED = ReporterView(NEIGHBOUR, "孙建国", G1_CHAT, 2, IssueType.COMPLAINT)
DENOUNCED = ReporterView(STRANGER, "赵六", G1_CHAT, 3, IssueType.WRONGDOING)
ANONYMOUS = ReporterView(504, "钱七", 504, None, IssueType.HELP, anonymous=True)

ZH = Renderer("zh_CN")


def issue(*reporters: ReporterView, kind: IssueType = IssueType.REPORT) -> IssueView:
    return IssueView(
        id=1,
        number=1,
        type=kind,
        category="streetlight",
        grid="g1",
        building="3",
        unit="2",
        location="3号楼2单元501室",
        description="路灯坏了，电话13812345678",
        urgent=False,
        private=False,
        anonymous=False,
        state=State.ASSIGNED,
        handler="property",
        merged_into=None,
        reason=None,
        source_chat_id=G1_CHAT,
        source_message_id=1,
        reporters=reporters,
        photos=(),
        resolution_photos=(),
        reported_at=T0,
        respond_by=T0,
        resolve_by=None,
        resolved_at=None,
        closed_at=None,
        contacted_at=None,
        round=0,
    )


MERGED = issue(REPORTED, COMPLAINED, DENOUNCED, ANONYMOUS)


@pytest.mark.parametrize(
    ("audience", "names"),
    [
        pytest.param(Audience.GROUP, ("王**", "孙**", "赵*", "钱*"), id="group-masks-all"),
        pytest.param(Audience.WORKER, ("王小明", "孙建国", "赵六", "钱*"), id="worker"),
        pytest.param(Audience.LEADER, ("王小明", "孙建国", "赵六", "钱*"), id="leader"),
        pytest.param(Audience.HANDLER, ("王小明", "孙**", "赵*", "钱*"), id="handler"),
    ],
)
def test_each_reporter_is_shown_by_the_report_they_filed(
    audience: Audience, names: tuple[str, ...]
) -> None:
    assert shown_to(MERGED, audience).reporters == names


@pytest.mark.parametrize(
    ("audience", "kind", "description", "where"),
    [
        pytest.param(
            Audience.GROUP, IssueType.REPORT, "路灯坏了，电话138****5678", "3-2", id="group"
        ),
        pytest.param(
            Audience.WORKER,
            IssueType.COMPLAINT,
            "路灯坏了，电话13812345678",
            "3号楼2单元501室",
            id="worker-complaint",
        ),
        pytest.param(
            Audience.LEADER,
            IssueType.COMPLAINT,
            "路灯坏了，电话13812345678",
            "3号楼2单元501室",
            id="leader-complaint",
        ),
        pytest.param(
            Audience.HANDLER,
            IssueType.REPORT,
            "路灯坏了，电话13812345678",
            "3号楼2单元501室",
            id="handler-report",
        ),
        pytest.param(
            Audience.HANDLER,
            IssueType.COMPLAINT,
            "路灯坏了，电话138****5678",
            "3号楼2单元501室",
            id="handler-complaint",
        ),
    ],
)
def test_description_and_place_per_audience(
    audience: Audience, kind: IssueType, description: str, where: str
) -> None:
    shown = shown_to(issue(REPORTED, kind=kind), audience)
    # The place as a Chinese reader reads it (the service hands out its parts).
    assert (shown.description, place_text(ZH, shown.where)) == (description, where)


def test_a_report_merged_into_a_complaint_is_named_to_the_handler() -> None:
    """The other way round: the 报事 reporter did not complain about anyone."""
    target = issue(replace(COMPLAINED), REPORTED, kind=IssueType.COMPLAINT)
    assert shown_to(target, Audience.HANDLER).reporters == ("孙**", "王小明")


@pytest.mark.parametrize(
    ("user", "audience"),
    [
        pytest.param(PROPERTY_USER, Audience.HANDLER, id="its-handler"),
        pytest.param(302, Audience.GROUP, id="another-handler"),
        pytest.param(WORKER_G1, Audience.WORKER, id="grid-worker"),
        pytest.param(WORKER_G2, Audience.GROUP, id="other-grids-worker"),
        pytest.param(LEADER_G1, Audience.LEADER, id="grid-leader"),
        pytest.param(SECRETARY, Audience.LEADER, id="secretary"),
        pytest.param(RESIDENT, Audience.GROUP, id="resident"),
        pytest.param(G1_CHAT, Audience.GROUP, id="group-chat"),
    ],
)
def test_audience_of(user: int, audience: Audience) -> None:
    assert audience_of(CONFIG, MERGED, user) is audience


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[IssueWorld]:
    async with issue_world(tmp_path) as world:
        yield world


async def test_reporters_keep_their_report_through_merges(world: IssueWorld) -> None:
    """A 投诉 and an anonymous private 求助 merged into a 报事, which is merged again."""
    service = world.service
    await service.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="王小明", text="#报事 3号楼路灯坏了"
    )
    await service.report(
        chat_id=G1_CHAT,
        user_id=NEIGHBOUR,
        display_name="孙建国",
        text="#投诉 3号楼路灯不亮物业不管",
    )
    await service.report_private(
        user_id=504,
        display_name="钱七",
        grid_key="g1",
        description="3号楼路灯不亮",
        issue_type=IssueType.HELP,
        anonymous=True,
    )
    await service.report(
        chat_id=G1_CHAT, user_id=STRANGER, display_name="赵六", text="#报事 3号楼门口没有灯"
    )
    await service.merge(WORKER_G1, 2, into=1)
    await service.merge(WORKER_G1, 3, into=1)
    await service.merge(WORKER_G1, 1, into=4)
    target = await service.get(4, WORKER_G1)  # reporters in the order they were added
    assert {r.user_id: (r.type, r.anonymous) for r in target.reporters} == {
        STRANGER: (IssueType.REPORT, False),
        RESIDENT: (IssueType.REPORT, False),
        NEIGHBOUR: (IssueType.COMPLAINT, False),
        504: (IssueType.HELP, True),
    }
    assert shown_to(target, Audience.HANDLER).reporters == ("王小明", "孙**", "赵六", "钱*")
    assert shown_to(target, Audience.WORKER).reporters == ("王小明", "孙建国", "赵六", "钱*")
