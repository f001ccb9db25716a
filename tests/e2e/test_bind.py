"""A group bound with /bind serves its grid for reports, like one named in the config; a group
upgraded to a supergroup keeps serving it (bot.core.grids owns the rule)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.support import factories as f
from tests.support.harness import FAST, World, running_bot, sandbox_world, step

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


async def test_a_group_upgraded_to_a_supergroup_keeps_its_grid_for_every_feature(
    tmp_path: Path,
) -> None:
    # issue #13 item 3: after the upgrade, messages followed the new id but intake refused
    # reports there ("本群尚未绑定网格"). Both a configured group and a /bind one are upgraded.
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        server = world.server
        await server.start_private(f.WORKER_G1)
        server.add_group("阅海湾三期业主群", members=[f.RESIDENT, f.SECRETARY], id=NEW_GROUP)
        await server.user_sends(NEW_GROUP, f.SECRETARY, "/bind g2")
        await step(world, gridbot)
        configured = await server.migrate_to_supergroup(f.G1_CHAT)
        bound = await server.migrate_to_supergroup(NEW_GROUP)
        await step(world, gridbot)

        await server.user_sends(configured, f.RESIDENT, "#报事 5号楼电梯停运")
        await step(world, gridbot)
        await world.wait_sent(configured, "#1")
        await server.user_sends(bound, f.RESIDENT, "#报事 三期车库门坏了")
        await step(world, gridbot)
        await world.wait_sent(bound, "#2")
        await server.user_sends(configured, f.RESIDENT, "#接龙 周六大扫除")
        await step(world, gridbot)
        await world.wait_sent(configured, "周六大扫除")
        issues = gridbot.services.features.issues
        first, second = await issues.get(1, f.SECRETARY), await issues.get(2, f.SECRETARY)

    assert (first.grid, second.grid) == ("g1", "g2")
    refused = [t for t in world.texts_to(configured) + world.texts_to(bound) if "尚未绑定" in t]
    assert refused == []


def pushes(world: World, chat: int) -> list[str]:
    return [t for t in world.texts_to(chat) if "民意收集日" in t]


async def test_civic_pushes_reach_bound_and_upgraded_groups_once(tmp_path: Path) -> None:
    # issue #13 item 18: 民意"5"来听 went only to the config's chat ids, skipping /bind groups.
    async with sandbox_world(tmp_path, outbox=FAST) as world:
        server = world.server
        server.add_group("阅海湾三期业主群", members=[f.RESIDENT, f.SECRETARY], id=NEW_GROUP)
        async with running_bot(world) as gridbot:
            await server.user_sends(NEW_GROUP, f.SECRETARY, "/bind g1")
            await step(world, gridbot)
            upgraded = await server.migrate_to_supergroup(f.G2_CHAT)
            await step(world, gridbot)
        clock = f.FakeClock(datetime(2026, 11, 25, 9, 1, tzinfo=f.SHANGHAI))  # a Wednesday
        async with running_bot(world, clock) as gridbot:
            await world.wait_sent(NEW_GROUP, "民意收集日")
            await world.wait_sent(upgraded, "民意收集日")
            await step(world, gridbot)

    assert len(pushes(world, NEW_GROUP)) == 1
    assert len(pushes(world, f.G1_CHAT)) == 1
    assert len(pushes(world, upgraded)) == 1
    assert pushes(world, f.G2_CHAT) == []
