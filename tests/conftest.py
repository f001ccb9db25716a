"""Settings for the whole suite."""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import sys
from pathlib import Path

import pytest

import storage.db
import storage.transport.sent_log
from storage.db import Database
from tests.support import postgres as pg_support
from tests.support import scheduling

if sys.dont_write_bytecode and sys.pycache_prefix is None:
    # PYTHONDONTWRITEBYTECODE=1 (as in some shells and containers) made every pytest process
    # compile the bot and have pytest rewrite each of ~150 test modules again, every run:
    # 4.7 s of CPU per process instead of 2.0 s, paid by each xdist worker (issue #12 item 6).
    # The compiled files go to a folder of pytest's own cache instead of __pycache__ beside
    # the sources, which is what that setting keeps clean.
    sys.pycache_prefix = str(Path(__file__).resolve().parent.parent / ".pytest_cache" / "pyc")
    sys.dont_write_bytecode = False
    # So do the Python processes the tests start (the CLI, the crash test's bots, import
    # checks, pytest-xdist's workers): each compiled the bot again, 0.1-0.2 s of CPU apiece.
    os.environ["PYTHONPYCACHEPREFIX"] = sys.pycache_prefix
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def pytest_configure(config: pytest.Config) -> None:
    pg_support.configure(config)
    config.addinivalue_line(
        "markers", "durable: open databases as gridbot does in production (synchronous=FULL)"
    )
    config.addinivalue_line(
        "markers",
        "fresh_schema: every database the test opens applies the migrations itself, one by "
        "one, instead of starting from a copy of the migrated template",
    )


@pytest.fixture(autouse=True)
def _commits_without_fsync(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commits reach the operating system, not the platters: a test never cuts the power, and
    on this shared machine each fsync waited on everyone's disk (5 of the 14 s the service
    and storage tests spent waiting; issue #12 item 6). A killed process still loses nothing
    (WAL); the crash test runs its bots in processes of their own, with production settings.
    OFF, not NORMAL: NORMAL still syncs at every checkpoint, at a database's close and when a
    new sent log turns to WAL (10-15 ms each here, a few per end-to-end test); the end-to-end,
    transport and storage tests (`-n 0`) waited 4.9-5.1 s instead of 6.1-6.3 s."""
    if request.node.get_closest_marker("durable") is None:
        monkeypatch.setattr(storage.db, "SYNCHRONOUS", "OFF")
        monkeypatch.setattr(storage.transport.sent_log, "SYNCHRONOUS", "OFF")


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database file with every migration applied, made once per session (per worker)
    by the real :meth:`Database.open` (on PostgreSQL also a template database)."""
    if pg_support.ACTIVE:
        pg_support.make_template()

    async def make(path: Path) -> None:
        db = await Database.open(path)
        await db.close()

    path = tmp_path_factory.mktemp("template") / "migrated.sqlite3"
    asyncio.run(make(path))
    return path


@pytest.fixture(autouse=True)
def _databases_start_migrated(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, _migrated_template: Path
) -> None:
    """A new database file starts as a copy of the migrated template: applying 18 migrations
    statement by statement cost each test that opens a database about 35 ms of CPU, ~700
    times a run (issue #12 item 6). The copy is a real SQLite file; :meth:`Database.open`
    still runs on it and finds nothing to apply. Tests of the migrations themselves (a
    folder of their own, or ``fresh_schema``) start from nothing as before."""
    if pg_support.ACTIVE:
        pg_support.open_databases_on_postgres(request, monkeypatch)
        return
    if request.node.get_closest_marker("fresh_schema") is not None:
        return
    real_open = Database.open.__func__  # type: ignore[attr-defined]

    async def open_from_template(
        cls: type[Database], path: Path | str, *, migrations: object = None
    ) -> Database:
        if migrations is None:
            _copy_unless_present(_migrated_template, Path(path))
        return await real_open(cls, path, migrations=migrations)  # type: ignore[no-any-return]

    monkeypatch.setattr(Database, "open", classmethod(open_from_template))


def _copy_unless_present(template: Path, target: Path) -> None:
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, target)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    pg_support.mark_pending(items)
    scheduling.check_groups(items)
    scheduling.slow_first(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection imported (the bot, PTB, aiohttp, the test modules) lives until the
    process ends: frozen, the collector's full passes no longer walk it. GC time of the
    service and storage tests (`-n 0`) 0.70-0.73 s → 0.36-0.42 s."""
    gc.collect()
    gc.freeze()


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Our own distribution for ``--dist loadgroup`` (tests/support/scheduling.py)."""
    if config.getoption("dist") != "loadgroup":
        return None
    return scheduling.make_scheduler(config, log)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    pg_support.run_second_session(session)
