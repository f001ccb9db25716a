"""Webhook delivery to a loopback receiver, with secret token and retries."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot, Update
from telegram.error import BadRequest, Conflict

from sandbox.models import ChatState, SandboxUser
from sandbox.server import SandboxServer


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, object], str | None]] = []
        self.fail_first = 0
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=500)
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        self.received.append((await request.json(), secret))
        return web.Response(text="ok")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    rec.runner = web.AppRunner(app, access_log=None)
    await rec.runner.setup()
    site = web.TCPSite(rec.runner, "127.0.0.1", 0)
    await site.start()
    rec.url = f"http://127.0.0.1:{rec.runner.addresses[0][1]}/hook"
    try:
        yield rec
    finally:
        await rec.runner.cleanup()


async def test_webhook_push_with_secret_and_retry(
    server: SandboxServer, bot: Bot, group: ChatState, alice: SandboxUser, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    assert await bot.set_webhook(receiver.url, secret_token="s3cr3t_token")
    await server.user_sends(group.id, alice.id, "一")
    await server.user_sends(group.id, alice.id, "二")
    await server.wait_for(lambda s: len(receiver.received) == 2)
    texts = [Update.de_json(body, bot).message.text for body, _ in receiver.received]
    assert texts == ["一", "二"]
    assert {secret for _, secret in receiver.received} == {"s3cr3t_token"}
    await server.wait_for(lambda s: s.pending_updates() == [])
    info = await bot.get_webhook_info()
    assert info.url == receiver.url and info.pending_update_count == 0
    assert info.last_error_message is not None and "500" in info.last_error_message
    assert server.stats.webhook_failures == 2
    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""  # its pusher is cancelled with it
    await server.user_sends(group.id, alice.id, "三")
    # Not pushed but kept for getUpdates (read at once: no wall-clock wait for nothing to
    # arrive; had a pusher taken it, getUpdates would not find it, or the receiver would).
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["三"]
    assert len(receiver.received) == 2


async def test_webhook_url_must_be_loopback(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)bad webhook"):
        await bot.set_webhook("https://example.com/hook")
    with pytest.raises(BadRequest, match=r"(?i)secret token"):
        await bot.set_webhook("http://localhost:1/hook", secret_token="bad token!")
    assert await bot.set_webhook("http://localhost:1/hook", drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == "http://localhost:1/hook"
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
