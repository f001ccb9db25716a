"""Places end to end (issue #18 item 3): a resident's Telegram location or venue locates the
report, grid boundaries choose the grid (or the building near an edge), the worker gets the
card with the place and a map pin privately, and no group ever sees the coordinates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.app import GridBot
from bot.issues.service import IssueService
from sandbox.models import SentRecord
from tests.support import factories as f
from tests.support import places as p
from tests.support.harness import FAST, World, running_bot, sandbox_world, step

IN_G2 = (38.4870, 106.2360)  # well inside grid 2


def issues(gridbot: GridBot) -> IssueService:
    service: IssueService = gridbot.services.features.issues
    return service


def boundaries(tmp_path: Path) -> dict[str, Any]:
    return {"boundaries": str(p.write_boundaries(tmp_path)), "datum": "wgs84"}


def labels(record: SentRecord) -> list[str]:
    rows = (record.reply_markup or {}).get("inline_keyboard", [])
    return [button["text"] for row in rows for button in row]


def group_texts(world: World) -> list[str]:
    return [r.text or "" for r in world.server.sent if r.chat_id < 0]


async def press(world: World, gridbot: GridBot, record: SentRecord, *names: str) -> None:
    for name in names:
        assert record.message_id is not None
        await world.server.press_button(
            record.chat_id, record.message_id, f.RESIDENT, button_text=name
        )
        await step(world, gridbot)


async def start_report(world: World, gridbot: GridBot, *workers: int) -> SentRecord:
    """Workers open their chats; the resident writes a complaint and answers type and
    category; the draft message, now asking for the grid."""
    for user in workers:
        await world.server.start_private(user)
    await world.server.user_sends(f.RESIDENT, f.RESIDENT, "楼上邻居半夜装修电钻太吵")
    await step(world, gridbot)
    draft = await world.wait_sent(f.RESIDENT, "网格悄悄话")
    await press(world, gridbot, draft, "投诉", "噪音")
    return draft


async def test_a_venue_picks_the_grid_and_the_worker_gets_the_pin(tmp_path: Path) -> None:
    async with (
        sandbox_world(tmp_path, outbox=FAST, community=boundaries(tmp_path)) as world,
        running_bot(world) as gridbot,
    ):
        server = world.server
        await start_report(world, gridbot, f.WORKER_G2)
        await server.user_sends_location(
            f.RESIDENT, f.RESIDENT, *IN_G2, title="阅海湾菜市场", address="亲水大街 88 号"
        )
        await step(world, gridbot)
        # The venue answered the grid and the place: the next question is who may see it.
        asked = await world.wait_sent(f.RESIDENT, "位置：阅海湾菜市场")
        assert "第二网格" in (asked.text or "") and "公开到群" in labels(asked)
        await press(world, gridbot, asked, "公开到群", "确认提交")
        card = await world.wait_sent(f.WORKER_G2, "#1")
        assert "位置：阅海湾菜市场（亲水大街 88 号）\n反映人" in (card.text or "")
        pins = [r for r in world.sent_to(f.WORKER_G2) if r.method == "sendVenue"]
        assert len(pins) == 1 and pins[0].params["title"] == "阅海湾菜市场"
        assert (pins[0].params["latitude"], pins[0].params["longitude"]) == IN_G2
        issue = await issues(gridbot).get(1, f.WORKER_G2)
        assert (issue.grid, issue.latitude, issue.longitude) == ("g2", *IN_G2)
        # No group sees the place or the coordinates.
        assert not any("菜市场" in t or "38.48" in t or "106.23" in t for t in group_texts(world))
        assert not [r for r in server.sent if r.chat_id < 0 and r.method != "sendMessage"]
        await server.user_sends(f.WORKER_G2, f.WORKER_G2, "/issue 1")
        await step(world, gridbot)
        detail = await world.wait_sent(f.WORKER_G2, "办理过程")
        assert "位置：阅海湾菜市场（亲水大街 88 号）\n" in (detail.text or "")
        # The resident's own view of it is as a group's: no coordinates come back to chats.
        await server.user_sends(f.RESIDENT, f.RESIDENT, "/issue 1")
        await step(world, gridbot)
        own = await world.wait_sent(f.RESIDENT, "办理过程")
        assert "位置：" not in (own.text or "")
        rows = await gridbot.services.features.ledger.rows(
            issue.reported_at.date(), issue.reported_at.date(), actor=f.SECRETARY
        )
        assert rows[0].coordinates == "38.487000, 106.236000"


async def test_near_a_boundary_the_resident_picks_the_building(tmp_path: Path) -> None:
    async with (
        sandbox_world(tmp_path, outbox=FAST, community=boundaries(tmp_path)) as world,
        running_bot(world) as gridbot,
    ):
        await start_report(world, gridbot, f.WORKER_G1, f.WORKER_G2)
        await world.server.user_sends_location(f.RESIDENT, f.RESIDENT, *p.NEAR_EDGE)
        await step(world, gridbot)
        asked = await world.wait_sent(f.RESIDENT, "哪栋楼")
        assert labels(asked) == ["1号楼", "8号楼", "2号楼", "都不是", "取消"]
        await press(world, gridbot, asked, "8号楼", "仅网格员可见", "确认提交")
        card = await world.wait_sent(f.WORKER_G2, "#1")
        assert "8号楼" in (card.text or "") and "位置：38.48700, 106.23390" in (card.text or "")
        pins = [r for r in world.sent_to(f.WORKER_G2) if r.method == "sendLocation"]
        assert [(r.params["latitude"], r.params["longitude"]) for r in pins] == [p.NEAR_EDGE]
        assert not [r for r in world.sent_to(f.WORKER_G1) if "#1" in (r.text or "")]
        issue = await issues(gridbot).get(1, f.WORKER_G2)
        assert (issue.grid, issue.building) == ("g2", "8")


async def test_a_location_before_the_report_is_kept_for_it(tmp_path: Path) -> None:
    """Location first, words after: the bot asks what the problem is and files both."""
    async with (
        sandbox_world(tmp_path, outbox=FAST, community=boundaries(tmp_path)) as world,
        running_bot(world) as gridbot,
    ):
        await world.server.start_private(f.WORKER_G1)
        await world.server.user_sends_location(f.RESIDENT, f.RESIDENT, *p.MIDDLE_G1)
        await step(world, gridbot)
        await world.wait_sent(f.RESIDENT, "收到位置")
        assert not [r for r in world.sent_to(f.RESIDENT) if "网格悄悄话" in (r.text or "")]
        await world.server.user_sends(f.RESIDENT, f.RESIDENT, "楼上邻居半夜装修电钻太吵")
        await step(world, gridbot)
        draft = await world.wait_sent(f.RESIDENT, "网格悄悄话")
        assert "位置：已收到定位" in (draft.text or "") and "第一网格" in (draft.text or "")
        await press(world, gridbot, draft, "投诉", "噪音", "仅网格员可见", "确认提交")
        card = await world.wait_sent(f.WORKER_G1, "#1")
        assert "位置：38.48700, 106.23200" in (card.text or "")


async def test_a_group_report_replying_to_a_shared_location(tmp_path: Path) -> None:
    """In a group Telegram sends a location without a caption, so the resident shares it and
    replies to it with #报事: the report is located, the group is told only the number."""
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        server = world.server
        await server.start_private(f.WORKER_G1)
        shared = await server.user_sends_location(f.G1_CHAT, f.RESIDENT, *p.MIDDLE_G1)
        await server.user_sends(
            f.G1_CHAT, f.RESIDENT, "#报事 这里路灯不亮", reply_to_message_id=shared["message_id"]
        )
        # A neighbour's report replying to someone else's location is not located by it.
        await server.user_sends(
            f.G1_CHAT, f.NEIGHBOUR, "#报事 路灯也不亮", reply_to_message_id=shared["message_id"]
        )
        await step(world, gridbot)
        card = await world.wait_sent(f.WORKER_G1, "#1")
        assert "位置：38.48700, 106.23200" in (card.text or "")
        first = await issues(gridbot).get(1, f.WORKER_G1)
        second = await issues(gridbot).get(2, f.WORKER_G1)
        assert (first.latitude, first.longitude) == p.MIDDLE_G1
        assert second.latitude is None
        assert any("#1" in text for text in group_texts(world))
        assert not any("38.48" in t or "106.23" in t for t in group_texts(world))
