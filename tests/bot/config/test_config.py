"""Configuration loading: every mistake reported at once, by key path, in the admin's language."""

from __future__ import annotations

import copy
import dataclasses
import re
import tomllib
import types
from collections.abc import Iterator, Mapping
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import pytest

from bot.config import Config, ConfigError, config_from_dict, load_config
from bot.config import schema as config_schema
from bot.core.workcal import Duration, Unit

EXAMPLE = Path(__file__).parents[3] / "config.example.toml"
# The example ships `token = ""` (a real token belongs in the environment, not in a file that
# gets copied around), so loading it needs GRIDBOT_TOKEN.
ENV = {"GRIDBOT_TOKEN": "123456:test-token"}
# Tables of tables whose items are named by their table name rather than by a key inside them.
NAMED_BY_TABLE = {"issues.emergency": "kind"}


def _minimal() -> dict[str, Any]:
    return {
        "community": {
            "name": "阅海湾社区",
            "grids": [
                {"key": "g1", "name": "第一网格", "chat_id": -1001, "workers": [101]},
                {"key": "g2", "name": "第二网格", "chat_id": -1002, "workers": [102]},
            ],
            "handlers": [
                {"key": "property", "name": "万象美物业", "user_id": 301, "kind": "property"},
            ],
        }
    }


