"""Durable intake: store every update before confirming it, then dispatch it exactly once.

PTB's own Updater confirms updates before handlers run, so a crash there loses them, and an
update it cannot parse stalls it. Here (architecture invariants 1, 2 and 4):

1. ``getUpdates`` (or the webhook) hands us raw JSON. Nothing is confirmed (the next offset,
   or the webhook's 200) before it is committed, so a crash before the commit only means that
   Telegram sends the update again.
2. The quick path (issue #15 item 4): when nothing older is waiting, the raw updates and their
   handlers' effects commit in ONE transaction (one fsync per message instead of two), then
   the updates are confirmed. A redelivered update is already in the inbox (unique update_id),
   so it is skipped.
3. The inbox-first path, as before, for the rest: an update whose handler waits on the network
   (a document to download), updates beyond the quick path's time budget, a handler that
   failed (retried, then dead-lettered) and everything behind them. They are committed to the
   inbox first, confirmed, then dispatched by the dispatch loop.
4. Either way each update is dispatched through ``Application.process_update`` inside one
   transaction (a savepoint) that also holds the handler's state changes, its outbox rows and
   the inbox row's "done" mark: all of them, or none.
5. An update PTB cannot parse is dead-lettered at once; one whose handler fails
   ``max_attempts`` times is dead-lettered with the error. Either way the loop moves on.
6. On start, every row not yet done is dispatched again, in update_id order.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ContextTypes
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.core.clock import Clock
from bot.core.metrics import Metrics
from bot.transport.progress import Progress
from storage import jsontext
from storage.db import Database
from storage.transport.inbox import InboxRepo, InboxRow, bot_key

log = logging.getLogger(__name__)

# How long the quick path may keep Telegram's confirmation waiting for one batch, in seconds.
# Updates left when it is spent are confirmed and then dispatched from the inbox, so a burst
# is not held back behind its own handlers. A handler that has started is never cut short:
# cancelling it half way is riskier than the wait it would save.
QUICK_BUDGET = 0.25
# Message parts whose handlers wait on Telegram's file server (the household sheet is
# downloaded; a voice note is when a transcriber is configured): never on the quick path.
_NETWORK_PARTS = ("document", "voice")

ALLOWED_UPDATES = [
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
    "chat_member",
    "poll",
    "poll_answer",
]


@dataclass
class _Dispatch:
    update_id: int
    error: BaseException | None = None


_dispatch: contextvars.ContextVar[_Dispatch | None] = contextvars.ContextVar(
    "gridbot_dispatch", default=None
)


class HandlerFailed(Exception):
    """A handler raised; PTB reported it to the error handler instead of to us."""


async def record_handler_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """PTB error handler: hand a handler's exception back to the dispatch that ran it."""
    current = _dispatch.get()
    if current is not None and context.error is not None:
        current.error = context.error
    else:
        log.error("error outside update dispatch", exc_info=context.error)


