"""The browser tests' one chromium tab (tests/playground/browser.py)."""

from tests.playground.browser import tab

__all__ = ["tab"]