def _merged(base: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``patch`` laid over it, tables merged key by key."""
    result = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = _merged(result[key], value)
        else:
            result[key] = value
    return result


def _problems(data: Mapping[str, Any], env: Mapping[str, str] = ENV) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_from_dict(data, env)
    return caught.value.problems


def _grids_problems(**grid1: Any) -> list[str]:
    data = _minimal()
    data["community"]["grids"][1].update(grid1)
    return _problems(data)


def test_load_config_reads_the_example() -> None:
    config = load_config(EXAMPLE, ENV)

    assert config.community.name == "阅海湾社区"
    assert [g.key for g in config.community.grids] == ["g1", "g2"]
    assert [h.kind for h in config.community.handlers] == ["property", "department"]
    assert len(config.issues.categories) == 15
    assert config.storage.path == EXAMPLE.parent.resolve() / "gridbot.sqlite3"


def test_load_config_example_without_token_asks_for_it() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(EXAMPLE, {})

    assert caught.value.problems == ["telegram.token：必须填写（或设置环境变量 GRIDBOT_TOKEN）"]


def _documented_keys() -> set[str]:
    """Dotted keys in the example, including its commented-out sample tables."""
    text = EXAMPLE.read_text(encoding="utf-8")
    sample = "\n".join(re.findall(r"(?m)^# (\[.*\]|[a-z_]+ = .*)$", text))
    keys: set[str] = set()

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}{key}.", item)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                walk(prefix, item)
        else:
            keys.add(prefix.rstrip("."))

    walk("", tomllib.loads(text))
    walk("", tomllib.loads(sample))
    return keys


def _field_paths(cls: type, prefix: str = "") -> Iterator[str]:
    """Dotted TOML keys of every dataclass field, ``*`` standing for a table's own name."""
    hints = get_type_hints(cls)
    skip = NAMED_BY_TABLE.get(prefix.removesuffix(".*."))
    for field in dataclasses.fields(cls):
        if field.name == skip:
            continue
        path, hint = f"{prefix}{field.name}", hints[field.name]
        origin = get_origin(hint)
        if origin is types.UnionType:  # an optional table: the table's own keys
            hint = next(a for a in get_args(hint) if a is not type(None))
            origin = get_origin(hint)
        if origin is Mapping or path in NAMED_BY_TABLE:
            path += ".*"
        if origin is Mapping:
            hint = get_args(hint)[1]
        elif origin is tuple:
            hint = get_args(hint)[0]
        if isinstance(hint, type) and hint.__module__ == config_schema.__name__:
            yield from _field_paths(hint, f"{path}.")
        else:
            yield path


def test_config_example_documents_every_field() -> None:
    documented = _documented_keys()
    paths = list(_field_paths(Config))

    assert "telegram.webhook.secret_token" in paths  # the walk reaches nested tables
    assert "issues.emergency.*.keywords" in paths
    undocumented = [p for p in paths if not any(fnmatch(key, p) for key in documented)]
    assert undocumented == []


def test_config_from_dict_token_from_environment_overrides_file() -> None:
    data = _merged(_minimal(), {"telegram": {"token": "111:from-file"}})

    assert config_from_dict(data, {"GRIDBOT_TOKEN": "222:from-env"}).telegram.token == (
        "222:from-env"
    )
    assert config_from_dict(data, {}).telegram.token == "111:from-file"


def test_config_from_dict_keeps_token_out_of_repr() -> None:
    assert "test-token" not in repr(config_from_dict(_minimal(), ENV))


def test_config_from_dict_missing_token_is_a_problem() -> None:
    assert _problems(_minimal(), {}) == [
        "telegram.token：必须填写（或设置环境变量 GRIDBOT_TOKEN）"
    ]


@pytest.mark.parametrize(
    ("patch", "problem"),
    [
        pytest.param(
            {"telegram": {"moda": "webhook"}},
            "telegram.moda：未知的配置项（是否想写 mode？）",
            id="unknown-key-with-suggestion",
        ),
        pytest.param({"storage": {"zzz": 1}}, "storage.zzz：未知的配置项", id="unknown-key"),
        pytest.param(
            {"outbx": {}}, "outbx：未知的配置项（是否想写 outbox？）", id="unknown-table"
        ),
        pytest.param(
            {"intake": {"batch": "100"}},
            'intake.batch：应为整数，实际是字符串 "100"',
            id="string-for-int",
        ),
        pytest.param(
            {"intake": {"max_attempts": True}},
            "intake.max_attempts：应为整数，实际是布尔值 true",
            id="bool-is-not-an-int",
        ),
        pytest.param(
            {"outbox": {"backoff_seconds": False}},
            "outbox.backoff_seconds：应为数字，实际是布尔值 false",
            id="bool-is-not-a-number",
        ),
        pytest.param(
            {"intake": {"batch": 500}},
            "intake.batch：应在 1 到 100 之间，实际是 500",
            id="out-of-range",
        ),
        pytest.param(
            {"outbox": {"private_per_second": 0}},
            "outbox.private_per_second：应大于 0，实际是 0",
            id="not-positive",
        ),
        pytest.param(
            {"issues": {"limits": {"general": {"resolve": "7 days"}}}},
            'issues.limits.general.resolve：不是有效的时限 "7 days"'
            "（可写 2h、4wh、15d、7wd 或 eod）",
            id="bad-duration",
        ),
        pytest.param(
            {"schedule": {"chase": {"unaccepted_escalate_after": "两小时"}}},
            'schedule.chase.unaccepted_escalate_after：不是有效的时限 "两小时"'
            "（可写 2h、4wh、15d、7wd 或 eod）",
            id="bad-chase-duration",
        ),
        pytest.param(
            {"timezone": "Asia/Shangai"},
            'timezone：未知的时区 "Asia/Shangai"（是否想写 Asia/Shanghai？）',
            id="bad-timezone",
        ),
        pytest.param(
            {"locale": "fr"}, 'locale：应为 zh_CN / en 之一，实际是 "fr"', id="bad-locale"
        ),
        pytest.param(
            {"calendar": {"work_start": "9点"}},
            'calendar.work_start：应为 "HH:MM" 格式的时间（如 "09:00"），实际是 "9点"',
            id="bad-time",
        ),
        pytest.param(
            {"calendar": {"work_start": "18:00", "work_end": "09:00"}},
            "calendar.work_end：下班时间应晚于上班时间（18:00）",
            id="work-ends-before-it-starts",
        ),
        pytest.param(
            {"calendar": {"lunch_start": ""}},
            'calendar.lunch_end：lunch_start 和 lunch_end 要么都填写，要么都留空（""）',
            id="half-a-lunch-break",
        ),
        pytest.param(
            {"rates": {"response_weight": 0.3}},
            "rates：response_weight、resolution_weight、satisfaction_weight"
            " 之和应为 1，现在是 1.2",
            id="weights-do-not-sum-to-one",
        ),
        pytest.param(
            {"issues": {"feedback_reminder_days": 7}},
            "issues.feedback_reminder_days：评价提醒应早于评价过期（feedback_expiry_days）",
            id="reminder-after-expiry",
        ),
        pytest.param(
            {"telegram": {"webhook": {"url": "http://bot.example.org/telegram"}}},
            'telegram.webhook.url：应为以 https:// 开头的网址，实际是 "http://bot.example.org/telegram"',
            id="webhook-needs-https",
        ),
        pytest.param(
            {"issues": {"emergency": {"fire": {"number": "119", "keywords": "着火"}}}},
            'issues.emergency.fire.keywords：应为列表，实际是字符串 "着火"',
            id="keywords-not-a-list",
        ),
    ],
)
def test_config_from_dict_reports_problem(patch: dict[str, Any], problem: str) -> None:
    assert _problems(_merged(_minimal(), patch)) == [problem]


def test_config_from_dict_reports_grid_chat_id_of_wrong_type() -> None:
    assert _grids_problems(chat_id="abc") == [
        'community.grids[1].chat_id：应为整数，实际是字符串 "abc"'
    ]


def test_config_from_dict_reports_duplicate_grid_key_and_chat() -> None:
    assert _grids_problems(key="g1", chat_id=-1001) == [
        "community.grids[1].key：与 community.grids[0] 重复",
        "community.grids[1].chat_id：与 community.grids[0] 重复",
    ]


def test_config_from_dict_reports_user_ids_that_are_not_integers() -> None:
    assert _grids_problems(workers=[102, "103", True]) == [
        'community.grids[1].workers[1]：应为整数，实际是字符串 "103"',
        "community.grids[1].workers[2]：应为整数，实际是布尔值 true",
    ]


def test_config_from_dict_requires_a_worker_per_grid() -> None:
    assert _grids_problems(workers=[]) == [
        "community.grids[1].workers：至少需要一名网格员的 Telegram 用户 ID"
    ]


def test_config_from_dict_refuses_a_person_as_a_group_chat() -> None:
    assert _grids_problems(chat_id=5000000101) == [
        "community.grids[1].chat_id："
        "群组的 chat_id 应为负数（如 -1001234567890）；正数是个人的用户 ID"
    ]


def test_config_from_dict_allows_a_grid_without_a_group() -> None:
    data = _minimal()
    del data["community"]["grids"][1]["chat_id"]
    config = config_from_dict(data, ENV)

    assert config.community.grids[1].chat_id is None
    assert config.grid_by_chat(-1001) == config.community.grids[0]


def test_config_from_dict_webhook_mode_requires_url_and_secret() -> None:
    assert _problems(_merged(_minimal(), {"telegram": {"mode": "webhook"}})) == [
        """telegram.webhook.url：mode = "webhook" 时必须填写""",
        """telegram.webhook.secret_token：mode = "webhook" 时必须填写""",
    ]


def test_config_from_dict_reports_all_problems_at_once() -> None:
    data = _merged(
        _minimal(),
        {"telegram": {"moda": "webhook"}, "intake": {"batch": "x"}, "timezone": "Mars/Base"},
    )
    del data["community"]["name"]

    with pytest.raises(ConfigError) as caught:
        config_from_dict(data, ENV)

    title, *lines = str(caught.value).splitlines()
    assert title == "配置有 4 处问题，请改正后重新启动："
    assert len(lines) == 4
    assert all(line.startswith("  - ") for line in lines)


def test_config_from_dict_categories_replace_the_defaults() -> None:
    category = {"key": "other", "name": "其他", "keywords": [], "handler": "property"}
    config = config_from_dict(_merged(_minimal(), {"issues": {"categories": [category]}}), ENV)

    assert [c.key for c in config.issues.categories] == ["other"]
    assert config.category("other") is not None
    assert config.category("leak") is None


def test_config_from_dict_checks_category_references() -> None:
    categories = [
        {"key": "other", "name": "其他", "limit": "slow"},
        {"key": "lamp", "name": "路灯", "handler": "city"},
        {"key": "lamp", "name": "路灯"},
    ]
    data = _merged(_minimal(), {"issues": {"categories": categories, "default_category": "x"}})

    assert _problems(data) == [
        'issues.categories[0].limit：没有名为 "slow" 的配置'
        "（现有：complex、general、urgent、utilities）",
        'issues.categories[1].handler：没有名为 "city" 的配置（现有：property）',
        "issues.categories[2].key：与 issues.categories[1] 重复",
        'issues.default_category：没有名为 "x" 的配置（现有：lamp、other）',
    ]


def test_config_from_dict_limit_override_keeps_the_default_it_does_not_name() -> None:
    data = _merged(_minimal(), {"issues": {"limits": {"general": {"resolve": "5wd"}}}})
    limit = config_from_dict(data, ENV).limit("general")

    assert limit.respond == Duration(2, Unit.WORKING_HOURS)
    assert limit.resolve == Duration(5, Unit.WORKING_DAYS)


def test_config_from_dict_lookups_find_people_and_places() -> None:
    config = config_from_dict(_minimal(), ENV)

    assert config.grid_by_chat(-1002) == config.grid_by_key("g2")
    assert config.grid_by_chat(-9) is None
    assert config.is_worker(101) and not config.is_worker(301)
    assert [g.key for g in config.grids_of_worker(102)] == ["g2"]
    assert config.handler_by_user(301) == config.handler_by_key("property")
    assert config.handler_by_user(101) is None


def test_load_config_reports_toml_syntax_error_line(tmp_path: Path) -> None:
    path = tmp_path / "gridbot.toml"
    path.write_text('timezone = "Asia/Shanghai"\n[telegram]\nmode = polling\n', encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_config(path, ENV)

    assert caught.value.problems[0].startswith(f"{path}：第 3 行第 8 列 TOML 语法错误")
    assert str(path) in caught.value.title


def test_load_config_reports_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.toml", ENV)

    assert caught.value.problems == [f"{tmp_path / 'nope.toml'}：文件不存在"]


def test_load_config_resolves_storage_path_against_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "elsewhere").mkdir()
    path = tmp_path / "etc" / "gridbot.toml"
    path.write_text(
        '[storage]\npath = "data/bot.sqlite3"\n[community]\nname = "阅海湾社区"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path / "elsewhere")

    config = load_config(Path("../etc/gridbot.toml"), ENV)

    assert config.storage.path == (tmp_path / "etc").resolve() / "data" / "bot.sqlite3"


def test_storage_url_names_sqlite_or_postgresql(tmp_path: Path) -> None:
    # issue #16: storage.url; the default and storage.path both mean a SQLite file
    default = config_from_dict(_minimal(), ENV, base_dir=tmp_path).storage
    assert default.path == tmp_path / "gridbot.sqlite3" and not default.is_postgres
    assert default.url == f"sqlite:///{tmp_path}/gridbot.sqlite3"
    assert default.database == str(tmp_path / "gridbot.sqlite3")

    relative = _merged(_minimal(), {"storage": {"url": "sqlite:///data/a.sqlite3"}})
    assert config_from_dict(relative, ENV, base_dir=tmp_path).storage.path == (
        tmp_path / "data" / "a.sqlite3"
    )
    url = "postgresql://gridbot@127.0.0.1:5432/district"
    pg = config_from_dict(_merged(_minimal(), {"storage": {"url": url}}), ENV).storage
    assert pg.is_postgres and pg.database == url


def test_storage_url_problems_are_reported_with_their_key() -> None:
    both = {"storage": {"url": "sqlite:///a.sqlite3", "path": "b.sqlite3"}}
    assert _problems(_merged(_minimal(), both)) == [
        "storage.path：与 storage.url 只能写一个（path 是旧写法，等同于 url = "
        '"sqlite:///文件路径"）'
    ]
    assert _problems(_merged(_minimal(), {"storage": {"url": "mysql://x/y"}})) == [
        "storage.url：应为 sqlite:///文件路径 或 postgresql://用户@主机:端口/数据库，"
        '实际是 "mysql://x/y"'
    ]


def test_config_from_dict_speaks_english_when_the_config_does() -> None:
    data = _merged(_minimal(), {"locale": "en", "telegram": {"moda": "webhook"}})
    del data["community"]["name"]

    with pytest.raises(ConfigError) as caught:
        config_from_dict(data, {})

    assert caught.value.title.startswith("The configuration has 3 problem(s)")
    assert caught.value.problems == [
        "telegram.token: is required (or set the GRIDBOT_TOKEN environment variable)",
        "telegram.moda: unknown key (did you mean mode?)",
        "community.name: is required",
    ]


def test_config_error_defaults_to_a_chinese_title() -> None:
    assert str(ConfigError(["a：b"])) == "配置有 1 处问题，请改正后重新启动：\n  - a：b"


def test_config_from_dict_limits_are_read_only() -> None:
    config = config_from_dict(_minimal(), ENV)

    with pytest.raises(TypeError):
        config.issues.limits["general"] = config.limit("urgent")  # type: ignore[index]
    assert isinstance(config.issues.limits, types.MappingProxyType)


def _defaults_only() -> Config:
    """A config naming only what has no default: the token, the community and its people."""
    example = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    return config_from_dict({"community": example["community"]}, ENV)


def test_config_example_states_the_schema_defaults() -> None:
    """Each default is written once, in bot/config/schema.py: the loader reads it from there, and
    config.example.toml, which documents every key with its default, must say the same."""
    assert load_config(EXAMPLE, ENV) == dataclasses.replace(
        _defaults_only(), storage=load_config(EXAMPLE, ENV).storage
    )


@pytest.mark.parametrize(
    "section",
    ["intake", "outbox", "calendar", "rates", "privacy", "meetings", "votes", "backup", "metrics"],
)
def test_config_sections_left_out_take_the_schema_defaults(section: str) -> None:
    loaded = getattr(_defaults_only(), section)
    assert loaded == type(loaded)()


def test_config_holidays_file_is_read_relative_to_the_config(tmp_path: Path) -> None:
    # issue #13 item 21: next year's holidays before chinese-calendar knows them
    (tmp_path / "holidays-2027.toml").write_text(
        'holidays = ["2027-01-01"]\nworkdays = ["2027-01-02"]\n', encoding="utf-8"
    )
    data = _merged(_minimal(), {"calendar": {"holidays_file": "holidays-2027.toml"}})
    days = config_from_dict(data, ENV, base_dir=tmp_path).calendar.holidays_file

    assert days is not None and days.years == {2027}


def test_config_holidays_file_problems_are_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('holidays = ["2027-02-30"]\n', encoding="utf-8")
    missing = _merged(_minimal(), {"calendar": {"holidays_file": str(tmp_path / "none.toml")}})
    bad = _merged(_minimal(), {"calendar": {"holidays_file": str(tmp_path / "bad.toml")}})

    assert _problems(missing) == ["calendar.holidays_file：文件不存在"]
    [problem] = _problems(bad)
    assert problem.startswith("calendar.holidays_file：节假日文件有误：'2027-02-30'")


def test_config_checkin_escalate_after_defaults_to_an_hour_and_takes_hours_only() -> None:
    # issue #13 item 19
    default = config_from_dict(_minimal(), ENV).schedule.checkin.escalate_after
    weekdays = _merged(_minimal(), {"schedule": {"checkin": {"escalate_after": "1wd"}}})

    assert default == Duration(1, Unit.HOURS)
    assert _problems(weekdays) == [
        'schedule.checkin.escalate_after：应写成小时数（如 "1h"），实际是 1wd'
    ]
