"""Meetings and notices with several communities (issue #15 item 1): a meeting "of the
community" is announced in the convenor's own community only, managed by its secretary, and
a worker of one community posts no notice in another's group."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.errors import NotPermitted
from tests.support import factories as f
from tests.support.harness import two_communities

FORM = "楼道治理议事会 | 3月10日19:00 | 活动室 | 1. 堆物清理 | {scope}"


async def test_a_community_meeting_stays_in_the_convenors_community(tmp_path: Path) -> None:
    async with two_communities(tmp_path) as found:
        meetings = found.meetings
        ours = await meetings.create(f.WORKER_G1, FORM.format(scope="社区"))
        theirs = await meetings.create(f.WORKER_H1, FORM.format(scope="社区"))
        with pytest.raises(NotPermitted):  # 第一网格 by name: both have one, not 阅海湾's
            await meetings.create(f.WORKER_H1, FORM.format(scope="g1"))
        with pytest.raises(NotPermitted):
            await meetings.overview(ours.view.id, f.SECRETARY_B)
        with pytest.raises(NotPermitted):
            await meetings.close(ours.view.id, f.SECRETARY_B)
        seen = await meetings.overview(ours.view.id, f.SECRETARY)

    assert ours.chats == (f.G1_CHAT, f.G2_CHAT)
    assert theirs.chats == (f.H1_CHAT,)
    assert seen.record.id == ours.view.id


async def test_a_worker_posts_notices_in_their_own_communitys_groups_only(
    tmp_path: Path,
) -> None:
    async with two_communities(tmp_path) as found:
        with pytest.raises(NotPermitted):
            await found.notices.post(f.WORKER_G1, f.H1_CHAT, "h1", "明天停水")
        posted = await found.notices.post(f.WORKER_H1, f.H1_CHAT, "h1", "明天停水")

    assert posted.grid == "h1"
