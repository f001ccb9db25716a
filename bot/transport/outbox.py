"""Durable outbox: queue what people must receive, then deliver it within Telegram's limits.

Queueing (:class:`Outbox`) writes rows in the caller's transaction, so a message exists exactly
when the state change that caused it does (architecture invariant 3). The :class:`Sender` task
delivers rows at least once: a crash between Telegram's answer and the "sent" mark may repeat a
message, never lose one. That window is one write: the mark goes to the sent log
(storage.transport.sent_log) right after Telegram answers, without waiting behind intake's
write transaction, so a crash repeats only the sends in flight at that moment (issue #13
item 1). Per chat, rows go out in the order they were queued.

How each failure is handled:
- 429 RetryAfter: pause that chat for ``retry_after`` and try the row again; not a failed attempt.
- 403 Forbidden (user blocked the bot, bot removed from a group) and 400 "chat not found" (a
  deleted account, a chat the bot never had): the chat is recorded as unreachable and every
  pending row to it stops, with one warning (not an error per row).
- 400 ChatMigrated (group upgraded to a supergroup): rows follow the chat to its new id.
- 400 BadRequest: the row is dead-lettered with Telegram's reason. "Message is not modified"
  (an edit that changes nothing: a /note, a double tap) counts as delivered.
- Network errors and time-outs: retried with exponential backoff, capped, never given up on,
  because the message is still owed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from telegram import Bot, InputFile
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.core.clock import Clock
from bot.core.metrics import Metrics
from bot.transport.html_split import split_html
from bot.transport.progress import Progress
from bot.transport.ratelimit import Limits, RateLimiter
from storage.db import Database, Transaction, current_transaction
from storage.transport.outbox import OutboxRepo, OutboxRow
from storage.transport.sent_log import SentLog

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0
_ATTACHMENT_FIELD = {"sendDocument": "document", "sendPhoto": "photo"}


class Outbox:
    """Queues messages in the current transaction; the sender is woken after commit."""

    def __init__(
        self,
        db: Database,
        repo: OutboxRepo,
        clock: Clock,
        wake: Callable[[], None],
        queued: Callable[[], None] | None = None,
    ):
        self.db = db
        self.repo = repo
        self.clock = clock
        self._wake = wake  # rows changed: the sender reads them all again
        self._queued = queued or wake  # rows were only added (Sender.queued)

    async def send_message(
        self,
        chat_id: int,
        text: str,
        *,
        reply_markup: dict[str, Any] | None = None,
        reply_to: int | None = None,
        ref: str | None = None,
        silent: bool = False,
    ) -> None:
        """Queue a Telegram-HTML message; text over 4096 characters becomes several messages.

        Buttons go on the last part, and ``ref`` names the last part, so a later edit finds
        the message that carries the buttons.
        """
        parts = split_html(text)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            payload: dict[str, Any] = {"chat_id": chat_id, "text": part, "parse_mode": "HTML"}
            payload["link_preview_options"] = {"is_disabled": True}
            if last and reply_markup is not None:
                payload["reply_markup"] = reply_markup
            if index == 0 and reply_to is not None:
                payload["reply_parameters"] = {
                    "message_id": reply_to,
                    "allow_sending_without_reply": True,
                }
            if silent:
                payload["disable_notification"] = True
            await self.queue(chat_id, "sendMessage", payload, ref=ref if last else None)

    async def edit_message(
        self,
        ref: str,
        chat_id: int,
        text: str,
        *,
        reply_markup: dict[str, Any] | None = None,
        coalesce: bool = False,
    ) -> None:
        """Queue an edit of the message sent under ``ref`` (resolved when the edit is sent).

        With ``coalesce``, an edit of the same message still waiting to go out is replaced
        by this one: a burst of taps on a busy group's list becomes one edit, within
        Telegram's 20-a-minute group limit, and the last state always wins.
        """
        payload: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
        payload["message_ref"] = ref
        if reply_markup is not None:
            payload["reply_markup"] = reply_markup
        if not coalesce:
            await self.queue(chat_id, "editMessageText", payload)
            return
        key = f"edit:{ref}"
        async with self.db.transaction() as tx:
            if not await self.repo.revise_pending(key, payload):
                await self.queue(chat_id, "editMessageText", payload, ref=key)
            tx.after_commit(self._wake)

    async def send_document(
        self, chat_id: int, data: bytes, filename: str, *, caption: str | None = None
    ) -> None:
        payload: dict[str, Any] = {"chat_id": chat_id}
        if caption:
            payload.update(caption=caption, parse_mode="HTML")
        await self.queue(chat_id, "sendDocument", payload, attachment=(data, filename))

    async def send_photo(
        self, chat_id: int, photo: str | bytes, *, caption: str | None = None
    ) -> None:
        """``photo`` is a Telegram file_id (a resident's photo) or image bytes (a chart)."""
        payload: dict[str, Any] = {"chat_id": chat_id}
        if caption:
            payload.update(caption=caption, parse_mode="HTML")
        if isinstance(photo, str):
            payload["photo"] = photo
            await self.queue(chat_id, "sendPhoto", payload)
        else:
            await self.queue(chat_id, "sendPhoto", payload, attachment=(photo, "chart.png"))

    async def send_voice(self, chat_id: int, file_id: str, *, caption: str | None = None) -> None:
        """A voice note by Telegram file_id (a resident's, passed on)."""
        payload: dict[str, Any] = {"chat_id": chat_id, "voice": file_id}
        if caption:
            payload.update(caption=caption, parse_mode="HTML")
        await self.queue(chat_id, "sendVoice", payload)

    async def send_media_group(
        self, chat_id: int, photos: Sequence[str], *, caption: str | None = None
    ) -> None:
        """An album of 2-10 photos by Telegram file_id; ``caption`` goes under the first."""
        media: list[dict[str, Any]] = [{"type": "photo", "media": file_id} for file_id in photos]
        if caption and media:
            media[0].update(caption=caption, parse_mode="HTML")
        await self.queue(chat_id, "sendMediaGroup", {"chat_id": chat_id, "media": media})

    async def send_place(
        self,
        chat_id: int,
        latitude: float,
        longitude: float,
        *,
        title: str | None = None,
        address: str | None = None,
    ) -> None:
        """A map pin the person can open: a venue when it has a title, else a location."""
        payload: dict[str, Any] = {"chat_id": chat_id, "latitude": latitude}
        payload["longitude"] = longitude
        if title:
            payload.update(title=title, address=address or "")
            await self.queue(chat_id, "sendVenue", payload)
        else:
            await self.queue(chat_id, "sendLocation", payload)

    # -- what was delivered (presenters ask here, never the repository) ------------------------

    async def message_of(self, ref: str) -> tuple[int, int] | None:
        """(chat_id, message_id) of the newest message delivered under ``ref``; None if none."""
        return await self.repo.message_id_for(ref)

    async def delivered(self, refs: Sequence[str]) -> set[str]:
        """Those of ``refs`` under which a message was delivered (one query for all)."""
        return await self.repo.sent_refs(refs)

    async def has_reached(self, chat_id: int) -> bool:
        """Whether any message was ever delivered to ``chat_id``."""
        return await self.repo.has_delivered_to(chat_id)

    async def queue(
        self,
        chat_id: int,
        method: str,
        payload: dict[str, Any],
        *,
        ref: str | None = None,
        attachment: tuple[bytes, str] | None = None,
    ) -> None:
        """Queue any Bot API call (also those without a helper here: sendPoll, stopPoll) in
        the caller's transaction; the sender is woken once it commits."""
        tx = current_transaction()
        if tx is None:
            async with self.db.writing() as tx:
                self._queue_in(tx, chat_id, method, payload, ref, attachment)
        else:  # the commonest case (a handler's reply), without a context manager's cost
            self._queue_in(tx, chat_id, method, payload, ref, attachment)

    def _queue_in(
        self,
        tx: Transaction,
        chat_id: int,
        method: str,
        payload: dict[str, Any],
        ref: str | None,
        attachment: tuple[bytes, str] | None,
    ) -> None:
        self.repo.enqueue_in(
            tx,
            chat_id,
            method,
            payload,
            self.clock.now(),
            ref=ref,
            attachment=attachment[0] if attachment else None,
            attachment_name=attachment[1] if attachment else None,
        )
        tx.after_commit(self._queued)


MARK_DELAY = 0.05  # seconds delivered rows wait to be folded into the outbox together
RELOAD_WINDOW = 1000  # pending rows held in memory at most
# ... and per chat: one chat's backlog (2,650 slip reminders to one secretary, who may get one
# message a second) is read a few at a time, not held whole (memory benchmark). Forty, not ten:
# a busy group's queue ran dry every ten sends, and each refill is a query and its rows'
# decoding (469 refills per 3,000 messages in the ingest benchmark, issue #15 item 6).
RELOAD_PER_CHAT = 40
# After this many loads of new rows only, one full reload: a backstop for a row the ranges
# could miss (on PostgreSQL another process's insert may commit after a higher id was read).
FULL_RELOAD_EVERY = 50


class Sender:
    """The one task that delivers outbox rows. ``start()``, then ``stop()`` drains and ends."""

    def __init__(
        self,
        bot: Bot,
        repo: OutboxRepo,
        clock: Clock,
        limits: Limits,
        *,
        concurrency: int = 8,
        max_attempts: int = 8,
        backoff: float = 2.0,
        metrics: Metrics | None = None,
    ) -> None:
        self.bot = bot
        self.metrics = metrics or Metrics()
        self.repo = repo
        self.clock = clock
        self.limiter = RateLimiter(limits)
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.backoff = backoff
        self._event = asyncio.Event()
        self._inflight: dict[int, asyncio.Task[None]] = {}  # chat_id -> its one send
        # The last round left a due row waiting because ``concurrency`` sends were in flight:
        # a finishing send then hands its place over instead of going on with its chat.
        self._slot_wanted = False
        self._reloading = False
        self._finished: set[int] = set()  # rows settled since the current round began
        # Rows whose send failed and that wait in the database for a retry: not settled, so a
        # reload that ran meanwhile keeps them at the head of their chat's queue.
        self._postponed: set[int] = set()
        # Pending rows per chat, in queue order, loaded only when the database changed
        # (wake): a delivered row is taken off here, so a send needs no query (issue #7).
        self._queues: dict[int, deque[OutboxRow]] = {}
        self._stale = True
        # Rows were only added since the last load (Outbox.queue): reading the rows above
        # ``_high``, the highest id read so far, is enough. A full reload ranks every pending
        # row per chat (a window over the whole backlog: ~10 ms at 3,000 pending rows, a
        # third of the bot's database CPU in the ingest bench); this reads a key range.
        self._fresh = False
        self._high = 0
        self._increments = 0  # loads of new rows since the last full one
        self._partial = False  # the last load stopped at RELOAD_WINDOW rows
        self._capped: set[int] = set()  # chats whose load stopped at RELOAD_PER_CHAT rows
        self._dry: set[int] = set()  # capped chats whose queue ran dry: read their next rows
        # Delivered rows, marked in the sent log but not yet in the outbox table: the outbox
        # marks are written in batches by one task, so delivery never waits for the
        # database's single writer.
        self._delivered: dict[int, tuple[OutboxRow, int | None]] = {}
        self._sent_log: SentLog | None = None
        self._marks_due = asyncio.Event()
        self._marker: asyncio.Task[None] | None = None
        self._unreachable: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.progress = Progress()  # a send settled, marks were folded (GridBot.wait_idle)

    def wake(self) -> None:
        """Outbox rows were added or changed: reload them before the next round."""
        self._stale = True
        self._event.set()

    def queued(self) -> None:
        """Outbox rows were added (and nothing else changed): read the new ones before the
        next round."""
        self._fresh = True
        self._event.set()

    def is_unreachable(self, chat_id: int) -> bool:
        return chat_id in self._unreachable

    async def reachable_again(self, chat_id: int) -> None:
        """A user who had blocked the bot wrote to it again (or the bot is back in a group).
        Recorded in the caller's transaction; the sender follows once that commits, so an
        update that fails and is retried clears the record again."""
        if chat_id in self._unreachable:
            async with self.repo.db.writing() as tx:
                await self.repo.mark_reachable(chat_id)
                tx.after_commit(lambda: self._unreachable.discard(chat_id))

    async def start(self) -> None:
        self._sent_log = await SentLog.open(self.repo.db)
        await self._fold_sent_log()
        self._unreachable = await self.repo.unreachable_chats()
        self._task = asyncio.create_task(self._run(), name="outbox-sender")
        self._marker = asyncio.create_task(self._mark_loop(), name="outbox-marks")

    def _now(self) -> float:
        """The Clock's time in seconds: rate windows, retry times and ``not_before`` all use
        it, so a test moves them by advancing its clock, never by sleeping (issue #12)."""
        return self.clock.now().timestamp()

    async def stop(self, drain_timeout: float = 10.0) -> None:
        """Deliver what is due within ``drain_timeout`` seconds (real ones: shutdown must
        end even when the clock stands still), then stop."""
        if self._task is None:
            return
        try:
            async with asyncio.timeout(drain_timeout):
                while await self._has_due_work():
                    self.wake()
                    await asyncio.sleep(0.05)
        except TimeoutError:
            log.warning(
                "outbox not drained within %.0f s; the rest goes out on restart", drain_timeout
            )
        self._stopping = True
        self.wake()
        await self._task
        if self._inflight:
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)
        self._task = None
        if self._marker is not None:
            self._marker.cancel()
            await asyncio.gather(self._marker, return_exceptions=True)
            self._marker = None
        await self._write_marks()
        if self._sent_log is not None:
            await self._sent_log.close()
            self._sent_log = None

    async def _fold_sent_log(self) -> None:
        """Record in the outbox what a crashed run delivered but had not marked there."""
        assert self._sent_log is not None
        marks = await self._sent_log.marks()
        if not marks:
            return
        revised = await self.repo.mark_sent_many(marks, self.clock.now())
        await self._sent_log.forget([row_id for row_id, _, _ in marks])
        log.info(
            "recorded %d deliveries of the previous run (%d revised since)",
            len(marks),
            len(revised),
        )

    async def _has_due_work(self) -> bool:
        next_due = await self.repo.next_due()
        busy = bool(self._inflight) or bool(self._delivered)
        return busy or (next_due is not None and next_due <= self._now() + 1)

    async def _mark_loop(self) -> None:
        while True:
            await self._marks_due.wait()
            # Let the deliveries of the next moment join this batch: one transaction (and one
            # fsync) per batch, not per message (issue #7: 1.3 mark transactions per update).
            # A crash inside the window re-sends those messages: at least once, as designed.
            await asyncio.sleep(MARK_DELAY)
            self._marks_due.clear()
            try:
                await self._write_marks()
            except Exception:  # the rows stay pending and are delivered again: never lost
                log.exception("could not record delivered messages; retrying")
                await asyncio.sleep(1)
                self._marks_due.set()

    async def write_marks(self) -> None:
        """Fold the marks of what was delivered into the outbox now, not after MARK_DELAY:
        for ``GridBot.wait_idle``, whose callers read the outbox as soon as it returns."""
        await self._write_marks()

    async def _write_marks(self) -> None:
        """Record every delivered row as sent, in one transaction."""
        batch = dict(self._delivered)
        if not batch:
            return
        marks = [(row.id, message_id, row.revision) for row, message_id in batch.values()]
        revised = await self.repo.mark_sent_many(marks, self.clock.now())
        for row_id in batch:
            self._delivered.pop(row_id, None)  # stop() and a refusal may write marks too
        self.progress.notify()
        if self._sent_log is not None:
            await self._sent_log.forget(list(batch))
        if revised:
            log.debug("outbox rows %s were revised in flight; sending the newer text", revised)
            self.wake()

    async def _run(self) -> None:
        while not self._stopping:
            self._event.clear()
            try:
                delay = await self._round()
            except Exception:  # a database hiccup must not kill delivery for good
                log.exception("outbox round failed; retrying in 1 s")
                delay = 1.0
            if self._stopping:
                break
            try:
                await asyncio.wait_for(self._event.wait(), timeout=delay)
            except TimeoutError:
                pass

    async def _round(self) -> float | None:
        """Start every send that may go now; return seconds until the next may (None: idle)."""
        self._finished.clear()
        if self._fresh and not self._stale and self._increments >= FULL_RELOAD_EVERY:
            self._stale = True
        if self._stale:
            self._reloading = True  # the queues are being replaced: no send goes on meanwhile
            try:
                await self._reload()
            finally:
                self._reloading = False
        else:
            if self._dry:
                await self._refill()
            if self._fresh:
                await self._load_new()
        now = self._now()
        next_in: float | None = None
        slot_wanted = False
        for chat_id, queue in list(self._queues.items()):
            # Drop what settled: delivered rows whose mark is pending, and sends that
            # settled while the reload's query ran (missing from its snapshot).
            while queue and (queue[0].id in self._finished or queue[0].id in self._delivered):
                queue.popleft()
            if not queue:
                del self._queues[chat_id]
                if chat_id in self._capped:  # more of its rows wait in the database
                    self._dry.add(chat_id)
                    next_in = 0.0
                continue
            if chat_id in self._inflight:
                continue
            if chat_id in self._unreachable:
                await self.repo.mark_unreachable(chat_id, "unreachable", self.clock.now())
                del self._queues[chat_id]
                continue
            row = queue[0]
            wait = max(row.not_before - now, self.limiter.wait(chat_id, now))
            if wait <= 0 and len(self._inflight) >= self.concurrency:
                wait = 0.05  # woken sooner by a finishing send
                slot_wanted = True
            if wait > 0:
                next_in = wait if next_in is None else min(next_in, wait)
                continue
            self.limiter.record(chat_id, now)
            self._inflight[chat_id] = asyncio.create_task(self._deliver(row, now))
        self._slot_wanted = slot_wanted
        if self._partial and sum(map(len, self._queues.values())) < RELOAD_WINDOW // 2:
            self._stale = True  # more rows wait in the database than were loaded
            next_in = 0.0 if next_in is None else min(next_in, 0.05)
        return next_in

    async def _reload(self) -> None:
        """Load the pending rows, per chat in queue order (rows go out in that order)."""
        self._stale = self._fresh = False
        self._increments = 0
        self._dry.clear()
        rows = await self.repo.pending(
            RELOAD_WINDOW, exclude=list(self._delivered), per_chat=RELOAD_PER_CHAT
        )
        self._partial = len(rows) == RELOAD_WINDOW
        queues: dict[int, deque[OutboxRow]] = {}
        for row in rows:
            queues.setdefault(row.chat_id, deque()).append(row)
        self._queues = queues
        self._capped = {chat for chat, queue in queues.items() if len(queue) == RELOAD_PER_CHAT}
        # Every pending row up to the last one read is loaded, settled or of a capped chat
        # (read again when that chat's queue runs dry): rows are read in id order.
        if rows:
            self._high = max(self._high, rows[-1].id)

    async def _refill(self) -> None:
        """Read the next rows of each capped chat whose queue ran dry: its own rows by the
        (chat_id, state) index, not a full reload of every chat (a busy group fills its
        queue again and again in a backlog). Fewer than RELOAD_PER_CHAT rows are all it has
        pending, so it is capped no more: rows queued later have ids above ``_high``."""
        dry, self._dry = self._dry, set()
        for chat_id in dry:
            if self._queues.get(chat_id):
                continue  # a reload meanwhile filled it
            rows = await self.repo.pending_in_chat(
                chat_id, RELOAD_PER_CHAT, exclude=list(self._delivered)
            )
            if rows:
                self._queues[chat_id] = deque(rows)
            if len(rows) < RELOAD_PER_CHAT:
                self._capped.discard(chat_id)

    async def _load_new(self) -> None:
        """Append the rows queued since the last load to their chats' queues.

        A chat whose queue holds RELOAD_PER_CHAT rows is capped as a full reload caps it:
        its newer rows wait in the database until its queue runs dry (then a full reload
        reads them in order). A row already held, in flight or delivered is never added
        twice: only ids above the last one of its chat's queue are taken.
        """
        self._fresh = False
        self._increments += 1
        # Read first: every row up to it is committed, so once the rows above ``_high`` are
        # read, ``_high`` may move past the capped chats' rows too (the query leaves them
        # out; they are read by chat when their queue runs dry). Else, with every chat
        # capped in a backlog, each look would scan the whole backlog again.
        last = await self.repo.last_id()
        rows = await self.repo.pending_after(
            self._high, RELOAD_WINDOW, skip_chats=sorted(self._capped)
        )
        if len(rows) == RELOAD_WINDOW:
            self._stale = True  # more than a window was queued: rank them all next round
        else:
            self._high = max(self._high, last)
        for row in rows:
            self._high = max(self._high, row.id)
            if row.id in self._delivered or row.chat_id in self._capped:
                continue
            queue = self._queues.setdefault(row.chat_id, deque())
            if queue and queue[-1].id >= row.id:
                continue
            if len(queue) >= RELOAD_PER_CHAT:
                self._capped.add(row.chat_id)
                continue
            queue.append(row)

    async def _deliver(self, row: OutboxRow, started: float) -> None:
        """Send ``row``; then, while the chat's next row may go at once, that one too, in this
        task (:meth:`_following`).

        Why not one task per row, started by the next round: after Telegram's answer a row
        took some seven turns of the event loop to lead to the next send to its chat (the
        answer, the sent mark, this task's end, the round, the new task's first step), and
        while intake handles a backlog each turn also runs an update's handlers. So sends fell
        behind intake, and the sandbox or Telegram sat idle at the end waiting for a queue that
        could have gone out beside the handlers (issue #15 item 6: in a 6,000-message backlog
        the last third of the sends went out after the last update was handled).
        """
        while True:
            following: OutboxRow | None = None
            try:
                try:
                    await self._attempt(row)
                    self.limiter.settle(row.chat_id, started, self._now())
                except Exception:
                    log.exception("outbox row %s: unexpected failure; will retry", row.id)
                    await self.repo.postpone(row.id, self._now() + 5, "internal error", count=True)
                    self._postponed.add(row.id)
                finally:
                    if row.id in self._postponed:
                        self._postponed.discard(row.id)
                    else:
                        self._finished.add(row.id)
                    queue = self._queues.get(row.chat_id)
                    if queue and queue[0].id == row.id:
                        queue.popleft()  # an emptied queue of a capped chat reloads in _round
                    if row.id not in self._delivered:  # postponed, dead, moved: it changed
                        self._stale = True
                    self.progress.notify()
                following = self._following(row)
                if following is None:
                    return
            finally:
                if following is None:  # this chat's turn ends here (or failed): a round looks
                    self._inflight.pop(row.chat_id, None)
                    queue = self._queues.pop(row.chat_id, None)
                    if queue is not None:  # the round visits it last: the others go first
                        self._queues[row.chat_id] = queue
                    self._event.set()
            row, started = following, self._now()
            self.limiter.record(row.chat_id, started)

    def _following(self, row: OutboxRow) -> OutboxRow | None:
        """The next row of ``row``'s chat if it may be sent right now, as ``_round`` would
        start it: ``row`` was delivered, the queues are current (no reload owed), the chat is
        reachable, the row is due and within the limits, and no other chat waits for a free
        place among the ``concurrency`` sends (that one goes first, started by the round)."""
        if self._stopping or self._stale or self._reloading or self._slot_wanted:
            return None
        if row.id not in self._delivered:
            return None
        if row.chat_id in self._unreachable:
            return None
        queue = self._queues.get(row.chat_id)
        while queue and (queue[0].id in self._finished or queue[0].id in self._delivered):
            queue.popleft()
        if not queue:
            return None  # the round drops the queue, and reads more of a capped chat's rows
        now = self._now()
        head = queue[0]
        if head.not_before > now or self.limiter.wait(head.chat_id, now) > 0:
            return None
        return head

    async def _unreachable_chat(self, chat_id: int, reason: str) -> None:
        self._unreachable.add(chat_id)
        await self._write_marks()  # a message delivered just before was delivered: not stopped
        stopped = await self.repo.mark_unreachable(chat_id, reason, self.clock.now())
        log.warning("chat %s unreachable (%s); %d rows stopped", chat_id, reason, stopped)

    async def _attempt(self, row: OutboxRow) -> None:
        try:
            result = await self._call(row)
        except RetryAfter as exc:
            self.metrics.retry_after.inc()
            now = self._now()
            until = now + _seconds(exc.retry_after)
            self.limiter.pause(row.chat_id, until, now)
            await self.repo.postpone(row.id, until, str(exc), count=False)
            self._postponed.add(row.id)
            log.warning("429 for chat %s: waiting %.0f s", row.chat_id, until - self._now())
        except Forbidden as exc:
            await self._unreachable_chat(row.chat_id, exc.message)
        except ChatMigrated as exc:
            await self._write_marks()  # what was delivered stays with the old chat's id
            await self.repo.migrate_chat(row.chat_id, exc.new_chat_id, self.clock.now())
            log.info("chat %s migrated to %s", row.chat_id, exc.new_chat_id)
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                await self._unreachable_chat(row.chat_id, exc.message)
            elif "message is not modified" in exc.message.lower():
                await self._delivered_now(row, None)  # nothing to change: delivered
            else:
                await self.repo.mark_dead(row.id, exc.message)
                log.error("outbox row %s dead: %s", row.id, exc.message)
        except NetworkError as exc:  # includes TimedOut; the message is still owed
            delay = min(MAX_BACKOFF, self.backoff * 2 ** min(row.attempts, 16))
            attempts = await self.repo.postpone(row.id, self._now() + delay, str(exc), count=True)
            self._postponed.add(row.id)
            if attempts == self.max_attempts:  # once: a person should look; retrying goes on
                log.error(
                    "outbox row %s to chat %s failed %d times (%s); still retrying",
                    row.id,
                    row.chat_id,
                    attempts,
                    exc,
                )
            else:
                log.warning("outbox row %s: %s; retry in %.0f s", row.id, exc, delay)
        except TelegramError as exc:
            await self.repo.mark_dead(row.id, str(exc))
            log.error("outbox row %s dead: %s", row.id, exc)
        else:
            message_id = result.get("message_id") if isinstance(result, dict) else None
            await self._delivered_now(row, message_id)

    async def _delivered_now(self, row: OutboxRow, message_id: int | None) -> None:
        """Telegram has the message: write the mark at once, fold it into the outbox later."""
        if self._sent_log is not None:
            try:
                await self._sent_log.record(row.id, message_id, row.revision)
            except Exception:  # the batched outbox mark still follows; a crash may repeat it
                log.exception("outbox row %s: could not write its sent mark", row.id)
        self._delivered[row.id] = (row, message_id)
        self._marks_due.set()

    def _delivered_message(self, ref: str) -> tuple[int, int] | None:
        """(chat_id, message_id) of a delivered row under ``ref`` whose mark is pending."""
        for row, message_id in reversed(self._delivered.values()):
            if row.ref == ref and message_id is not None:
                return row.chat_id, message_id
        return None

    async def _call(self, row: OutboxRow) -> Any:
        params = dict(row.payload)
        params["chat_id"] = row.chat_id  # the row's id follows a group upgraded to a supergroup
        ref = params.pop("message_ref", None)
        if ref is not None:
            found = self._delivered_message(str(ref)) or await self.repo.message_id_for(str(ref))
            if found is None:
                raise BadRequest(f"message to edit ({ref}) was never delivered")
            params["chat_id"], params["message_id"] = found
        # The payload came out of JSON, so it is JSON already: no conversion per parameter
        # (from_input's checks showed in issue #7's profile); only an attachment needs one.
        parameters = [RequestParameter(k, v, None) for k, v in params.items()]
        if row.attachment is not None:
            field = _ATTACHMENT_FIELD[row.method]
            upload = InputFile(row.attachment, filename=row.attachment_name, attach=True)
            parameters.append(RequestParameter.from_input(field, upload))
        data = RequestData(parameters)
        # The Bot's request is bot/transport/lean_http.py's: JSON rows over its own HTTP/1.1
        # client, a row with a file through aiohttp.
        return await self.bot.request.post(
            f"{self.bot.base_url}/{row.method}",
            request_data=data,
            read_timeout=30,
            write_timeout=30 if row.attachment is not None else 10,
        )


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
