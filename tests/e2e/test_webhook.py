"""Webhook mode: the sandbox pushes updates; gridbot checks the secret, commits, answers 200."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support import factories as f
from tests.support.harness import running_bot, sandbox_world
from tests.support.ports import unused_port


async def test_webhook_update_reaches_handler_and_wrong_secret_is_refused(
    tmp_path: Path,
) -> None:
    port = unused_port()
    webhook = {
        "listen": "127.0.0.1",
        "port": port,
        "url": f"http://127.0.0.1:{port}/telegram",
        "secret_token": "s3cret-token",
        "path": "/telegram",
    }
    async with sandbox_world(tmp_path, telegram={"mode": "webhook", "webhook": webhook}) as world:
        async with running_bot(world) as gridbot:
            await world.server.start_private(f.RESIDENT)
            await world.wait_sent(f.RESIDENT, "网格通")
            async with httpx.AsyncClient() as client:
                forged = await client.post(
                    webhook["url"],
                    json={"update_id": 999, "message": {}},
                    headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                )
            counts = await gridbot.intake.inbox.counts()
    assert forged.status_code == 403
    assert counts == {"done": 1}
    assert not any(c.method.lower() == "getupdates" for c in world.server.calls)
