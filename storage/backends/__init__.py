"""Storage backends: which database a ``storage.url`` names, and how to open it.

SQLite (``sqlite:///path``, the default) is :class:`storage.db.Database`; PostgreSQL
(``postgresql://user@host:port/db``) is :class:`storage.backends.postgres.PgDatabase`, the same
interface over asyncpg. The repositories write one set of SQL, in SQLite's dialect; the
PostgreSQL backend translates each statement once (storage.backends.dialect).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from storage.db import Database

SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql://", "postgres://")


def is_postgres(url: str) -> bool:
    return url.startswith(POSTGRES_PREFIXES)


def sqlite_path(url: str) -> Path:
    """The file a ``sqlite:///…`` URL names (``sqlite:////abs`` or ``sqlite:///relative``)."""
    if not url.startswith(SQLITE_PREFIX):
        raise ValueError(f"not a sqlite URL: {url!r}")
    return Path(unquote(url[len(SQLITE_PREFIX) :])).expanduser()


async def open_database(url: str | Path) -> Database:
    """Open (migrating if needed) the database ``url`` names; a bare path is a SQLite file."""
    text = str(url)
    if is_postgres(text):
        from storage.backends.postgres import PgDatabase  # asyncpg only when it is used

        return await PgDatabase.open(text)
    path = sqlite_path(text) if text.startswith(SQLITE_PREFIX) else Path(text)
    return await Database.open(path)
