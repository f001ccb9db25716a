"""The playground in a real browser (chromium through Playwright): the issue loop clicked
through by four people, the large-font switch on a 375 px phone, and a clock jump that brings
the 08:00 digest. Screenshots go to the test's temp dir, and also to $GRIDBOT_PLAY_SCREENSHOTS
when set (that is how docs/play-desktop.png and docs/play-phone.png are made)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.schedule.digest_chart import cjk_font
from playground.serve import playing
from tests.playground.browser import browser_page

# One chromium for the module (tests/playground/browser.py), so one event loop too, and
# one worker of pytest-xdist.
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("chromium")]

GROUP, RESIDENT, WORKER, PROPERTY, SECRETARY = -1001234567001, 9501, 9101, 9301, 9201


async def shot(page: Any, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    await page.screenshot(path=str(path))
    keep(path)
    return path


def keep(path: Path) -> None:
    """Copy a screenshot to $GRIDBOT_PLAY_SCREENSHOTS when set."""
    wanted = os.environ.get("GRIDBOT_PLAY_SCREENSHOTS")
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(wanted) / path.name)


def site_photo(folder: Path) -> Path:
    """A small picture of the drained doorway (any real PNG will do)."""
    from PIL import Image

    path = folder / "site.png"
    Image.new("RGB", (96, 64), (120, 160, 200)).save(path)
    return path


async def be(page: Any, persona: int, chat: int) -> None:
    """Switch to ``persona`` and open ``chat``."""
    await page.click(f'[data-persona="{persona}"]')
    await page.click(f'[data-chat="{chat}"]')
    await page.wait_for_selector(f'#log[data-chat="{chat}"][data-as="{persona}"]')


async def say(page: Any, text: str) -> None:
    await page.fill("#text", text)
    await page.press("#text", "Enter")


async def press(page: Any, label: str, on: str | None = None) -> None:
    """Click the newest button ``label`` (on the newest message containing ``on``)."""
    messages = page.locator(".msg", has_text=on) if on else page.locator(".msg")
    button = messages.get_by_role("button", name=label, exact=True).last
    await button.click()
    await page.wait_for_selector("body:not(.busy)")


async def test_the_issue_loop_clicked_through_by_four_people(
    tmp_path: Path, chromium: Any
) -> None:
    async with playing("community", tmp_path, port=0) as (_, url), browser_page(chromium) as page:
        await page.goto(url)
        await be(page, RESIDENT, GROUP)
        await say(page, "#报事 3号楼2单元门口积水很深")
        log = page.locator("#log")
        await log.locator(".msg.own", has_text="3号楼2单元门口积水很深").wait_for()
        await log.locator(".msg", has_text="已登记 #4").wait_for()

        await be(page, WORKER, WORKER)
        accept = log.locator(".msg", has_text="#4").get_by_role("button", name="受理").last
        await accept.focus()  # keyboard operable: the buttons are real buttons
        await page.keyboard.press("Enter")
        await page.wait_for_selector("body:not(.busy)")
        await press(page, "交办", on="#4")
        await press(page, "万象美物业", on="#4")
        card = log.locator(".msg", has_text="#4 报事")
        await card.filter(has_text="已交办").filter(has_text="已编辑").first.wait_for()

        await be(page, PROPERTY, PROPERTY)  # resolves with a photo of the site
        await page.set_input_files("#photo", str(site_photo(tmp_path)))
        await page.fill("#photo-caption", "/done 4 已疏通下水口")
        await page.click("#photo-send")
        await log.locator(".msg.own img").wait_for()
        await log.locator(".msg", has_text="#4").filter(has_text="办结").last.wait_for()

        await be(page, RESIDENT, RESIDENT)
        await log.locator(".msg img").first.wait_for()  # the site photo, before rating
        for label in ("是", "未解决", "不满意", "提交评价"):  # not solved: back to the handler
            await press(page, label)

        await be(page, PROPERTY, PROPERTY)
        await log.locator(".msg", has_text="重办单").filter(has_text="#4").last.wait_for()
        await say(page, "/done 4 重新疏通下水管，已不积水")

        await be(page, RESIDENT, RESIDENT)
        await log.locator(".msg", has_text="重新疏通下水管").last.wait_for()  # the new result
        for label in ("是", "已解决", "满意", "提交评价"):
            await press(page, label)
        await log.locator(".msg", has_text="#4").filter(has_text="满意").last.wait_for()
        await shot(page, tmp_path, "play-desktop")

        await be(page, WORKER, WORKER)  # the loop is closed
        await log.locator(".msg", has_text="#4").filter(has_text="已关闭").last.wait_for()


async def test_the_large_font_switch_on_a_phone(tmp_path: Path, chromium: Any) -> None:
    async with (
        playing("community", tmp_path, port=0) as (_, url),
        browser_page(chromium, 375, 740) as page,
    ):
        await page.goto(url)
        await page.click('[data-persona="9501"]')
        assert await page.is_visible("#chats") and not await page.is_visible("#log")
        normal = await page.evaluate("getComputedStyle(document.body).fontSize")
        await page.click("#large")
        large = await page.evaluate("getComputedStyle(document.body).fontSize")
        assert (normal, large) == ("15px", "21px")
        assert await page.get_attribute("#large", "aria-pressed") == "true"
        await page.click(f'[data-chat="{GROUP}"]')  # the chat is a screen of its own
        await page.locator("#log .msg", has_text="已登记 #2").wait_for()
        await say(page, "楼道里的水已经退了，谢谢大家")
        await page.locator("#log .msg.own", has_text="水已经退了").wait_for()
        assert not await page.is_visible("#chats")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375  # nothing sticks out sideways
        box = await page.locator("#text").bounding_box()
        assert box is not None and box["width"] >= 375 / 2  # room to type beside the tools
        await shot(page, tmp_path, "play-phone")
        await page.click("#back")
        assert await page.is_visible("#chats") and not await page.is_visible("#log")


async def test_a_clock_jump_brings_the_0800_digest_to_the_secretary(
    tmp_path: Path, chromium: Any
) -> None:
    async with playing("community", tmp_path, port=0) as (_, url), browser_page(chromium) as page:
        await page.goto(url)
        await be(page, SECRETARY, SECRETARY)
        assert await page.text_content("#clock") == "3月4日 周三 09:30"
        assert await page.locator("#log .msg", has_text="每日简报").count() == 0
        await page.click('[data-jump="eight"]')
        await page.locator("#log .msg", has_text="阅海湾社区每日简报").wait_for()
        assert await page.text_content("#clock") == "3月5日 周四 08:00"
        if cjk_font() is not None:  # the digest's trend chart (drawn only with a CJK font)
            chart = page.locator("#log .msg", has_text="近30天每日新增与办结事项").locator("img")
            await chart.wait_for()
            assert await chart.evaluate("img => img.naturalWidth") > 0
            await page.wait_for_function(  # the log follows the picture once it has loaded
                "() => { const l = document.getElementById('log');"
                " return l.scrollHeight - l.scrollTop - l.clientHeight < 2; }"
            )
        await shot(page, tmp_path, "play-digest")


async def test_jielong_with_two_people_and_a_private_owners_ballot(
    tmp_path: Path, chromium: Any
) -> None:
    async with playing("community", tmp_path, port=0) as (_, url), browser_page(chromium) as page:
        await page.goto(url)
        log = page.locator("#log")
        await be(page, RESIDENT, GROUP)  # 孙大爷 signed up while the scene loaded
        await press(page, "+1 接龙", on="周六上午义务大扫除")
        await page.locator("#toast", has_text="已接龙，第 2 位").wait_for()
        card = log.locator(".msg", has_text="接龙 #1")
        await card.filter(has_text="共 2 人").filter(has_text="已编辑").wait_for()
        listed = await card.locator(".text").last.inner_text()
        assert "2. 3-2 王**" in listed and "王阿姨" not in listed  # masked in the group

        await be(page, RESIDENT, RESIDENT)  # the ballot is private
        await press(page, "同意", on="业主共同决定 #1")
        await page.locator("#toast", has_text="已投票：同意").wait_for()

        await be(page, WORKER, GROUP)
        await press(page, "结束表决", on="业主共同决定 #1")
        result = log.locator(".msg", has_text="民法典第278条").last
        await result.filter(has_text="未通过").wait_for()
        await shot(page, tmp_path, "play-vote")


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
    tmp_path: Path, chromium: Any
) -> None:
    async with playing("community", tmp_path, port=0) as (_, url), browser_page(chromium) as page:
        await page.goto(url)
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
    tmp_path: Path, chromium: Any
) -> None:
    async with playing("community", tmp_path, port=0) as (_, url), browser_page(chromium) as page:
        await page.goto(url)
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
    tmp_path: Path, chromium: Any
) -> None:
    async with playing("community", tmp_path, port=0) as (_, url), browser_page(chromium) as page:
        await page.goto(url)
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
    tmp_path: Path, chromium: Any
) -> None:
    async with playing("community", tmp_path, port=0) as (_, url), browser_page(chromium) as page:
        await page.goto(url)
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
