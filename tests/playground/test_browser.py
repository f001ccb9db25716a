"""The playground in a real browser (chromium through Playwright): the issue loop clicked
through by four people, the large-font switch on a 375 px phone, a clock jump that brings
the 08:00 digest, and a 接龙 with a private owners' ballot. Screenshots go to the test's temp
dir, and also to $GRIDBOT_PLAY_SCREENSHOTS when set (that is how docs/play-desktop.png and
docs/play-phone.png are made)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.schedule.digest_chart import cjk_font
from playground.runtime import Saved
from tests.playground.browser import (
    GROUP,
    PROPERTY,
    RESIDENT,
    SECRETARY,
    WORKER,
    be,
    community_page,
    press,
    say,
    shot,
    site_photo,
)

# One chromium tab for the browser tests of both modules (tests/playground/browser.py), so
# one event loop too, and one worker of pytest-xdist (tests/support/scheduling.py).
pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.xdist_group("chromium")]


async def test_the_issue_loop_clicked_through_by_four_people(
    tmp_path: Path, tab: Any, community: Saved | None
) -> None:
    async with community_page(tab, tmp_path, community) as page:
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


async def test_the_large_font_switch_on_a_phone(
    tmp_path: Path, tab: Any, community: Saved | None
) -> None:
    async with community_page(tab, tmp_path, community, 375, 740) as page:
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
    tmp_path: Path, tab: Any, community: Saved | None
) -> None:
    async with community_page(tab, tmp_path, community) as page:
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
    tmp_path: Path, tab: Any, community: Saved | None
) -> None:
    async with community_page(tab, tmp_path, community) as page:
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
