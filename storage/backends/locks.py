"""Several processes on one PostgreSQL database (issue #16): who may do what, by advisory lock.

- **A bot's intake has one consumer.** The process serving a bot token holds a session-level
  advisory lock keyed on the bot's id (:func:`hold_lease`) on a connection of its own, for its
  whole life. A second process for the same bot waits for that lock as a hot standby, asking
  every ``poll`` seconds; PostgreSQL releases a session lock the moment the holder's
  connection ends, so when the active process dies (SIGKILL included: its socket closes) the
  standby takes over within about one poll. Everything the dead process had committed is in
  the database; what it had not, Telegram delivers again (intake confirms only after commit).
- **A sweep runs once per tick** across every process on the database (:func:`sweep_turn`):
  whoever gets the lock sweeps, the others skip that tick; the sweeps' own records
  (schedule_runs) already keep a notice from being sent twice across ticks.

On SQLite there is one process per database file, so both always say yes.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from storage.db import Database

log = logging.getLogger(__name__)

LEASE_POLL_SECONDS = 1.0


def lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for ``name``, the same in every process."""
    return int.from_bytes(hashlib.sha256(f"gridbot:{name}".encode()).digest()[:8], signed=True)


class Lease:
    """An advisory lock held on a connection of its own until :meth:`release`."""

    def __init__(self, conn: Any, key: int) -> None:
        self._conn = conn
        self.key = key
        self._released = False

    async def release(self) -> None:
        if not self._released:
            self._released = True
            await self._conn.close()  # ends the session, and with it the lock

    def _lost(self, _conn: object) -> None:
        if self._released:
            return
        # The lock went with the connection: another process may be taking over right now, so
        # this one must stop consuming at once. Exiting is safe by design (every effect is
        # committed with its update) and the service manager starts this process again, as
        # a standby.
        log.critical("lost the intake lock (database connection ended); exiting")
        os._exit(75)


async def hold_lease(
    db: Database,
    name: str,
    *,
    poll: float = LEASE_POLL_SECONDS,
    waiting: Callable[[], None] | None = None,
) -> Lease | None:
    """Wait until this process holds the lock ``name``; None on SQLite (nothing to share)."""
    if db.backend != "postgresql":
        return None
    from storage.backends.postgres import PgDatabase

    assert isinstance(db, PgDatabase)
    key = lock_key(name)
    conn = await db.fresh_connection()
    told = False
    try:
        while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
            if not told and waiting is not None:
                waiting()
                told = True
            await asyncio.sleep(poll)
    except BaseException:
        await conn.close()
        raise
    lease = Lease(conn, key)
    conn.add_termination_listener(lease._lost)
    return lease


@asynccontextmanager
async def sweep_turn(db: Database, name: str = "sweeps") -> AsyncIterator[bool]:
    """True when this process sweeps this tick (nobody else is), held until the block ends."""
    if db.backend != "postgresql":
        yield True
        return
    from storage.backends.postgres import PgDatabase

    assert isinstance(db, PgDatabase)
    key = lock_key(name)
    async with db.connection() as conn:
        mine = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))
        try:
            yield mine
        finally:
            if mine:
                await conn.execute("SELECT pg_advisory_unlock($1)", key)
