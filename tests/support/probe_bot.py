"""A gridbot process for the crash-safety test: the real app plus one probe feature.

Every group message ``probe N`` records one effect row and queues one reply ``ack N`` through
the real intake, transaction and outbox. It also moves the issue loop on, in the same
transaction, through the real issue service (issue #15 item 2: the rollups must survive the
kills): it reports issue N + 1, and takes the three issues before it one step each (受理, 交办,
已办结; every seventh is 退回 instead), so each kill lands among events that change the rollups.
Run: ``python -m tests.support.probe_bot CONFIG``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from telegram import Update
from telegram.ext import MessageHandler, filters

from bot.app import build, start_unless_stopped
from bot.config import load_config
from bot.context import BotContext
from bot.core.errors import UserError
from bot.issues.service import IssueService

PROBE_RESIDENT = 501


async def record_probe(update: Update, context: BotContext) -> None:
    """Apply the probe's effect and queue its reply in the update's transaction."""
    message = update.effective_message
    if message is None or not message.text or not message.text.startswith("probe "):
        return
    number = int(message.text.split()[1])
    services = context.services
    async with services.db.transaction() as tx:
        await tx.execute("INSERT INTO probe_effects (n) VALUES (?)", (number,))
        await move_issues(services.features.issues, message.chat_id, number)
    await services.outbox.send_message(message.chat_id, f"ack {number}")


async def move_issues(issues: IssueService, chat_id: int, number: int) -> None:
    """Report issue ``number + 1``; accept, assign and resolve the three before it. The
    notices the service returns are not sent: the probe's one reply is what the test counts."""
    await issues.report(
        chat_id=chat_id, user_id=PROBE_RESIDENT, display_name="王阿姨", text=f"probe {number}"
    )
    worker = issues.config.community.grids[0].workers[0]
    handler = issues.config.community.handlers[0]
    for back in (1, 2, 3):
        n = number + 1 - back
        try:
            if n < 1:
                continue
            if back == 1 and n % 7 == 0:
                await issues.reject(worker, n, "不属于社区事务")
            elif back == 1:
                await issues.accept(worker, n)
            elif back == 2:
                await issues.assign(worker, n, handler.key)
            else:
                await issues.handler_resolve(handler.user_id, n, "已修好")
        except UserError:
            pass  # a rejected issue is neither assigned nor resolved


async def main(config_path: Path) -> None:
    config = load_config(config_path)
    gridbot = await build(config)
    async with gridbot.db.transaction() as tx:
        await tx.execute(
            "CREATE TABLE IF NOT EXISTS probe_effects (id INTEGER PRIMARY KEY, n INTEGER)"
        )
    gridbot.app.add_handler(MessageHandler(filters.TEXT & filters.ChatType.GROUPS, record_probe))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    if not await start_unless_stopped(gridbot, stop):  # a standby told to stop
        return
    print("probe bot ready", flush=True)
    try:
        await stop.wait()
    finally:
        await gridbot.stop()


def run(config_path: str, env: dict[str, str]) -> None:
    """Entry point of a process forked with this module already imported (the crash test
    starts one per kill; importing the bot afresh each time cost it seconds)."""
    os.environ.update(env)
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(Path(config_path)))


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(Path(sys.argv[1])))
