"""The daily backup (``[backup]``): once a day at ``time``, an online copy into ``folder``,
keeping the newest ``keep``. Whether today's is done is read from the folder itself, so a
restart neither skips nor repeats it; a day the bot was down is caught up at the next tick.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from bot.context import Services
from bot.schedule.model import at_local
from storage.ops.backup import BackupError, backup, backup_name, backups, prune

log = logging.getLogger(__name__)

# Folders being backed up now: the catch-up sweep at start and a tick may both find it due.
_running: set[Path] = set()
_warned: list[bool] = []


async def backup_if_due(services: Services, now: datetime) -> Path | None:
    """Make today's backup if it is time and it is not there yet; the new file, or None."""
    config = services.config
    if not config.backup.folder:
        return None
    if services.db.backend != "sqlite":
        # An online copy of one SQLite file; a PostgreSQL database is backed up by the
        # server's own tools (pg_dump, base backups), which its operators already run.
        if not _warned:
            log.warning("[backup] applies to SQLite only; back PostgreSQL up with pg_dump")
            _warned.append(True)
        return None
    folder = Path(config.backup.folder)
    today = now.astimezone(config.timezone).date()
    due = at_local(today, config.backup.time, config)
    if now < due or folder in _running or _done_since(folder, due):
        return None
    _running.add(folder)
    try:
        made = await backup(services.db.path, folder, now.astimezone(config.timezone))
    except (BackupError, OSError):
        log.exception("daily backup into %s failed; the next tick tries again", folder)
        return None
    finally:
        _running.discard(folder)
    for old in prune(folder, config.backup.keep):
        log.info("old backup %s deleted (keep = %d)", old.name, config.backup.keep)
    log.info("daily backup written: %s", made)
    return made


def _done_since(folder: Path, due: datetime) -> bool:
    """A backup named for a moment at or after ``due`` (names carry the local time)."""
    mark = backup_name(due.replace(tzinfo=None))
    return any(path.name >= mark for path in backups(folder))
