"""``gridbot backup``, ``restore``, ``status`` and ``dead list | retry N | drop N`` (issue #17),
and ``rollups rebuild | check`` (issue #15 item 2).

They open the configured database directly, beside a running bot (WAL lets both in): reads see
the last commit, and a retried dead letter is dispatched by the bot like a live update — at its
next incoming update or its next start — in one transaction with its effects.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import Config
from bot.core.rendering import Renderer, local_datetime
from storage.backends import open_database
from storage.issues import rollups
from storage.ops.backup import BackupError, backup, backups, restore
from storage.ops.repo import OpsRepo
from storage.transport.inbox import adopt_unowned, bot_key

DEAD_ERROR_CHARS = 160
ROLLUP_DIFFERENCES_SHOWN = 20


def _refused(t: Renderer, error: BackupError) -> int:
    print(t.text(f"ops.backup.{error.key}", path=error.path, detail=error.detail), file=sys.stderr)
    return 1


async def backup_command(config: Config, out: Path | None) -> int:
    t = Renderer(config.locale)
    folder = out or (Path(config.backup.folder) if config.backup.folder else None)
    if folder is None:
        print(t.text("ops.backup.no_folder"), file=sys.stderr)
        return 2
    if config.storage.is_postgres:
        print(t.text("ops.backup.postgres"), file=sys.stderr)
        return 2
    try:
        made = await backup(config.storage.path, folder, datetime.now(config.timezone))
    except BackupError as error:
        return _refused(t, error)
    print(t.text("ops.backup.done", path=made, size=_size(made.stat().st_size)))
    return 0


def restore_command(config: Config, source: Path, target: Path) -> int:
    t = Renderer(config.locale)
    try:
        restore(source, target)
    except BackupError as error:
        return _refused(t, error)
    print(t.text("ops.backup.restored", source=source, target=target))
    return 0


async def status_command(config: Config) -> int:
    """One screen for whoever looks after the bot: queues, dead letters, backups."""
    t = Renderer(config.locale)
    now = datetime.now(UTC)
    db = await open_database(config.storage.database)
    try:
        repo = OpsRepo(db, bot_key(config.telegram.token))
        queues = await repo.queues()
        backlog = await repo.backlog_by_chat(5)
        dead = await repo.inbox.dead()
        last_sweep = await repo.last_sweep()
    finally:
        await db.close()
    when = _when(t, config)
    lines = [t.text("ops.status.title", community=config.display_name)]
    lines.append(
        t.text(
            "ops.status.updates",
            pending=queues.inbox.get("pending", 0),
            done=queues.inbox.get("done", 0),
            dead=queues.inbox.get("dead", 0),
        )
    )
    oldest = "-" if queues.oldest_pending is None else _age(t, now - queues.oldest_pending)
    lines.append(
        t.text(
            "ops.status.outbox",
            pending=queues.outbox.get("pending", 0),
            sent=queues.outbox.get("sent", 0),
            dead=queues.outbox.get("dead", 0),
            oldest=oldest,
        )
    )
    lines += [t.text("ops.status.backlog", chat=b.chat_id, count=b.pending) for b in backlog]
    lines.append(t.text("ops.status.unreachable", count=queues.unreachable_chats))
    lines += [
        t.text(
            "ops.status.dead_line",
            id=d.update_id,
            at=when(d.finished_at or d.received_at),
            error=d.error[:DEAD_ERROR_CHARS],
        )
        for d in dead
    ]
    lines.append(t.text("ops.status.sweep", at=when(last_sweep) if last_sweep else "-"))
    storage = config.storage
    lines.append(
        t.text(
            "ops.status.database",
            path=_safe_url(storage.url) if storage.is_postgres else storage.path,
            size="-" if storage.is_postgres else _size(_db_size(storage.path)),
        )
    )
    found = backups(Path(config.backup.folder)) if config.backup.folder else []
    lines.append(
        t.text("ops.status.backup", last=found[-1].name if found else "-", count=len(found))
    )
    print("\n".join(lines))
    return 0


async def dead_command(config: Config, action: str, update_id: int | None) -> int:
    t = Renderer(config.locale)
    db = await open_database(config.storage.database)
    try:
        key = bot_key(config.telegram.token)
        await adopt_unowned(
            db, key
        )  # rows from before 0025 are this bot's (the bot does it at start)
        repo = OpsRepo(db, key)
        if action == "list":
            dead = await repo.inbox.dead()
            when = _when(t, config)
            for d in dead:
                print(
                    t.text(
                        "ops.status.dead_line",
                        id=d.update_id,
                        at=when(d.finished_at or d.received_at),
                        error=d.error,
                    )
                )
            if not dead:
                print(t.text("ops.dead.none"))
            return 0
        assert update_id is not None
        changed = (
            await repo.inbox.retry(update_id)
            if action == "retry"
            else await repo.inbox.drop(update_id, datetime.now(UTC))
        )
    finally:
        await db.close()
    if not changed:
        print(t.text("ops.dead.not_dead", id=update_id), file=sys.stderr)
        return 1
    print(t.text(f"ops.dead.{action}_done", id=update_id))
    return 0


async def rollups_command(config: Config, action: str) -> int:
    """Rebuild the rollups from the issues, events and slips (days in the config's zone), or
    check them against that computation: exit status 1 on any difference."""
    t = Renderer(config.locale)
    db = await open_database(config.storage.database)
    try:
        if action == "rebuild":
            started = time.perf_counter()
            await rollups.rebuild(db, config.timezone)
            rows = await rollups.row_count(db)
            seconds = f"{time.perf_counter() - started:.1f}"
            print(t.text("ops.rollups.rebuilt", rows=rows, zone=config.timezone.key, s=seconds))
            return 0
        kept_in = await rollups.zone_of(db)
        found = await rollups.differences(db)
        rows = await rollups.row_count(db)
    finally:
        await db.close()
    if kept_in != config.timezone.key:
        print(t.text("ops.rollups.other_zone", kept=kept_in, zone=config.timezone.key))
    if not found:
        print(t.text("ops.rollups.equal", rows=rows))
        return 0
    print(t.text("ops.rollups.different", count=len(found)), file=sys.stderr)
    for d in found[:ROLLUP_DIFFERENCES_SHOWN]:
        line = t.text(
            "ops.rollups.difference",
            table=d.table,
            key=" / ".join(d.key),
            counter=d.counter,
            kept=d.kept,
            naive=d.naive,
        )
        print(line, file=sys.stderr)
    return 1


def _when(t: Renderer, config: Config) -> Callable[[datetime], str]:
    def when(moment: datetime) -> str:
        return local_datetime(t, "ops.when", moment, config.timezone) or "-"

    return when


def _age(t: Renderer, span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return t.text("ops.age.seconds", n=seconds)
    if seconds < 7200:
        return t.text("ops.age.minutes", n=seconds // 60)
    return t.text("ops.age.hours", n=seconds // 3600)


def _db_size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def _size(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{size / 1024:.0f} KB"


def _safe_url(url: str) -> str:
    """The database URL without a password, for the status screen."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    return f"{scheme}://{credentials.split(':', 1)[0]}{at}{host}" if at else url


async def migrate_db_command(source: str, target: str, *, force: bool, locale: str) -> int:
    """``gridbot migrate-db``: the bot must be stopped (its database is read as it is)."""
    from storage.backends import is_postgres, sqlite_path
    from storage.backends.copy import TargetNotEmpty, migrate

    t = Renderer("en" if locale == "en" else "zh_CN")
    if not source.startswith("sqlite:///") or not is_postgres(target):
        print(t.text("ops.migrate.usage"), file=sys.stderr)
        return 2
    path = sqlite_path(source)
    if not path.is_file():
        print(t.text("ops.backup.no_database", path=path), file=sys.stderr)
        return 2
    try:
        copies = await migrate(path, target, force=force)
    except TargetNotEmpty as refused:
        print(t.text("ops.migrate.not_empty", tables=", ".join(refused.tables)), file=sys.stderr)
        return 1
    for copy in copies:
        print(
            t.text(
                "ops.migrate.table" if copy.ok else "ops.migrate.mismatch",
                table=copy.table,
                rows=copy.source_rows,
                target_rows=copy.target_rows,
                checksum=copy.source_checksum[:16],
                target_checksum=copy.target_checksum[:16],
            )
        )
    bad = [c.table for c in copies if not c.ok]
    total = sum(c.source_rows for c in copies)
    key = "ops.migrate.failed" if bad else "ops.migrate.done"
    print(
        t.text(key, tables=len(copies), rows=total, bad=", ".join(bad), target=_safe_url(target))
    )
    return 1 if bad else 0
