"""The community's configuration: one TOML file, read once at start-up into frozen dataclasses.

Every key, its default and its meaning is documented in ``config.example.toml`` at the project
root (a test fails if a field is added without documenting it there). Every number is a default
from the domain reference, never a constant in code. The dataclasses live in
``bot.config.schema``, the problem-collecting reader in ``bot.config.reader`` and the loading
itself in ``bot.config.load``; import everything from ``bot.config``.

Loading validates the whole file and collects *all* problems before raising one ``ConfigError``
whose text is a single screen a person can act on: one line per problem, each naming the dotted
key (``community.grids[1].chat_id：应为整数，实际是字符串 "abc"``). Never a traceback.
"""

from bot.config.load import TOKEN_ENV, ConfigError, config_from_dict, load_config
from bot.config.schema import (
    CalendarConfig,
    CategoryConfig,
    CommunityConfig,
    Config,
    EmergencyService,
    GridConfig,
    HandlerConfig,
    HandlerKind,
    IntakeConfig,
    IssuesConfig,
    Locale,
    Mode,
    OutboxConfig,
    PrivacyConfig,
    RatesConfig,
    StorageConfig,
    TelegramConfig,
    TimeLimit,
    WebhookConfig,
)

__all__ = [
    "TOKEN_ENV",
    "CalendarConfig",
    "CategoryConfig",
    "CommunityConfig",
    "Config",
    "ConfigError",
    "EmergencyService",
    "GridConfig",
    "HandlerConfig",
    "HandlerKind",
    "IntakeConfig",
    "IssuesConfig",
    "Locale",
    "Mode",
    "OutboxConfig",
    "PrivacyConfig",
    "RatesConfig",
    "StorageConfig",
    "TelegramConfig",
    "TimeLimit",
    "WebhookConfig",
    "config_from_dict",
    "load_config",
]
