"""End to end: a resident's album (several photos sent at once) is one report (issue #18 item 1).

Telegram delivers an album as one message per photo sharing a media_group_id, the caption on
one of them only; whichever part carries the report, the issue gets every photo.
"""

from __future__ import annotations

from pathlib import Path

from bot.app import GridBot
from bot.issues.service import IssueService
from sandbox.models import SentRecord
from tests.support import factories as f
from tests.support.harness import FAST, World, running_bot, sandbox_world, step

REPORT = "#报事 5号楼2单元楼道灯坏了，晚上一片黑"


def issues(gridbot: GridBot) -> IssueService:
    service: IssueService = gridbot.services.features.issues
    return service


async def send_album(world: World, album: str, captions: list[str | None]) -> list[str]:
    """The resident posts an album in grid 1's group; the largest size's file id of each."""
    file_ids = []
    for caption in captions:
        sent = await world.server.user_sends_photo(
            f.G1_CHAT, f.RESIDENT, caption=caption, media_group_id=album
        )
        file_ids.append(sent["photo"][-1]["file_id"])
    return file_ids


def card_of(world: World, chat_id: int) -> SentRecord:
    (card,) = [
        r for r in world.sent_to(chat_id) if r.method == "sendMessage" and "#1" in (r.text or "")
    ]
    return card


def albums_to(world: World, chat_id: int) -> list[SentRecord]:
    return [r for r in world.sent_to(chat_id) if r.method == "sendMediaGroup"]


async def test_caption_on_the_last_part_files_one_issue_with_every_photo(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await world.server.start_private(f.WORKER_G1)
        await step(world, gridbot)
        photos = await send_album(world, "album-1", [None, None, REPORT])
        await step(world, gridbot)

        issue = await issues(gridbot).load(1)
        assert issue.photos == tuple(photos)
        assert [r for r in world.texts_to(f.G1_CHAT) if "#2" in r] == []
        await world.wait_sent(f.G1_CHAT, "#1")
        await world.wait_sent(f.WORKER_G1, "#1")
        assert "照片：3 张" in (card_of(world, f.WORKER_G1).text or "")
        (album,) = albums_to(world, f.WORKER_G1)
        media = album.params["media"]
        assert [m["media"] for m in media] == photos
        assert media[0]["caption"] == "#1 现场照片（共 3 张）"
        assert albums_to(world, f.G1_CHAT) == []  # the photos go to the worker privately


async def test_caption_on_the_first_part_later_photos_join_the_issue(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await world.server.start_private(f.WORKER_G1)
        await step(world, gridbot)
        photos = await send_album(world, "album-2", [REPORT, None, None])
        await step(world, gridbot)

        assert (await issues(gridbot).load(1)).photos == tuple(photos)
        await world.wait_sent(f.WORKER_G1, "#1")
        assert "照片：1 张" in (card_of(world, f.WORKER_G1).text or "")
        sent = [r for r in world.sent_to(f.WORKER_G1) if r.method == "sendPhoto"]
        assert [(r.params["photo"], r.text) for r in sent[:1]] == [(photos[0], "#1 现场照片")]
        added = sent[1:]
        assert [r.params["photo"] for r in added] == photos[1:]
        assert [r.text for r in added] == ["#1 补充照片（现共 2 张）", "#1 补充照片（现共 3 张）"]


async def test_a_restart_between_the_parts_loses_no_photo(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world:
        async with running_bot(world) as gridbot:
            first = await send_album(world, "album-3", [None, None])
            await step(world, gridbot)
            assert await issues(gridbot).repo.by_number(1) is None  # waiting for the report
        async with running_bot(world) as gridbot:
            last = await send_album(world, "album-3", [REPORT])
            await step(world, gridbot)
            assert (await issues(gridbot).load(1)).photos == tuple(first + last)


async def test_an_album_that_is_no_report_files_nothing(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await send_album(world, "album-4", ["今天小区的银杏真好看", None, None])
        await step(world, gridbot)
        assert await issues(gridbot).repo.by_number(1) is None
        assert world.texts_to(f.G1_CHAT) == []


async def test_issue_n_lists_the_photos_to_whoever_may_see_them(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        for person in (f.WORKER_G1, f.RESIDENT, f.NEIGHBOUR):
            await world.server.start_private(person)
        await step(world, gridbot)
        photos = await send_album(world, "album-5", [None, REPORT, None, None])
        await step(world, gridbot)
        for person in (f.RESIDENT, f.NEIGHBOUR):
            await world.server.user_sends(person, person, "/issue 1")
        await step(world, gridbot)

        detail = await world.wait_sent(f.RESIDENT, "办理过程")
        assert "照片：4 张，见下条" in (detail.text or "")
        (album,) = albums_to(world, f.RESIDENT)
        assert [m["media"] for m in album.params["media"]] == photos
        assert albums_to(world, f.NEIGHBOUR) == []  # not theirs: no detail, no photos


async def press(world: World, gridbot: GridBot, record: SentRecord, label: str) -> None:
    assert record.message_id is not None
    await world.server.press_button(f.RESIDENT, record.message_id, f.RESIDENT, button_text=label)
    await step(world, gridbot)


async def test_a_private_report_with_an_album_across_a_restart(tmp_path: Path) -> None:
    """The guided report: the caption on the last photo, the bot restarted between the parts;
    a photo of the album arriving after 确认提交 joins the issue."""
    server_photos: list[str] = []
    async with sandbox_world(tmp_path, outbox=FAST) as world:
        async with running_bot(world) as gridbot:
            await world.server.start_private(f.WORKER_G1)
            for _ in range(2):
                sent = await world.server.user_sends_photo(
                    f.RESIDENT, f.RESIDENT, media_group_id="album-6"
                )
                server_photos.append(sent["photo"][-1]["file_id"])
            await step(world, gridbot)
            assert not any("网格悄悄话" in t for t in world.texts_to(f.RESIDENT))
        async with running_bot(world) as gridbot:
            sent = await world.server.user_sends_photo(
                f.RESIDENT,
                f.RESIDENT,
                caption="楼上邻居半夜装修电钻太吵",
                media_group_id="album-6",
            )
            server_photos.append(sent["photo"][-1]["file_id"])
            await step(world, gridbot)
            draft = await world.wait_sent(f.RESIDENT, "网格悄悄话")
            assert "照片：已附上" in (draft.text or "")
            for label in ("投诉", "噪音", "第一网格", "跳过", "仅网格员可见", "确认提交"):
                await press(world, gridbot, draft, label)
            late = await world.server.user_sends_photo(
                f.RESIDENT, f.RESIDENT, media_group_id="album-6"
            )
            server_photos.append(late["photo"][-1]["file_id"])
            await step(world, gridbot)

            issue = await issues(gridbot).load(1)
            assert issue.photos == tuple(server_photos) and issue.private
            await world.wait_sent(f.WORKER_G1, "#1")
            assert "照片：3 张" in (card_of(world, f.WORKER_G1).text or "")
            (album,) = albums_to(world, f.WORKER_G1)
            assert [m["media"] for m in album.params["media"]] == server_photos[:3]
            added = [r for r in world.sent_to(f.WORKER_G1) if r.method == "sendPhoto"]
            assert [(r.params["photo"], r.text) for r in added] == [
                (server_photos[3], "#1 补充照片（现共 4 张）")
            ]
            assert not [r for r in world.server.sent if r.chat_id < 0]  # nothing in a group
