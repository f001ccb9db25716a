"""The browser tests' one chromium per module (tests/playground/browser.py)."""

from tests.playground.browser import chromium

__all__ = ["chromium"]
