"""Playwright for Python driving Debian's chromium (Playwright's own download does not work
here): its headless shell (package chromium-headless-shell) when installed, else the whole
chromium; skipped with a reason when neither is, unless GRIDBOT_REQUIRE_BROWSER=1 (CI),
where a missing browser fails."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from playground.runtime import Saved
from playground.serve import playing

# The headless shell is Blink and V8 without the browser around them (what Playwright's own
# headless mode launches): the same pages for ~25% less CPU than the whole chromium in
# headless mode (7.4 s against 9.8-11 s for the eight browser tests; issue #12 item 6).
HEADLESS_SHELL = Path("/usr/bin/chromium-headless-shell")
CHROMIUM = HEADLESS_SHELL if HEADLESS_SHELL.exists() else Path("/usr/bin/chromium")
# One process (--single-process): the renderer, the network service and the compositor run
# as threads of the browser process instead of four processes talking over IPC. The tests open
# one page at a time from one origin, so they lose no isolation they use; Chromium's CPU for
# the eight tests fell ~1.5 s (12.2-12.5 s against 13.9-14.8 s for both modules, alternately).
ARGS = [
    "--headless",
    "--no-sandbox",
    "--single-process",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def need_browser() -> None:
    required = os.environ.get("GRIDBOT_REQUIRE_BROWSER") == "1"
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing (Debian: apt-get install chromium-headless-shell)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            missing = "playwright is not installed (pip install -e '.[test]')"
    if missing is None:
        return
    if required:
        pytest.fail(f"GRIDBOT_REQUIRE_BROWSER=1 but {missing}")
    pytest.skip(f"browser tests need chromium and playwright: {missing}")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def tab() -> AsyncIterator[Any]:
    """One chromium, with one tab the browser tests take turns on (:func:`browser_page`):
    starting Playwright's driver and the browser cost ~1.7 s of CPU, and a fresh context
    with its tab ~0.35 s more, most of it a new renderer process (issue #12 item 6). The
    tests using it run on the session's event loop (``pytest.mark.asyncio(loop_scope=
    "session")``), all on one worker of pytest-xdist (tests/support/scheduling.py)."""
    need_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = await browser.new_context(locale="zh-CN")
            yield await context.new_page()
        finally:
            await browser.close()


@asynccontextmanager
async def browser_page(tab: Any, width: int = 1100, height: int = 760) -> AsyncIterator[Any]:
    """The browser tests' one tab at ``width`` × ``height`` CSS pixels, for one test.
    Nothing carries over from the test before: each test's playground listens on a port of
    its own, and a page's storage belongs to its origin (scheme, host *and* port), so each
    test's page starts with nothing remembered; the tab is emptied (``about:blank``: its
    scripts and live event stream end) before the test's playground stops, and cookies are
    cleared."""
    await tab.set_viewport_size({"width": width, "height": height})
    tab.set_default_timeout(15_000)
    errors: list[str] = []

    def failed(error: Any) -> None:
        errors.append(str(error))

    tab.on("pageerror", failed)
    try:
        yield tab
        assert errors == [], errors
    finally:
        tab.remove_listener("pageerror", failed)
        await tab.goto("about:blank")
        await tab.context.clear_cookies()


@asynccontextmanager
async def community_page(
    tab: Any, folder: Path, saved: Saved | None, width: int = 1100, height: int = 760
) -> AsyncIterator[Any]:
    """The playground's community scene in ``folder`` (a copy of ``saved``, the scene played
    once per worker, or played afresh), on a port of its own, open on the browser tests' one
    tab (:func:`browser_page`), which is emptied before the playground stops."""
    async with (
        playing("community", folder, port=0, saved=saved) as (_, url),
        browser_page(tab, width, height) as page,
    ):
        await page.goto(url)
        yield page


# The playground's people and chats (playground/scenes: the community scene).
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
