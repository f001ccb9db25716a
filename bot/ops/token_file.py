"""Is the bot token lying in a file other users can read? (issue #17 item 6)

Whoever holds the token is the bot: they can read every group it is in and write as it. The
token belongs in a file only its owner reads (``chmod 600``), or in ``GRIDBOT_TOKEN``.
"""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

from bot.core.rendering import Renderer

EXPOSED_BITS = 0o077  # any permission for the group or for others


def holds_token(path: Path) -> bool:
    """The file sets a non-empty ``[telegram] token``, even one ``GRIDBOT_TOKEN`` overrides."""
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError):
        return False
    telegram = data.get("telegram")
    token = telegram.get("token") if isinstance(telegram, dict) else None
    return isinstance(token, str) and bool(token.strip())


def token_file_warning(path: Path, locale: str) -> str | None:
    """The warning to log at start when ``path`` holds a token and is readable by other users;
    None when all is well."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if not mode & EXPOSED_BITS or not holds_token(path):
        return None
    return Renderer(locale).text("app.token_file_readable", file=str(path), mode=f"{mode:o}")
