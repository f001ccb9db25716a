"""The suite on PostgreSQL (issue #16): one test command runs it on SQLite, then once more with
every database a fresh PostgreSQL database, when a server is given.

- ``GRIDBOT_TEST_DATABASE=postgresql://user@host:port/postgres`` names a server (and a
  database to connect to for creating others). Unset: the PostgreSQL run is skipped with a
  message; ``GRIDBOT_REQUIRE_POSTGRES=1`` (CI) turns that into a failure.
- The second run is a second pytest process with ``GRIDBOT_TEST_BACKEND=postgresql`` and the
  same arguments; ``GRIDBOT_TEST_BACKEND=sqlite`` runs SQLite alone.
- In that run :meth:`Database.open` of a path opens a PostgreSQL database named after the path
  (so a test that reopens its file reopens its database), cloned from a migrated template
  (``CREATE DATABASE … TEMPLATE``: a file copy on the server, as the SQLite run copies a file);
  it is dropped when the test ends.
- ``tests/postgres_pending.txt`` lists the tests that do not pass on PostgreSQL yet (xfail,
  with the reason) and those that test SQLite itself (skipped there).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from storage.db import Database

SERVER = os.environ.get("GRIDBOT_TEST_DATABASE", "")
ACTIVE = bool(SERVER) and os.environ.get("GRIDBOT_TEST_BACKEND") == "postgresql"
REQUIRED = os.environ.get("GRIDBOT_REQUIRE_POSTGRES") == "1"
PENDING_FILE = Path(__file__).resolve().parent.parent / "postgres_pending.txt"

_TAG = f"{os.getpid()}"
TEMPLATE = f"gridbot_tpl_{_TAG}"


def url_for(name: str) -> str:
    return SERVER.rsplit("/", 1)[0] + "/" + name


def database_name(path: Path | str) -> str:
    digest = hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:16]
    return f"gridbot_t_{_TAG}_{digest}"


async def _admin(statements: list[str]) -> None:
    import asyncpg

    conn = await asyncpg.connect(SERVER)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _exists(name: str) -> bool:
    import asyncpg

    conn = await asyncpg.connect(SERVER)
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


def configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: tests SQLite itself (files, pragmas); not run on PostgreSQL"
    )


def make_template() -> None:
    """The migrated template database of this worker, made by the real PgDatabase.open."""
    from storage.backends.postgres import PgDatabase

    async def make() -> None:
        await _admin([f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"])
        await _admin([f"CREATE DATABASE {TEMPLATE}"])
        db = await PgDatabase.open(url_for(TEMPLATE))
        await db.close()

    asyncio.run(make())


def open_databases_on_postgres(request: pytest.FixtureRequest, mp: pytest.MonkeyPatch) -> None:
    from storage.backends.postgres import PgDatabase

    created: list[str] = []
    fresh = request.node.get_closest_marker("fresh_schema") is not None

    async def open_on_postgres(
        cls: type[Database], path: Path | str, *, migrations: Any = None
    ) -> Database:
        name = database_name(path)
        if name not in created and not await _exists(name):
            template = "" if fresh or migrations is not None else f" TEMPLATE {TEMPLATE}"
            await _admin([f"CREATE DATABASE {name}{template}"])
            created.append(name)
        db = await PgDatabase.open(url_for(name), migrations=migrations)
        db.path = Path(path)  # what the test named it (logs, the backups' folder)
        return db

    def drop() -> None:
        if created:
            asyncio.run(_admin([f"DROP DATABASE IF EXISTS {n} WITH (FORCE)" for n in created]))

    request.addfinalizer(drop)
    mp.setattr(Database, "open", classmethod(open_on_postgres))


def _pending() -> list[tuple[str, str, str]]:
    """(kind, node id prefix, reason) from tests/postgres_pending.txt."""
    found = []
    for line in PENDING_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, node, *reason = line.split(None, 2)
        found.append((kind, node, reason[0] if reason else ""))
    return found


def mark_pending(items: list[pytest.Item]) -> None:
    if not ACTIVE:
        return
    pending = _pending()
    for item in items:
        if item.get_closest_marker("sqlite_only") is not None:
            item.add_marker(pytest.mark.skip(reason="tests SQLite itself"))
            continue
        for kind, node, reason in pending:
            if item.nodeid == node or item.nodeid.startswith(node + "::"):
                if kind == "skip":
                    item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))
                else:
                    item.add_marker(pytest.mark.xfail(reason=f"PostgreSQL: {reason}"))
                break


def _reachable() -> str | None:
    """None when the server answers, else why not."""
    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(SERVER, timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def run_second_session(session: pytest.Session) -> None:
    """After the SQLite run (in the controlling process), the same tests on PostgreSQL."""
    config = session.config
    if hasattr(config, "workerinput") or os.environ.get("GRIDBOT_TEST_BACKEND"):
        return
    if getattr(config.option, "collectonly", False):
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")

    def say(text: str, **markup: bool) -> None:
        if reporter is not None:
            reporter.write("\n")  # the progress line ends without one
            reporter.write_line(text, **markup)

    why = "GRIDBOT_TEST_DATABASE is not set" if not SERVER else _reachable()
    if why is not None:
        if REQUIRED:
            say(f"PostgreSQL run FAILED to start: {why}", red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        else:
            say(
                f"PostgreSQL run skipped: {why} (set GRIDBOT_TEST_DATABASE="
                "postgresql://user@127.0.0.1:5432/postgres to run the suite on it too)",
                yellow=True,
            )
        return
    say("== the same tests on PostgreSQL (GRIDBOT_TEST_BACKEND=postgresql)", bold=True)
    env = {**os.environ, "GRIDBOT_TEST_BACKEND": "postgresql"}
    args = [sys.executable, "-m", "pytest", *config.invocation_params.args]
    result = subprocess.run(args, env=env, cwd=config.invocation_params.dir, check=False)
    if result.returncode not in (0, 5):  # 5: nothing collected
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


async def database_for_processes(path: Path) -> str:
    """A fresh migrated database for bots run as processes of their own (which open what
    their config names, not what this process patched): its URL. Dropped by
    :func:`drop_database`."""
    name = database_name(path)
    await _admin([f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
    await _admin([f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}"])
    return url_for(name)


async def drop_database(url: str) -> None:
    await _admin([f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[-1]} WITH (FORCE)"])


async def fetch(url: str, sql: str) -> list[tuple[Any, ...]]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def stored_text(db: Database) -> bytes:
    """Every row of every table as text: what a PostgreSQL database holds for an erasure test
    to search (the SQLite tests read the files' bytes; PostgreSQL's files are the server's,
    and old row versions there are reclaimed by VACUUM, not scrubbed)."""
    from storage.backends.postgres import PgDatabase

    assert isinstance(db, PgDatabase)
    parts: list[str] = []
    async with db.connection() as conn:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
        for (table,) in tables:
            parts += [r[0] for r in await conn.fetch(f'SELECT CAST(t AS TEXT) FROM "{table}" t')]
    return "\n".join(parts).encode()
