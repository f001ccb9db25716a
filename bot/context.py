"""What handlers reach through ``context``: a typed CallbackContext instead of globals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import CallbackContext, ExtBot

from bot.config import Config
from bot.core.clock import Clock
from bot.core.rendering import Renderer
from bot.transport.outbox import Outbox, Sender
from storage.db import Database


@dataclass
class Services:
    """Everything a handler may use, built once in ``bot.app``."""

    config: Config
    db: Database
    clock: Clock
    renderer: Renderer
    outbox: Outbox
    sender: Sender
    features: dict[str, Any]  # feature services by name, e.g. "issues"


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def services(self) -> Services:
        services: Services = self.bot_data["services"]
        return services

    @property
    def t(self) -> Renderer:
        return self.services.renderer
