"""Intake's two paths (issue #15 item 4): a quick update is stored and handled in one durable
commit; a slow one (waiting on the network, past the time budget) or one behind a failure is
stored first and dispatched from the inbox, as before. Commits are counted on the Database."""

from __future__ import annotations

from pathlib import Path

import pytest
from telegram import Update
from telegram.ext import MessageHandler, filters

from bot.app import GridBot
from bot.context import BotContext
from storage.db import Database
from storage.transport.inbox import InboxRepo
from tests.support import factories as f
from tests.support.harness import running_bot, sandbox_world, step


async def _record(update: Update, context: BotContext) -> None:
    """One effect per message, in the update's transaction."""
    message = update.effective_message
    assert message is not None
    async with context.services.db.transaction() as tx:
        await tx.execute("INSERT INTO probe_effects (n) VALUES (?)", (message.message_id,))


async def _with_probe(gridbot: GridBot) -> None:
    async with gridbot.db.transaction() as tx:
        await tx.execute("CREATE TABLE probe_effects (id INTEGER PRIMARY KEY, n INTEGER)")
    probe = filters.Regex("^probe") | filters.Document.ALL
    gridbot.app.add_handler(MessageHandler(probe, _record), group=5)


async def _effects(gridbot: GridBot) -> int:
    row = await gridbot.db.fetchone("SELECT COUNT(*) FROM probe_effects")
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    ("budget", "expected_commits"),
    [
        (None, 1),  # quick: the raw update and its effects in one commit
        # No budget left: committed to the inbox first, then handled in a second commit,
        # with the same effect.
        (-1.0, 2),
    ],
    ids=["quick-in-one-commit", "past-the-budget-stored-first"],
)
async def test_commits_per_update(
    tmp_path: Path, budget: float | None, expected_commits: int
) -> None:
    async with sandbox_world(tmp_path) as world, running_bot(world) as gridbot:
        await _with_probe(gridbot)
        if budget is not None:
            gridbot.intake.quick_budget = budget
        await step(world, gridbot)
        before = gridbot.db.commits
        await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "probe 1")
        await step(world, gridbot)
        commits = gridbot.db.commits - before
        assert await gridbot.intake.inbox.counts() == {"done": 1}
        assert await _effects(gridbot) == 1
    assert commits == expected_commits


async def test_an_update_waiting_on_the_network_is_stored_first(tmp_path: Path) -> None:
    """A document is downloaded by its handler (the household sheet): Telegram is told it
    arrived before that wait, not after."""
    async with sandbox_world(tmp_path) as world, running_bot(world) as gridbot:
        await _with_probe(gridbot)
        await step(world, gridbot)
        before = gridbot.db.commits
        await world.server.user_sends_document(f.G1_CHAT, f.RESIDENT, "a.txt", b"x")
        await step(world, gridbot)
        commits = gridbot.db.commits - before
        assert await _effects(gridbot) == 1
    assert commits == 2


async def test_updates_behind_a_failing_one_keep_their_order(tmp_path: Path) -> None:
    """A failure on the quick path leaves it and the updates behind it to the inbox path,
    which retries it first: the later update is handled after it, once."""
    seen: list[str] = []

    async def flaky(update: Update, context: BotContext) -> None:
        text = (update.effective_message and update.effective_message.text) or ""
        seen.append(text)
        if text == "first" and seen.count("first") == 1:
            raise RuntimeError("a passing fault")

    async with sandbox_world(tmp_path) as world, running_bot(world) as gridbot:
        gridbot.app.add_handler(MessageHandler(filters.Regex("^(first|second)$"), flaky), 5)
        await step(world, gridbot)
        await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "first")
        await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "second")
        await step(world, gridbot)
        counts = await gridbot.intake.inbox.counts()
    assert seen == ["first", "first", "second"]
    assert counts == {"done": 2}


async def test_an_update_put_back_by_dead_retry_runs_at_the_next_quick_update(
    tmp_path: Path,
) -> None:
    """`gridbot dead retry N` (another process) puts a failed update back; the running bot
    runs it when the next update arrives, though that one goes the quick way."""
    broken = True
    seen: list[str] = []

    async def flaky(update: Update, context: BotContext) -> None:
        text = (update.effective_message and update.effective_message.text) or ""
        if broken and text == "boom":
            raise RuntimeError("handler bug")
        seen.append(text)

    async with sandbox_world(tmp_path) as world, running_bot(world) as gridbot:
        gridbot.app.add_handler(MessageHandler(filters.Regex("^(boom|hello)$"), flaky), 5)
        await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "boom")
        await step(world, gridbot)
        [dead] = await gridbot.intake.inbox.dead()
        other = await Database.open(gridbot.db.path)  # as the command line opens it
        try:
            assert await InboxRepo(other).retry(dead.update_id)
        finally:
            await other.close()
        broken = False
        await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "hello")
        await step(world, gridbot)
        counts = await gridbot.intake.inbox.counts()
    assert sorted(seen) == ["boom", "hello"]
    assert counts == {"done": 2}
