"""The newest open issues of each grid, as duplicate detection reads them, kept in memory.

Why: every report compares itself with up to a hundred open issues of its grid, and reading
them (a hundred rows with their text) was a third of duplicate detection's CPU in the ingest
benchmark (issue #15 item 6), while between two reports of a grid the answer changes only by
the issue the first one created. So the rows are read once per grid and then followed:

- a new issue is added at the front of its grid's list (the newest number; IssueRepo.create);
- any other change that could move an issue in or out of the lists or change what is
  compared (state, grid, category, building, text, or a text erased by /forget) drops every
  grid's list, which is read again at the next report;
- a rollback of a transaction or savepoint that changed issues drops them too
  (Transaction.on_rollback), so a list never holds an issue that was undone;
- only a read inside the write transaction is kept (the writer's connection, and in this
  process one write transaction at a time: it sees every commit and its own writes), and only
  when nothing changed while it ran.

One cache per database object, i.e. per process: it assumes that issues are written only by
this process's bot, which holds for the bot's grids (another bot on a shared PostgreSQL
database serves other communities, and `gridbot` commands do not write issues).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from weakref import WeakKeyDictionary

from storage.clock import from_db
from storage.db import Transaction

# Columns whose change may move an issue in or out of a grid's list or change how it compares.
WATCHED: Final = frozenset({"state", "grid", "category", "building", "description"})

Candidate = tuple[int, str, "str | None", str]  # number, category, building, description


@dataclass
class _Grid:
    since: datetime  # the window the rows were read for
    limit: int
    complete: bool  # fewer than ``limit`` came back: every open issue since ``since`` is here
    rows: list[tuple[Candidate, datetime]]  # newest first, with each one's reported_at
    oldest: datetime  # no row was reported before this


@dataclass
class OpenIssues:
    grids: dict[str, _Grid] = field(default_factory=dict)
    version: int = 0  # moves on every change: a read that spans one is not kept

    def read(self, grid: str, since: datetime, limit: int) -> list[Candidate] | None:
        """The newest ``limit`` open issues of ``grid`` reported since ``since``, as the query
        would give them; None when the memory cannot tell (not read yet, an older window,
        a larger limit, or issues aged out of a list that was cut at its limit)."""
        held = self.grids.get(grid)
        if held is None or since < held.since or limit > held.limit:
            return None
        rows = held.rows
        if held.oldest < since:  # some may have aged out of the window
            if not held.complete:
                return None  # older ones beyond the cut might be in the window still
            rows = held.rows = [row for row in rows if row[1] >= since]
            held.since = held.oldest = since
        return [candidate for candidate, _ in rows[:limit]]

    def keep(
        self, grid: str, since: datetime, limit: int, rows: Sequence[Sequence[Any]], version: int
    ) -> None:
        """Remember what the query returned, unless something changed since it began."""
        if version != self.version:
            return
        held = [((r[0], r[1], r[2], r[3]), from_db(r[4])) for r in rows]
        oldest = min((at for _, at in held), default=since)
        self.grids[grid] = _Grid(since, limit, len(rows) < limit, held, oldest)

    def created(self, grid: str, candidate: Candidate, reported_at: datetime) -> None:
        """A new issue (open, the newest number) joins its grid's list."""
        self.version += 1
        held = self.grids.get(grid)
        if held is None:
            return
        if reported_at < held.since:  # not in the window (a back-dated import): read again
            del self.grids[grid]
            return
        held.rows.insert(0, (candidate, reported_at))
        if len(held.rows) > held.limit:
            del held.rows[held.limit :]
            held.complete = False

    def forget(self) -> None:
        """Something else changed: every grid is read again."""
        self.version += 1
        self.grids.clear()


_caches: WeakKeyDictionary[object, OpenIssues] = WeakKeyDictionary()


def open_issues(db: object) -> OpenIssues:
    """The cache of ``db`` (a Database: the cache lives and goes with it)."""
    cache = _caches.get(db)
    if cache is None:
        cache = _caches[db] = OpenIssues()
    return cache


def issues_changed(db: object, tx: Transaction) -> None:
    """Issues were changed in ``tx`` other than by creating one: read every grid again, and
    again should ``tx`` (or the savepoint this runs in) roll back."""
    cache = open_issues(db)
    cache.forget()
    tx.on_rollback(cache.forget)
