"""Playwright for Python driving Debian's chromium (Playwright's own download does not work
here): skipped with a reason when /usr/bin/chromium is missing, unless
GRIDBOT_REQUIRE_BROWSER=1 (CI), where a missing browser fails."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def need_browser() -> None:
    required = os.environ.get("GRIDBOT_REQUIRE_BROWSER") == "1"
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
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


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chromium() -> AsyncIterator[Any]:
    """One chromium for a module's tests (each gets a fresh context of its own): starting
    Playwright's driver and the browser cost ~0.7 s per test (issue #12 item 6). The tests
    using it run on the module's event loop (``pytest.mark.asyncio(loop_scope="module")``)."""
    need_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def browser_page(browser: Any, width: int = 1100, height: int = 760) -> AsyncIterator[Any]:
    """A fresh page of ``width`` × ``height`` CSS pixels, in a context (cookies, storage)
    of its own on ``browser``."""
    context = await browser.new_context(
        viewport={"width": width, "height": height}, locale="zh-CN"
    )
    try:
        page = await context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        assert errors == [], errors
    finally:
        await context.close()
