"""Webhook mode: check Telegram's secret token, commit the update, only then answer 200."""

from __future__ import annotations

import hmac
import json
import logging
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.config import WebhookConfig
    from bot.transport.intake import Intake

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookServer:
    def __init__(self, config: WebhookConfig, intake: Intake) -> None:
        self.config = config
        self.intake = intake
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_post(self.config.path, self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.listen, self.config.port)
        await site.start()
        log.info(
            "webhook listening on %s:%s%s", self.config.listen, self.config.port, self.config.path
        )

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _receive(self, request: web.Request) -> web.Response:
        secret = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(secret, self.config.secret_token):
            log.warning("webhook call with a wrong secret token from %s", request.remote)
            return web.Response(status=403)
        try:
            update = json.loads(await request.read())
            int(update["update_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("webhook body is not an update; answered 400")
            return web.Response(status=400)
        # Telegram retries until it gets 200, so commit first: a crash here loses nothing.
        await self.intake.accept([update])
        return web.Response(status=200)
