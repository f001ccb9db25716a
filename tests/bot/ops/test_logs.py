"""The log formats and filters ``gridbot`` installs (issue #17 item 4)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import REDACTED, hide_secrets, setup_logging

TOKEN = "123456:AAH-secret-part_xyz"


@pytest.fixture
def root_level() -> Iterator[None]:
    """``setup_logging`` sets the root level and adds a handler: put both back."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def failing() -> None:
    raise RuntimeError(f"POST http://127.0.0.1/bot{TOKEN}/sendMessage failed\nsecond line")


def log_three_events(logger: logging.Logger) -> None:
    logger.info("intake started: %d updates", 3)
    try:
        failing()
    except RuntimeError:
        logger.exception("outbox round failed")
    logger.warning("url %s", f"http://x/bot{TOKEN.replace(':', '%3A')}/getMe")


@pytest.mark.usefixtures("root_level")
def test_json_format_is_one_object_per_line_and_hides_the_token() -> None:
    out = io.StringIO()
    setup_logging("DEBUG", "json", secrets=[TOKEN], stream=out)
    log_three_events(logging.getLogger("bot.test"))
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    events = [json.loads(line) for line in lines]
    assert [e["level"] for e in events] == ["INFO", "ERROR", "WARNING"]
    assert {e["logger"] for e in events} == {"bot.test"}
    assert events[0]["message"] == "intake started: 3 updates"
    assert events[0]["time"].endswith("+00:00")
    assert "exception" not in events[0]
    assert "RuntimeError" in events[1]["exception"] and REDACTED in events[1]["exception"]
    assert events[2]["message"] == f"url http://x/bot123456%3A{REDACTED}/getMe"
    assert TOKEN not in out.getvalue() and "secret-part" not in out.getvalue()


@pytest.mark.usefixtures("root_level")
def test_text_format_keeps_a_traceback_on_its_events_line() -> None:
    out = io.StringIO()
    handler = setup_logging("INFO", "text", stream=out)
    hide_secrets(handler, TOKEN)  # as gridbot does once the config is read
    log_three_events(logging.getLogger("bot.test"))
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert " ERROR   bot.test: outbox round failed\\nTraceback" in lines[1]
    assert TOKEN not in out.getvalue()


@pytest.mark.usefixtures("root_level")
def test_libraries_that_log_payloads_stay_at_info_when_gridbot_debugs() -> None:
    """aiosqlite logs SQL parameters and PTB API parameters at DEBUG: personal data."""
    out = io.StringIO()
    setup_logging("DEBUG", "text", stream=out)
    logging.getLogger("aiosqlite").debug("executing INSERT ... ('13812345678',)")
    logging.getLogger("telegram.ext.ExtBot").debug("Calling sendMessage with {'text': '王阿姨'}")
    logging.getLogger("telegram.ext.Application").warning("Application was stopped")
    logging.getLogger("bot.transport.outbox").debug("outbox rows [3] were revised")
    written = out.getvalue()
    assert "13812345678" not in written and "王阿姨" not in written
    assert "Application was stopped" in written and "outbox rows [3]" in written


@pytest.mark.usefixtures("root_level")
def test_a_second_setup_replaces_gridbots_handler_only() -> None:
    before = list(logging.getLogger().handlers)
    setup_logging("INFO", "text", stream=io.StringIO())
    second = setup_logging("INFO", "json", stream=io.StringIO())
    assert logging.getLogger().handlers == [*before, second]