class Intake:
    """Owns the fetch → store → dispatch pipeline. ``start()``, then ``stop()``."""

    def __init__(
        self,
        app: Application[Any, Any, Any, Any, Any, Any],
        db: Database,
        clock: Clock,
        *,
        poll_timeout: int = 30,
        batch: int = 100,
        max_attempts: int = 3,
        metrics: Metrics | None = None,
        progress: Progress | None = None,
        quick_budget: float = QUICK_BUDGET,
    ) -> None:
        self.app = app
        self.metrics = metrics or Metrics()
        self.progress = progress or Progress()
        self.db = db
        self.inbox = InboxRepo(db, bot_key(app.bot.token))  # two bots may share the database
        self.clock = clock
        self.poll_timeout = poll_timeout
        self.batch = batch
        self.max_attempts = max_attempts
        self.quick_budget = quick_budget
        # True while the dispatch loop has nothing stored left to do: only then may the quick
        # path dispatch a new update, which would otherwise overtake older ones.
        self._idle = False
        self._work = asyncio.Event()
        self._stopping = False
        self._fetcher: asyncio.Task[None] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self.last_contact: datetime | None = None  # last getUpdates answer or webhook update
        # Set once what waited at start (left undone, or at Telegram: the first getUpdates
        # asks without waiting) is dispatched: the catch-up sweep starts then, so the first
        # replies after a restart never queue behind it (issue #15 item 5).
        self.caught_up = asyncio.Event()
        self._first_fetch_done = False

    async def start(self, *, polling: bool = True) -> None:
        """Re-dispatch what a previous run left undone, then fetch (when polling) and serve."""
        self._first_fetch_done = not polling
        self._dispatcher = asyncio.create_task(self._dispatch_loop(), name="intake-dispatch")
        self._work.set()
        if polling:
            self._fetcher = asyncio.create_task(self._fetch_loop(), name="intake-fetch")

    async def stop(self) -> None:
        """Stop fetching, finish dispatching what is stored, then return."""
        self._stopping = True
        if self._fetcher is not None:
            self._fetcher.cancel()
            await asyncio.gather(self._fetcher, return_exceptions=True)
        self._work.set()
        if self._dispatcher is not None:
            await self._dispatcher

    async def accept(self, updates: list[dict[str, Any]]) -> None:
        """Commit raw updates, and when quick their effects too (polling and webhook); the
        caller confirms them to Telegram once this returns."""
        self.last_contact = self.clock.now()
        if self._idle and not self._stopping:
            await self._accept_quick(updates, self.last_contact)
        else:
            await self.inbox.store(updates, self.last_contact)
            self._work.set()
        self.progress.notify()

    async def _accept_quick(self, updates: list[dict[str, Any]], now: datetime) -> None:
        """Store and dispatch in one transaction, in update_id order, until one update is not
        quick; it and those after it stay pending for the dispatch loop."""
        self._idle = False  # nothing may overtake these until they are committed
        left = True  # until the commit: on an error the dispatch loop looks again
        ends = asyncio.get_running_loop().time() + self.quick_budget
        try:
            async with self.db.transaction():
                new = await self.inbox.store_new(updates, now)
                done: list[int] = []
                left = False
                for raw in sorted(updates, key=lambda u: int(u["update_id"])):
                    update_id = int(raw["update_id"])
                    if update_id not in new:
                        continue  # sent again after a lost confirmation: handled already
                    new.discard(update_id)
                    if left or _waits_on_network(raw) or asyncio.get_running_loop().time() > ends:
                        left = True
                        continue
                    outcome = await self._dispatch_quick(update_id, raw, now)
                    if outcome is True:
                        done.append(update_id)
                    left = outcome is None
                    await _let_the_loop_run()
                await self.inbox.mark_done(done, now)
        finally:
            if not left:
                self._idle = True
            # Either way the dispatch loop looks: for what was left, or for an update put back
            # by `gridbot dead retry` from another process, which runs at the next update.
            self._work.set()

    async def _dispatch_quick(
        self, update_id: int, raw: dict[str, Any], now: datetime
    ) -> bool | None:
        """One attempt on the quick path: True if done, False if dead-lettered, None if the
        handler failed and the dispatch loop is to retry it."""
        try:
            update = Update.de_json(raw, self.app.bot)
        except Exception as exc:
            log.error("update %s cannot be parsed, dead-lettered: %r", update_id, exc)
            await self.inbox.mark_dead(update_id, f"unparseable: {exc!r}", now)
            return False
        cause = await self._try(update_id, update)
        if cause is None:
            return True
        self.metrics.handler_errors.inc()
        if await self.inbox.record_failure(update_id, repr(cause)[:2000], self.max_attempts, now):
            log.error("update %s dead-lettered after 1 attempt: %r", update_id, cause)
            return False
        log.warning("update %s failed (%r); retrying from the inbox", update_id, cause)
        return None

    def problem(self, now: datetime) -> str | None:
        """Why intake is not healthy (for /healthz), or None: a loop that ended, or no word
        from Telegram for longer than two long polls (a webhook bot may simply be quiet)."""
        for name, task in (("dispatch", self._dispatcher), ("fetch", self._fetcher)):
            if task is not None and task.done():
                return f"intake {name} loop stopped"
        if self._fetcher is not None:
            since = self.last_contact
            if since is not None and (now - since).total_seconds() > 2 * self.poll_timeout + 60:
                return f"no answer from getUpdates for {int((now - since).total_seconds())} s"
        return None

    async def _fetch_loop(self) -> None:
        last = await self.inbox.last_update_id()
        offset = None if last is None else last + 1
        failures = 0
        while not self._stopping:
            first = not self._first_fetch_done
            try:
                updates = await self._get_updates(offset, wait=0 if first else None)
                self.last_contact = self.clock.now()
                failures = 0
            except InvalidToken:
                self._fetched_first()
                log.critical("Telegram rejected the bot token; stopping intake")
                raise
            except (Conflict, NetworkError, TelegramError) as exc:
                self._fetched_first()  # the sweeps need not wait for Telegram to answer
                failures += 1
                delay = min(30.0, 0.5 * 2**failures)
                log.warning("getUpdates failed (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                continue
            if updates:
                await self.accept(updates)
                offset = max(int(u["update_id"]) for u in updates) + 1
            if first:
                self._fetched_first()

    def _fetched_first(self) -> None:
        if not self._first_fetch_done:
            self._first_fetch_done = True
            self._work.set()  # the dispatcher then sees an empty inbox and reports caught up

    async def _get_updates(
        self, offset: int | None, wait: int | None = None
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {
            "timeout": self.poll_timeout if wait is None else wait,
            "limit": self.batch,
            "allowed_updates": ALLOWED_UPDATES,
        }
        if offset is not None:
            params["offset"] = offset
        data = RequestData([RequestParameter.from_input(k, v) for k, v in params.items()])
        bot = self.app.bot
        result = await bot.request.post(
            f"{bot.base_url}/getUpdates",
            request_data=data,
            read_timeout=self.poll_timeout + 10,
        )
        return [u for u in result if isinstance(u, dict)] if isinstance(result, list) else []

    async def _dispatch_loop(self) -> None:
        while True:
            await self._work.wait()
            self._work.clear()
            while rows := await self.inbox.pending(limit=self.batch):
                self._idle = False  # the quick path must not overtake these
                await self._dispatch_batch(rows)
                self.progress.notify()
            # Woken again meanwhile (rows the quick path left, committed after this read
            # began): not idle until looked at again.
            if not self._work.is_set():
                self._idle = True
            if self._first_fetch_done:
                self.caught_up.set()
            if self._stopping:
                return

    async def _dispatch_batch(self, rows: list[InboxRow]) -> None:
        """Group commit: a batch of updates shares one durable commit (one fsync).

        Each update still runs in its own savepoint, so a failing update rolls back only its
        own state changes and outbox rows. The "done" marks of the updates that succeeded are
        one statement at the end, in the same transaction as their effects: a crash before
        the commit loses the whole batch's work, and the whole batch is dispatched again on
        restart, so nothing half-done ever becomes visible.
        """
        async with self.db.transaction():
            done = []
            for row in rows:
                if await self._dispatch(row):
                    done.append(row.update_id)
                await _let_the_loop_run()
            await self.inbox.mark_done(done, self.clock.now())  # one statement for the batch

    async def _dispatch(self, row: InboxRow) -> bool:
        """Dispatch one stored update, retrying at once so later updates keep their order.

        True when it succeeded: the caller marks it done in the same (batch) transaction.
        """
        try:
            update = Update.de_json(jsontext.loads(row.raw), self.app.bot)
        except Exception as exc:
            log.error("update %s cannot be parsed, dead-lettered: %r", row.update_id, exc)
            await self.inbox.mark_dead(row.update_id, f"unparseable: {exc!r}", self.clock.now())
            return False
        for attempt in range(row.attempts + 1, self.max_attempts + 1):
            cause = await self._try(row.update_id, update)
            if cause is None:
                return True
            self.metrics.handler_errors.inc()
            dead = await self.inbox.record_failure(
                row.update_id, repr(cause)[:2000], self.max_attempts, self.clock.now()
            )
            if dead:
                log.error(
                    "update %s dead-lettered after %d attempts: %r",
                    row.update_id,
                    attempt,
                    cause,
                    exc_info=cause,
                )
                return False
            log.warning("update %s failed (%r); retrying", row.update_id, cause)
        return False

    async def _try(self, update_id: int, update: Update) -> BaseException | None:
        """One attempt in one transaction; the error that rolled it back, or None."""
        current = _Dispatch(update_id)
        token = _dispatch.set(current)
        try:
            async with self.db.transaction():
                await self.app.process_update(update)
                if current.error is not None:
                    raise HandlerFailed(repr(current.error)) from current.error
        except Exception as exc:
            return current.error or exc
        finally:
            _dispatch.reset(token)
        return None


async def _let_the_loop_run() -> None:
    """Between two updates of a batch, let the event loop run what is ready (the sender's
    replies from Telegram, a getUpdates answer). The transaction's statements run without
    yielding (storage.db.Transaction), so a batch of a hundred updates would otherwise hold
    the loop for the whole batch and the sender would stand still meanwhile."""
    await asyncio.sleep(0)


def _waits_on_network(raw: dict[str, Any]) -> bool:
    message = raw.get("message") or raw.get("edited_message")
    return isinstance(message, dict) and any(part in message for part in _NETWORK_PARTS)
