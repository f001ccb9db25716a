"""What handlers reach through ``context``: a typed CallbackContext instead of globals."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from telegram.ext import CallbackContext, ExtBot

from bot.config import Config
from bot.core.clock import Clock
from bot.core.metrics import Metrics
from bot.core.rendering import Renderer
from bot.transport.outbox import Outbox, Sender
from storage.db import Database

if TYPE_CHECKING:  # the features sit above this module (see the layers in pyproject.toml)
    from bot.consult.jielong import JielongService
    from bot.consult.meetings import MeetingService
    from bot.consult.notices import NoticeService
    from bot.consult.sweep import ConsultSweep
    from bot.issues.draft_store import DraftStore
    from bot.issues.ledger import LedgerService
    from bot.issues.service import IssueService
    from bot.privacy.personal_data import PersonalDataService
    from bot.registry.service import RegistryService
    from bot.schedule.checkin import CheckinService
    from bot.schedule.service import ScheduleService
    from bot.todo.service import TodoService
    from bot.votes.polls import PollService
    from bot.votes.service import VoteService


@dataclass
class Features:
    """The feature services, one typed field each, built once in ``bot.app.build_features``."""

    issues: IssueService
    drafts: DraftStore
    ledger: LedgerService
    registry: RegistryService
    personal_data: PersonalDataService
    votes: VoteService
    polls: PollService
    notices: NoticeService
    schedule: ScheduleService
    checkin: CheckinService
    jielong: JielongService
    meetings: MeetingService
    consult_sweep: ConsultSweep
    todo: TodoService  # reads the others (issue #18 items 5-6)


@dataclass
class Services:
    """Everything a handler may use, built once in ``bot.app``."""

    config: Config
    db: Database
    clock: Clock
    renderer: Renderer
    outbox: Outbox
    sender: Sender
    features: Features
    metrics: Metrics = field(default_factory=Metrics)
    # Each feature's own due work (meetings, 接龙 deadlines, vote closing): called every tick
    # with the clock's now inside its own transaction (bot.schedule.jobs.run_hooks).
    sweep_hooks: list[SweepHook] = field(default_factory=list)


SweepHook = Callable[[Services, str, datetime], Awaitable[None]]


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def services(self) -> Services:
        services: Services = self.bot_data["services"]
        return services

    @property
    def t(self) -> Renderer:
        return self.services.renderer
