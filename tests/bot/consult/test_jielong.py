"""接龙 (issue #6): order, one entry per person, caps, deadlines, who may close and export."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.consult.parsing import split_jielong
from bot.core.errors import UserError
from tests.support import factories as f
from tests.support.consult import consult_world

NOW = datetime(2025, 3, 5, 10, 0, tzinfo=f.SHANGHAI)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "周六义务植树 限20人 截止11月28日18:00",
            ("周六义务植树", 20, datetime(2025, 11, 28, 18, 0, tzinfo=f.SHANGHAI)),
            id="cap-and-deadline",
        ),
        pytest.param("团购大米", ("团购大米", None, None), id="topic-only"),
        pytest.param(
            "春游 截止 3月1日 9点",
            ("春游", None, datetime(2026, 3, 1, 9, 0, tzinfo=f.SHANGHAI)),
            id="past-date-is-next-year",
        ),
        pytest.param("清洁日 截止明天", ("清洁日 截止明天", None, None), id="unreadable-kept"),
    ],
)
def test_split_jielong_reads_cap_and_deadline(
    text: str, expected: tuple[str, int | None, datetime | None]
) -> None:
    assert split_jielong(text, NOW, f.SHANGHAI) == expected


async def test_entries_keep_tap_order_and_withdraw_moves_the_rest_up(tmp_path: Path) -> None:
    async with consult_world(tmp_path) as w:
        await w.verify(f.RESIDENT, "王阿姨", "1-2-301")
        view = await w.jielong.start(f.G1_CHAT, f.NEIGHBOUR, "周六义务植树")
        await w.jielong.join(view.id, f.NEIGHBOUR, "孙大爷")
        await w.jielong.join(view.id, f.RESIDENT, "王阿姨")
        after = await w.jielong.join(view.id, f.STRANGER, "路人甲")
        assert [(e.position, e.place, e.name) for e in after.entries] == [
            (1, "", "孙**"),
            (2, "1-2", "王**"),
            (3, "", "路**"),
        ]
        with pytest.raises(UserError, match="already_in"):
            await w.jielong.join(view.id, f.RESIDENT, "王阿姨")
        after = await w.jielong.withdraw(view.id, f.RESIDENT)
        assert [e.name for e in after.entries] == ["孙**", "路**"]
        with pytest.raises(UserError, match="not_in"):
            await w.jielong.withdraw(view.id, f.RESIDENT)


async def test_cap_deadline_and_closing(tmp_path: Path) -> None:
    async with consult_world(tmp_path) as w:
        view = await w.jielong.start(f.G1_CHAT, f.RESIDENT, "团购 限1人 截止3月6日18:00")
        await w.jielong.join(view.id, f.RESIDENT, "王阿姨")
        with pytest.raises(UserError, match="full"):
            await w.jielong.join(view.id, f.NEIGHBOUR, "孙大爷")
        with pytest.raises(UserError, match="only_starter"):
            await w.jielong.close(view.id, f.NEIGHBOUR)
        with pytest.raises(UserError, match="only_starter"):
            await w.jielong.export(view.id, f.WORKER_G2)  # another grid's worker
        assert (await w.jielong.export(view.id, f.WORKER_G1)).raw[0].name == "王阿姨"
        assert await w.sweep.sweep(w.clock.now()) == []
        w.clock.set(datetime(2025, 3, 6, 18, 0, tzinfo=f.SHANGHAI))
        with pytest.raises(UserError, match="closed"):
            await w.jielong.withdraw(view.id, f.RESIDENT)
        notices = await w.sweep.sweep(w.clock.now())
        assert [n.jielong.id for n in notices if n.jielong] == [view.id]
        assert await w.sweep.sweep(w.clock.now()) == []  # closed once


async def test_only_grid_groups_and_sensible_topics(tmp_path: Path) -> None:
    async with consult_world(tmp_path) as w:
        with pytest.raises(UserError, match="not_grid_group"):
            await w.jielong.start(-1009, f.RESIDENT, "植树")
        with pytest.raises(UserError, match="no_topic"):
            await w.jielong.start(f.G1_CHAT, f.RESIDENT, " 限5人")
        with pytest.raises(UserError, match="deadline_past"):
            await w.jielong.start(f.G1_CHAT, f.RESIDENT, "植树 截止2025年3月1日9:00")
        view = await w.jielong.start(f.G1_CHAT, f.RESIDENT, "植树")
        closed = await w.jielong.close(view.id, f.WORKER_G1)
        assert closed.closed and closed.record.closed_by == f.WORKER_G1
