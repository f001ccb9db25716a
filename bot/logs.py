"""Logging for the command line: one line per event, as text or JSON (issue #17 item 4).

Only the standard library: a small Formatter for each format and two Filters on the one
handler ``gridbot`` installs on the root logger. Rotation is journald's or docker's job, so the
handler writes to stderr and nothing else.

What must never reach the output, whatever ``--log-level`` says:

- the bot token: PTB logs the Bot API URL, which contains it, at DEBUG (``Set Bot API URL:
  …/bot<token>``), and a failed request's URL may carry it into an error; ``RedactSecrets``
  replaces it (and the webhook secret) in messages, exceptions and stacks;
- personal data: aiosqlite logs every statement with its parameters at DEBUG (report texts,
  phones, names) and PTB every API call with its parameters and answer (message texts);
  ``QuietLibraries`` keeps those two at INFO while gridbot's own loggers go down to DEBUG.
  Our own log lines carry ids, never what people wrote (tests/bot/ops/test_logs_privacy.py).
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final, Literal, TextIO

LogFormat = Literal["text", "json"]
FORMATS: Final[tuple[LogFormat, ...]] = ("text", "json")
TEXT_FORMAT: Final = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
REDACTED: Final = "<redacted>"
# Libraries whose DEBUG lines carry payloads (SQL parameters, API parameters and answers).
PAYLOAD_LOGGERS: Final = ("aiosqlite", "telegram", "httpx", "httpcore")


class TextFormatter(logging.Formatter):
    """``time level logger: message``; a traceback stays on the same line (``\\n`` escaped),
    so journald and ``docker logs`` keep one entry per event."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "").replace("\n", "\\n")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and
    exception or stack when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            event["exception"] = record.exc_text
        if record.stack_info:
            event["stack"] = self.formatStack(record.stack_info)
        return json.dumps(event, ensure_ascii=False)


class RedactSecrets(logging.Filter):
    """Replace each secret (and the part of a bot token after its colon, which may appear
    URL-encoded) by ``<redacted>`` in the message, the exception and the stack."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            parts = [secret, secret.partition(":")[2]]
            self.secrets.extend(p for p in parts if len(p) >= 4 and p not in self.secrets)
        # The longest first, so the whole token goes before its own tail.
        self.secrets.sort(key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        clean = self._redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True

    def _redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


class QuietLibraries(logging.Filter):
    """Drop the DEBUG lines of the libraries that log payloads (``PAYLOAD_LOGGERS``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.INFO:
            return True
        return record.name.partition(".")[0] not in PAYLOAD_LOGGERS


class GridbotHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``setup_logging`` installs: a second call replaces it, nothing else."""


def setup_logging(
    level: str | int = "INFO",
    fmt: LogFormat = "text",
    *,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Install gridbot's handler on the root logger (stderr unless ``stream``) and set the
    root level; ``hide_secrets`` adds the token once the config is read."""
    handler = GridbotHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactSecrets(secrets))
    handler.addFilter(QuietLibraries())
    root = logging.getLogger()
    for old in root.handlers:
        if isinstance(old, GridbotHandler):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    return handler


def setup_cli_logging(level: str, fmt: LogFormat) -> logging.Handler | None:
    """``setup_logging`` for ``gridbot …``; like ``logging.basicConfig``, nothing when the host
    process (a test runner, a program calling ``main``) has configured logging already."""
    if any(not isinstance(h, GridbotHandler) for h in logging.getLogger().handlers):
        return None
    return setup_logging(level, fmt)


def hide_secrets(handler: logging.Handler | None, *secrets: str) -> None:
    """Redact ``secrets`` from everything ``handler`` writes from now on."""
    if handler is None:
        return
    for installed in handler.filters:
        if isinstance(installed, RedactSecrets):
            installed.add(s for s in secrets if s)
            return
    handler.addFilter(RedactSecrets(s for s in secrets if s))
