"""Loading the configuration file: validate all of it, report every problem at once.

Everything is imported from ``bot.config``, which re-exports this module's public names.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.config.calendar import read_calendar
from bot.config.meetings import read_meetings
from bot.config.places import DATUMS, read_boundaries
from bot.config.reader import (
    Report,
    Section,
    default_categories,
    default_emergency,
    default_limits,
)
from bot.config.schedule import read_rules, read_schedule
from bot.config.schema import (
    DEFAULT_COMMUNITY,
    BackupConfig,
    CategoryConfig,
    CommunityConfig,
    Config,
    DistrictConfig,
    EmergencyService,
    GridConfig,
    HandlerConfig,
    HandlerKind,
    IntakeConfig,
    IssuesConfig,
    Locale,
    MetricsConfig,
    Mode,
    OutboxConfig,
    PrivacyConfig,
    RatesConfig,
    StorageConfig,
    StreetOfficeConfig,
    TelegramConfig,
    TimeLimit,
    WebhookConfig,
)
from bot.config.votes import read_votes
from bot.core.rendering import Renderer

TOKEN_ENV: Final = "GRIDBOT_TOKEN"
_LOCALES: Final[tuple[Locale, ...]] = ("zh_CN", "en")
_MODES: Final[tuple[Mode, ...]] = ("polling", "webhook")
_KINDS: Final[tuple[HandlerKind, ...]] = ("property", "department")
_SECRET: Final = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_WEIGHT_TOLERANCE: Final = 1e-9


class ConfigError(Exception):
    """The configuration cannot be used; ``str()`` is the whole screen to show the admin."""

    def __init__(self, problems: list[str], title: str | None = None) -> None:
        self.problems = list(problems)
        self.title = title or Renderer().text("config.title", count=len(self.problems))
        super().__init__(self.title, self.problems)

    def __str__(self) -> str:
        return "\n".join([self.title, *(f"  - {problem}" for problem in self.problems)])


def load_config(path: Path, env: Mapping[str, str] = os.environ) -> Config:
    """Read and validate the TOML file at ``path``; raise ``ConfigError`` listing every problem.

    Relative paths inside it (``storage.path``) resolve against the file's own directory, so the
    bot finds its database whatever directory it is started from.
    """
    data = _read_toml(path)
    return config_from_dict(data, env, base_dir=path.resolve().parent, source=path)


def config_from_dict(
    data: Mapping[str, object],
    env: Mapping[str, str] = os.environ,
    *,
    base_dir: Path | None = None,
    source: Path | None = None,
) -> Config:
    """Validate a TOML-shaped mapping; relative paths resolve against ``base_dir`` (or cwd)."""
    locale: Locale = "en" if data.get("locale") == "en" else "zh_CN"
    report = Report(Renderer(locale))
    config = _config(Section(report, "", data), env, base_dir or Path.cwd())
    if report.problems:
        count = len(report.problems)
        title = (
            report.renderer.text("config.title_file", path=source, count=count)
            if source
            else report.renderer.text("config.title", count=count)
        )
        raise ConfigError(report.problems, title)
    return config


def _read_toml(path: Path) -> dict[str, object]:
    """Parse the file; unreadable or malformed files become a one-line ``ConfigError``."""
    report = Report(Renderer())
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError:
        report.add(str(path), "file_missing")
    except IsADirectoryError:
        report.add(str(path), "file_is_directory")
    except PermissionError:
        report.add(str(path), "file_permission")
    except OSError as error:
        report.add(str(path), "file_unreadable", detail=error.strerror or error)
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        report.add(str(path), "file_encoding", line=line)
    except tomllib.TOMLDecodeError as error:
        _syntax_problem(report, path, str(error))
    raise ConfigError(
        report.problems,
        report.renderer.text("config.title_file", path=path, count=len(report.problems)),
    )


def _syntax_problem(report: Report, path: Path, message: str) -> None:
    where = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if where:
        detail = message[: where.start()]
        report.add(str(path), "syntax", line=where[1], column=where[2], detail=detail)
    else:
        report.add(str(path), "syntax_end", detail=message)


def _config(root: Section, env: Mapping[str, str], base_dir: Path) -> Config:
    # Read in file order, so the problems come out in the order a person reads the file.
    timezone = _timezone(root)
    locale = root.choice("locale", "zh_CN", _LOCALES)
    telegram = _telegram(root.table("telegram"), env)
    storage = _storage(root.table("storage"), base_dir)
    intake = _intake(root.table("intake"))
    outbox = _outbox(root.table("outbox"))
    calendar = read_calendar(root.table("calendar"), base_dir)
    communities = _communities(root, base_dir)
    street_office = _street_office(root)
    district = _district(root)
    issues = _issues(root.table("issues"), {h.key for c in communities for h in c.handlers})
    rates = _rates(root.table("rates"))
    schedule = read_schedule(root.table("schedule"))
    privacy = _privacy(root.table("privacy"))
    meetings = read_meetings(root.table("meetings"))
    votes = read_votes(root.table("votes"))
    backup = _backup(root.table("backup"), base_dir)
    metrics = _metrics(root.table("metrics"))
    root.finish()
    return Config(
        telegram=telegram,
        storage=storage,
        communities=communities,
        issues=issues,
        timezone=timezone,
        locale=locale,
        intake=intake,
        outbox=outbox,
        calendar=calendar,
        rates=rates,
        schedule=schedule,
        privacy=privacy,
        meetings=meetings,
        votes=votes,
        backup=backup,
        metrics=metrics,
        street_office=street_office,
        district=district,
    )


def _timezone(root: Section) -> ZoneInfo:
    name = root.string("timezone", "Asia/Shanghai")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    import difflib  # only for a mistyped time zone

    close = difflib.get_close_matches(name, available_timezones(), n=1)
    if close:
        root.report.add("timezone", "bad_timezone_hint", value=name, suggestion=close[0])
    else:
        root.report.add("timezone", "bad_timezone", value=name)
    return ZoneInfo("UTC")


def _telegram(s: Section, env: Mapping[str, str]) -> TelegramConfig:
    file_token = s.string("token", "")
    token = env.get(TOKEN_ENV, "").strip() or file_token.strip()
    if not token:
        s.required("token", "required_token")
    elif any(char.isspace() for char in token):
        s.required("token", "bad_token")
    mode = s.choice("mode", TelegramConfig.mode, _MODES)
    config = TelegramConfig(
        token=token,
        base_url=_url(s, "base_url", TelegramConfig.base_url),
        base_file_url=_url(s, "base_file_url", TelegramConfig.base_file_url),
        mode=mode,
        poll_timeout=s.integer("poll_timeout", TelegramConfig.poll_timeout, low=0),
        bot_username=s.string("bot_username", TelegramConfig.bot_username).removeprefix("@"),
        webhook=_webhook(s.table("webhook"), needed=mode == "webhook"),
    )
    s.finish()
    return config


def _url(s: Section, key: str, default: str, *, https: bool = False) -> str:
    value = s.string(key, default)
    # Telegram only pushes to https; plain http is allowed on loopback for the local sandbox.
    loopback = value.startswith(("http://127.", "http://localhost", "http://[::1]"))
    schemes = ("https://",) if https else ("https://", "http://")
    if value and not value.startswith(schemes) and not loopback:
        s.report.add(s.key(key), "bad_url", scheme=schemes[0], value=value)
    return value


def _webhook(s: Section, *, needed: bool) -> WebhookConfig:
    url = _url(s, "url", WebhookConfig.url, https=True)
    secret = s.string("secret_token", WebhookConfig.secret_token)
    for key, value in (("url", url), ("secret_token", secret)):
        if needed and not value:
            s.required(key, "required_webhook")
    if secret and not _SECRET.match(secret):
        s.required("secret_token", "bad_secret")
    path = s.string("path", WebhookConfig.path)
    if not path.startswith("/"):
        s.required("path", "bad_path")
    config = WebhookConfig(
        listen=s.string("listen", WebhookConfig.listen, empty=False),
        port=s.integer("port", WebhookConfig.port, low=0),
        url=url,
        secret_token=secret,
        path=path,
    )
    if config.port > 65535:
        s.report.add(s.key("port"), "out_of_range", low=0, high=65535, value=config.port)
    s.finish()
    return config


_SQLITE = "sqlite:///"


def _storage(s: Section, base_dir: Path) -> StorageConfig:
    given_url, given_path = s.has("url"), s.has("path")
    url = s.string("url", StorageConfig.url, empty=False)
    if given_url and given_path:
        s.report.add(s.key("path"), "url_and_path")
    elif given_path:
        url = _SQLITE + s.string("path", "", empty=False)
    if not url.startswith((_SQLITE, "postgresql://", "postgres://")) or url == _SQLITE:
        s.report.add(s.key("url"), "bad_storage_url", value=url)
        url = StorageConfig.url
    s.finish()
    is_sqlite = url.startswith(_SQLITE)
    path = Path((url if is_sqlite else StorageConfig.url)[len(_SQLITE) :]).expanduser()
    path = path if path.is_absolute() else base_dir / path
    # The URL names the resolved file, so every tool opens the same database whatever its cwd.
    return StorageConfig(path=path, url=_SQLITE + str(path) if is_sqlite else url)


def _intake(s: Section) -> IntakeConfig:
    config = IntakeConfig(
        max_attempts=s.integer("max_attempts", IntakeConfig.max_attempts),
        batch=s.integer("batch", IntakeConfig.batch),
    )
    if config.batch > 100:  # Telegram's getUpdates accepts at most 100
        s.report.add(s.key("batch"), "out_of_range", low=1, high=100, value=config.batch)
    s.finish()
    return config


def _outbox(s: Section) -> OutboxConfig:
    config = OutboxConfig(
        global_per_second=s.number("global_per_second", OutboxConfig.global_per_second),
        group_per_minute=s.integer("group_per_minute", OutboxConfig.group_per_minute),
        private_per_second=s.number("private_per_second", OutboxConfig.private_per_second),
        max_attempts=s.integer("max_attempts", OutboxConfig.max_attempts),
        backoff_seconds=s.number("backoff_seconds", OutboxConfig.backoff_seconds),
        concurrency=s.integer("concurrency", OutboxConfig.concurrency),
    )
    s.finish()
    return config


def _communities(root: Section, base_dir: Path) -> tuple[CommunityConfig, ...]:
    """``[community]`` (one community, key 'default', exactly as before several existed) or
    ``[[communities]]``. Grid keys, handler keys and group chat ids are unique across the whole
    deployment: a grid worker types ``g1`` on a phone, never ``community/g1``, and a grid key
    alone says which community a report, a vote or a household belongs to."""
    several = root.has("communities")
    if several and root.has("community"):
        root.report.add("community", "one_community_form")
    if not several:
        return (_community(root.table("community"), base_dir, multi=False),)
    sections = root.tables("communities", [])
    if not sections:
        root.required("communities")
    found = tuple(_community(c, base_dir, multi=True) for c in sections)
    path = root.key("communities")
    _unique(root.report, path, "key", [c.key for c in found])
    _unique_across(root.report, path, "grids", "key", [[g.key for g in c.grids] for c in found])
    _unique_across(
        root.report, path, "grids", "chat_id", [[g.chat_id for g in c.grids] for c in found]
    )
    _unique_across(
        root.report, path, "handlers", "key", [[h.key for h in c.handlers] for c in found]
    )
    return found


def _community(s: Section, base_dir: Path, *, multi: bool) -> CommunityConfig:
    key = s.ident("key") if multi else DEFAULT_COMMUNITY
    name = s.string("name", empty=False)
    secretaries = s.ids("secretaries")
    grid_configs = tuple(_grid(g) for g in s.tables("grids", []))
    # A community's own rules replace the shared [[schedule.rules]] for it alone; only the
    # [[communities]] form has them (the single [community] uses [[schedule.rules]] directly).
    rules = read_rules(s, "rules") if multi and s.has("rules") else None
    config = CommunityConfig(
        name=name,
        secretaries=secretaries,
        grids=grid_configs,
        handlers=tuple(_handler(h) for h in s.tables("handlers", [])),
        boundaries=read_boundaries(s, base_dir, {g.key for g in grid_configs}),
        datum=s.choice("datum", "wgs84", DATUMS),
        key=key,
        rules=rules,
    )
    grids, handlers = s.key("grids"), s.key("handlers")
    if not multi:  # across communities, _communities checks these for the whole deployment
        _unique(s.report, grids, "key", [g.key for g in config.grids])
        _unique(s.report, grids, "chat_id", [g.chat_id for g in config.grids])
        _unique(s.report, handlers, "key", [h.key for h in config.handlers])
    _unique(s.report, handlers, "user_id", [h.user_id for h in config.handlers])
    s.finish()
    return config


def _unique_across(
    report: Report, path: str, table: str, key: str, values: list[list[object]]
) -> None:
    """Like ``_unique`` over ``path[i].table[j].key`` of every community together: a grid key
    or a group bound to two communities would leave it undecided whose a report is."""
    first: dict[object, str] = {}
    for index, items in enumerate(values):
        for position, value in enumerate(items):
            if value is None or value == "":
                continue
            where = f"{path}[{index}].{table}[{position}]"
            if value in first:
                report.add(f"{where}.{key}", "duplicate", other=first[value])
            first.setdefault(value, where)


def _street_office(root: Section) -> StreetOfficeConfig:
    if not root.has("street_office"):
        return StreetOfficeConfig()
    s = root.table("street_office")
    config = StreetOfficeConfig(name=s.string("name", empty=False), staff=s.ids("staff"))
    if not s.data.get("staff"):
        s.required("staff", "staff_required")
    s.finish()
    return config


def _district(root: Section) -> DistrictConfig:
    if not root.has("district"):
        return DistrictConfig()
    s = root.table("district")
    config = DistrictConfig(
        name=s.string("name", empty=False),
        staff=s.ids("staff"),
        time=s.clock("time", DistrictConfig.time),
    )
    if not s.data.get("staff"):
        s.required("staff", "district_staff_required")
    s.finish()
    return config


def _unique(report: Report, path: str, key: str, values: Iterable[object]) -> None:
    """Report each repeated value at ``path[i].key``, naming where it first appeared."""
    first: dict[object, int] = {}
    for index, value in enumerate(values):
        if value is None or value == "":
            continue
        if value in first:
            report.add(f"{path}[{index}].{key}", "duplicate", other=f"{path}[{first[value]}]")
        first.setdefault(value, index)


def _grid(s: Section) -> GridConfig:
    chat_id = s.integer("chat_id", 0, low=-(2**63))
    if chat_id > 0:
        s.required("chat_id", "group_chat_id")
    config = GridConfig(
        key=s.ident("key"),
        name=s.string("name", empty=False),
        chat_id=chat_id or None,
        workers=s.ids("workers"),
        leaders=s.ids("leaders"),
    )
    if not s.data.get("workers"):  # absent or []; a list of wrong items is reported already
        s.required("workers", "workers_required")
    s.finish()
    return config


def _handler(s: Section) -> HandlerConfig:
    config = HandlerConfig(
        key=s.ident("key"),
        name=s.string("name", empty=False),
        user_id=s.integer("user_id"),
        kind=s.choice("kind", None, _KINDS),
    )
    s.finish()
    return config


def _issues(s: Section, handler_keys: set[str]) -> IssuesConfig:
    limits = {
        name: _limit(section)
        for name, section in s.named_tables("limits", default_limits(), merge=True)
    }
    categories = tuple(
        _category(c, limits, handler_keys) for c in s.tables("categories", default_categories())
    )
    _unique(s.report, s.key("categories"), "key", [c.key for c in categories])
    config = IssuesConfig(
        limits=MappingProxyType(limits),
        categories=categories,
        emergency=tuple(
            _emergency(kind, section)
            for kind, section in s.named_tables("emergency", default_emergency(), merge=False)
        ),
        default_category=s.ident("default_category", IssuesConfig.default_category),
        feedback_reminder_days=s.integer(
            "feedback_reminder_days", IssuesConfig.feedback_reminder_days
        ),
        feedback_expiry_days=s.integer("feedback_expiry_days", IssuesConfig.feedback_expiry_days),
        duplicate_window_days=s.integer(
            "duplicate_window_days", IssuesConfig.duplicate_window_days, low=0
        ),
        max_report_chars=s.integer("max_report_chars", IssuesConfig.max_report_chars),
        transcriber=s.string("transcriber", IssuesConfig.transcriber),
    )
    _reference(s, "default_category", config.default_category, [c.key for c in categories])
    if config.feedback_reminder_days >= config.feedback_expiry_days:
        s.required("feedback_reminder_days", "reminder_before_expiry")
    s.finish()
    return config


def _reference(s: Section, key: str, value: str, known: Iterable[str]) -> None:
    """Report a reference to a key that is not configured, listing the ones that are."""
    names = sorted(set(known))
    if value and value not in names:
        s.report.add(s.key(key), "unknown_ref", value=value, known="、".join(names) or "-")


def _limit(s: Section) -> TimeLimit:
    config = TimeLimit(respond=s.duration("respond"), resolve=s.duration("resolve"))
    s.finish()
    return config


def _category(s: Section, limits: Mapping[str, TimeLimit], handlers: set[str]) -> CategoryConfig:
    config = CategoryConfig(
        key=s.ident("key"),
        name=s.string("name", empty=False),
        keywords=s.words("keywords"),
        limit=s.string("limit", "general"),
        handler=s.string("handler", "") or None,
    )
    _reference(s, "limit", config.limit, limits)
    _reference(s, "handler", config.handler or "", handlers)
    s.finish()
    return config


def _emergency(kind: str, s: Section) -> EmergencyService:
    config = EmergencyService(
        kind=kind, number=s.string("number", empty=False), keywords=s.words("keywords")
    )
    if config.number and not config.number.isdigit():
        s.required("number", "bad_number")
    if not s.data.get("keywords"):  # absent or []; a list of wrong items is reported already
        s.required("keywords")
    s.finish()
    return config


def _rates(s: Section) -> RatesConfig:
    config = RatesConfig(
        response_weight=s.number("response_weight", RatesConfig.response_weight, high=1.0),
        resolution_weight=s.number("resolution_weight", RatesConfig.resolution_weight, high=1.0),
        satisfaction_weight=s.number(
            "satisfaction_weight", RatesConfig.satisfaction_weight, high=1.0
        ),
        basic_satisfied_weight=s.number(
            "basic_satisfied_weight", RatesConfig.basic_satisfied_weight, high=1.0
        ),
    )
    total = config.response_weight + config.resolution_weight + config.satisfaction_weight
    if abs(total - 1.0) > _WEIGHT_TOLERANCE:
        s.report.add("rates", "weights_sum", total=f"{total:g}")
    s.finish()
    return config


def _privacy(s: Section) -> PrivacyConfig:
    config = PrivacyConfig(
        retention_days=s.integer("retention_days", PrivacyConfig.retention_days)
    )
    s.finish()
    return config


def _backup(s: Section, base_dir: Path) -> BackupConfig:
    folder = s.string("folder", BackupConfig.folder)
    if folder and not Path(folder).expanduser().is_absolute():
        folder = str(base_dir / Path(folder))
    config = BackupConfig(
        folder=folder,
        time=s.clock("time", BackupConfig.time),
        keep=s.integer("keep", BackupConfig.keep),
    )
    s.finish()
    return config


def _metrics(s: Section) -> MetricsConfig:
    config = MetricsConfig(
        listen=s.string("listen", MetricsConfig.listen, empty=False),
        port=s.integer("port", MetricsConfig.port, low=0),
        pending_age_limit_seconds=s.integer(
            "pending_age_limit_seconds", MetricsConfig.pending_age_limit_seconds
        ),
    )
    if config.port > 65535:
        s.report.add(s.key("port"), "out_of_range", low=0, high=65535, value=config.port)
    s.finish()
    return config
