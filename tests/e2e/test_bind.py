"""A group bound with /bind serves its grid for reports, like one named in the config."""

from __future__ import annotations

from pathlib import Path

from tests.support import factories as f
from tests.support.harness import FAST, running_bot, sandbox_world, step

NEW_GROUP = -1009


async def test_bind_lets_a_new_group_report_and_only_staff_may_bind(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        server = world.server
        await server.start_private(f.WORKER_G1)
        server.add_group(
            "阅海湾三期业主群", members=[f.RESIDENT, f.SECRETARY, f.WORKER_G1], id=NEW_GROUP
        )
        await server.user_sends(NEW_GROUP, f.RESIDENT, "#报事 三期车库门坏了")
        await step(world, gridbot)
        await world.wait_sent(NEW_GROUP, "尚未绑定网格")

        await server.user_sends(NEW_GROUP, f.RESIDENT, "/bind g1")  # a resident may not
        await step(world, gridbot)
        await world.wait_sent(NEW_GROUP, "只有社区管理员或书记可以绑定网格群")

        await server.user_sends(NEW_GROUP, f.SECRETARY, "/bind g1")
        await step(world, gridbot)
        await world.wait_sent(NEW_GROUP, "第一网格")

        await server.user_sends(NEW_GROUP, f.RESIDENT, "#报事 三期车库门坏了")
        await step(world, gridbot)
        await world.wait_sent(NEW_GROUP, "#1")
        issue = await gridbot.services.features.issues.get(1, f.WORKER_G1)
    assert issue.grid == "g1"
    cards = [t for t in world.texts_to(f.WORKER_G1) if "三期车库门坏了" in t]
    assert len(cards) == 1  # the grid's worker got the card
