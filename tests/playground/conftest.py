"""The browser tests' one chromium tab (tests/playground/browser.py), and the community scene
played once per worker for the page tests to start from."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from playground.runtime import Saved
from playground.serve import playing
from tests.playground.browser import tab
from tests.support import postgres as pg_support

__all__ = ["community", "tab"]


@pytest.fixture(scope="session")
def community(tmp_path_factory: pytest.TempPathFactory) -> Saved | None:
    """The community scene played once, for each page test to start from a copy of
    (``playing(..., saved=community)``) instead of playing its ~100 steps again: ~0.2 s of
    CPU a test, 16 tests (issue #12 item 6). tests/playground/test_web.py checks a copy
    stands where the played one stood. On PostgreSQL runs, None (each test plays the scene):
    the harness puts each test's database on PostgreSQL, and a saved playground is SQLite
    files. Played in a thread of its own, on an event loop of its own, so no test's loop
    (the browser tests share the session's) is touched."""
    if pg_support.ACTIVE:
        return None
    folder = tmp_path_factory.mktemp("community")

    async def play() -> Saved:
        async with playing("community", folder, port=0) as (play, _):
            pass
        return play.saved()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, play()).result()
