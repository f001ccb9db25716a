"""The playground in a real browser, with media and places: an album with a report caption,
a venue that picks the grid, /todo's rating slip, and a voice note heard and passed on
(the rest of the browser tests: test_browser.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from playground.runtime import Saved
from tests.playground.browser import (
    GROUP,
    RESIDENT,
    WORKER,
    be,
    community_page,
    press,
    say,
    shot,
)

# One chromium tab for the browser tests of both modules (tests/playground/browser.py), so
# one event loop too, and one worker of pytest-xdist (tests/support/scheduling.py).
pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.xdist_group("chromium")]


def album_photos(folder: Path, count: int) -> list[str]:
    """``count`` small pictures of one spot, each a different shade."""
    from PIL import Image

    paths = []
    for index in range(count):
        path = folder / f"spot-{index}.png"
        Image.new("RGB", (80, 60), (90 + 40 * index, 140, 180)).save(path)
        paths.append(str(path))
    return paths


def voice_recording(folder: Path, seconds: int) -> Path:
    """A short recording of silence (a WAV the browser can measure and play)."""
    import wave

    path = folder / "voice.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 8000 * seconds)
    return path


async def test_an_album_with_a_report_caption_reaches_the_worker(
    tmp_path: Path, tab: Any, community: Saved | None
) -> None:
    async with community_page(tab, tmp_path, community) as page:
        log = page.locator("#log")
        await be(page, RESIDENT, GROUP)
        await page.set_input_files("#photo", album_photos(tmp_path, 3))
        await page.fill("#photo-caption", "#报事 5号楼后面的绿化带被人挖了")
        await page.click("#photo-send")
        sent = log.locator(".msg.own", has_text="绿化带被人挖了")
        await sent.locator(".album img").nth(2).wait_for()  # one bubble, three photos
        assert await sent.locator(".album img").count() == 3
        await log.locator(".msg", has_text="已登记 #4").wait_for()

        await be(page, WORKER, WORKER)
        card = log.locator(".msg", has_text="#4 报事").filter(has_text="照片：3 张")
        await card.first.wait_for()
        album = log.locator(".msg", has_text="#4 现场照片（共 3 张）")
        await album.locator(".album img").nth(2).wait_for()
        assert await album.locator(".album img").count() == 3
        await shot(page, tmp_path, "play-album")


async def test_a_venue_in_the_private_chat_picks_the_grid_and_pins_it_for_the_worker(
    tmp_path: Path, tab: Any, community: Saved | None
) -> None:
    async with community_page(tab, tmp_path, community) as page:
        log = page.locator("#log")
        await be(page, RESIDENT, RESIDENT)
        await say(page, "菜市场门口的井盖松了，踩上去会晃")
        await log.locator(".msg", has_text="网格悄悄话").last.wait_for()
        await press(page, "报事")
        await press(page, "路灯/市政设施")
        await page.click("#place-open")
        await page.click('[data-place="阅海湾菜市场"]')
        await page.wait_for_selector("body:not(.busy)")
        pin = log.locator(".msg.own .pin", has_text="阅海湾菜市场")
        await pin.filter(has_text="亲水大街 88 号").wait_for()
        asked = log.locator(".msg", has_text="位置：阅海湾菜市场").last
        await asked.filter(has_text="第二网格").wait_for()  # the boundaries chose the grid
        await press(page, "仅网格员可见")
        await press(page, "确认提交")

        await be(page, 9102, 9102)  # 第二网格's worker: the card, then the pin
        await log.locator(".msg", has_text="位置：阅海湾菜市场（亲水大街 88 号）").wait_for()
        await log.locator(".msg .pin", has_text="阅海湾菜市场").wait_for()
        await shot(page, tmp_path, "play-venue")


async def test_todo_shows_the_residents_rating_slip_and_pressing_it_rates(
    tmp_path: Path, tab: Any, community: Saved | None
) -> None:
    async with community_page(tab, tmp_path, community) as page:
        log = page.locator("#log")
        await be(page, WORKER, WORKER)  # #2 waits to be accepted
        await say(page, "/todo")
        waiting = log.locator(".msg", has_text="我的待办").last
        await waiting.filter(has_text="待受理").wait_for()

        await be(page, RESIDENT, RESIDENT)
        await say(page, "/todo")
        summary = log.locator(".msg", has_text="我的待办").last
        await summary.filter(has_text="待评价的办理结果 1 件").wait_for()
        slip = log.locator(".msg", has_text="请您评价").last
        for label in ("是", "已解决", "满意", "提交评价"):
            await slip.get_by_role("button", name=label, exact=True).click()
            await page.wait_for_selector("body:not(.busy)")
        await log.locator(".msg", has_text="#3").filter(has_text="满意").last.wait_for()
        summaries = log.locator(".msg", has_text="我的待办")
        before = await summaries.count()
        await say(page, "/todo")
        await summaries.nth(before).wait_for()  # rated: the ballot still waits, the slip not
        again = await summaries.nth(before).inner_text()
        assert "待表决的业主共同决定 1 项" in again and "待评价" not in again
        await shot(page, tmp_path, "play-todo")


async def test_a_voice_note_is_sent_heard_and_passed_to_the_worker(
    tmp_path: Path, tab: Any, community: Saved | None
) -> None:
    async with community_page(tab, tmp_path, community) as page:
        log = page.locator("#log")
        await be(page, RESIDENT, RESIDENT)
        await page.set_input_files("#voice", str(voice_recording(tmp_path, 3)))
        own = log.locator(".msg.own .voice", has_text="语音 3″")
        await own.wait_for()
        assert (await own.locator("audio").get_attribute("src") or "").startswith("/api/file/")
        draft = log.locator(".msg", has_text="网格悄悄话").last
        await draft.filter(has_text="语音，约 3 秒").wait_for()
        for label in ("投诉", "噪音", "第一网格", "跳过", "仅网格员可见", "确认提交"):
            await press(page, label)

        await be(page, WORKER, WORKER)  # the card, then the voice note itself, playable
        await log.locator(".msg", has_text="#4").filter(has_text="语音，约 3 秒").wait_for()
        passed = log.locator(".msg", has_text="#4 居民语音").locator(".voice")
        await passed.filter(has_text="语音 3″").wait_for()
        heard = await passed.locator("audio").evaluate(
            "a => new Promise((ok, no) => { a.onloadedmetadata = () => ok(a.duration);"
            " a.onerror = () => no(String(a.error && a.error.code)); a.load(); })"
        )
        assert round(heard) == 3
        await shot(page, tmp_path, "play-voice")
