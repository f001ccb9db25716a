"""Online backups of the SQLite file, and restoring one.

SQLite's backup API copies the database page by page from a connection of its own, so the bot
keeps writing meanwhile (WAL): the copy is the database as of one moment, every transaction
committed before that moment in it and none half-written. It runs in a thread, off the event
loop. The copy is then checked (``PRAGMA integrity_check``) before it is kept.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from datetime import datetime
from pathlib import Path

PREFIX = "gridbot-"
SUFFIX = ".sqlite3"


class BackupError(RuntimeError):
    """A backup or restore that was refused or failed: ``key`` names the catalogue text
    (``ops.backup.<key>``) a person reads, ``path`` the file concerned."""

    def __init__(self, key: str, path: Path, detail: str = "") -> None:
        super().__init__(f"{key}: {path} {detail}".strip())
        self.key = key
        self.path = path
        self.detail = detail


def backup_name(moment: datetime) -> str:
    """``gridbot-20261206-033000.sqlite3``: sorts as time does, one per second at most."""
    return f"{PREFIX}{moment:%Y%m%d-%H%M%S}{SUFFIX}"


async def backup(source: Path, folder: Path, moment: datetime) -> Path:
    """Copy the live database at ``source`` into ``folder``; return the new file's path."""
    return await asyncio.to_thread(_backup, source, folder, moment)


def _backup(source: Path, folder: Path, moment: datetime) -> Path:
    if not source.is_file():
        raise BackupError("no_database", source)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / backup_name(moment)
    partial = target.with_suffix(".partial")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst, pages=1024)  # in steps, so the writer is never held for long
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _check(dst, partial)
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(partial, target)  # only a complete, checked copy carries the final name
    return target


def _check(conn: sqlite3.Connection, path: Path) -> None:
    found = conn.execute("PRAGMA integrity_check").fetchone()
    if found is None or found[0] != "ok":
        raise BackupError("corrupt", path, str(found))
    known = "SELECT name FROM sqlite_master WHERE name = 'schema_migrations'"
    if conn.execute(known).fetchone() is None:
        raise BackupError("not_gridbot", path)


def backups(folder: Path) -> list[Path]:
    """The finished backups in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"{PREFIX}*{SUFFIX}") if p.is_file())


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups; return what was deleted."""
    found = backups(folder)
    old = found[: max(0, len(found) - keep)]
    for path in old:
        path.unlink()
    return old


def restore(backup_file: Path, target: Path) -> None:
    """Copy ``backup_file`` to ``target``, which must not exist yet.

    Never over an existing database: a running bot would go on writing to the file it has open,
    and a stopped one's data would be lost. The operator stops the bot, moves the old file aside,
    restores to the configured path, and starts the bot again."""
    if target.exists() or Path(f"{target}-wal").exists():
        raise BackupError("target_exists", target)
    conn = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    try:
        _check(conn, backup_file)
        target.parent.mkdir(parents=True, exist_ok=True)
        out = sqlite3.connect(target)
        try:
            conn.backup(out)
        finally:
            out.close()
    finally:
        conn.close()
