"""Typed reading of TOML tables for ``bot.config``, recording problems instead of raising.

Nothing here raises on bad input. Each getter returns a usable placeholder and records a
localised problem line, so one pass over the file reports every mistake at once (a person fixing
a config should not have to restart the bot once per typo). ``Section.finish`` then reports the
keys nobody asked for, with a "did you mean" hint from difflib.

The default category, time-limit and emergency tables also live here, as data: they are the
numbers and words of the domain reference and are read through the same code as a user's
own tables, so a default can never bypass validation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Final, TypeVar

from bot.core.rendering import Renderer
from bot.core.workcal import Duration, Unit, parse_duration

T = TypeVar("T", bound=str)

_HHMM: Final = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_KEY: Final = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass
class Report:
    """Collects problem lines, each ``<dotted key>：<message>`` in the error locale."""

    renderer: Renderer
    problems: list[str] = field(default_factory=list)

    def add(self, key: str, problem: str, /, **values: object) -> None:
        message = self.renderer.text(f"config.problem.{problem}", **values)
        self.problems.append(self.renderer.text("config.line", key=key, message=message))

    def wrong_type(self, key: str, expected: str, value: object) -> None:
        self.add(
            key,
            "wrong_type",
            expected=self.renderer.text(f"config.type.{expected}"),
            actual=self.renderer.text(f"config.type.{type_name(value)}"),
            value=show(value),
        )


def _parse_clock(text: str) -> time | None:
    match = _HHMM.match(text)
    return time(int(match.group(1)), int(match.group(2))) if match else None


def _as_clock(default: time | str | None) -> time | None:
    """A default given as the schema's ``time`` or as ``"HH:MM"`` text."""
    return default if isinstance(default, time) or default is None else _parse_clock(default)


def type_name(value: object) -> str:
    """The catalogue name of a TOML value's type (bool first: bool is an int in Python)."""
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str")):
        if isinstance(value, kind):
            return name
    if isinstance(value, list):
        return "list"
    return "table" if isinstance(value, dict) else "datetime"


def show(value: object) -> str:
    """A short TOML-looking rendering of a value for an error message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 42 else text[:40] + '…"'
    if isinstance(value, list):
        return "[…]"
    if isinstance(value, dict):
        return "{…}"
    return str(value)


class Section:
    """One TOML table being read at a dotted ``path``; remembers which keys were asked for."""

    def __init__(self, report: Report, path: str, data: Mapping[str, object]) -> None:
        self.report = report
        self.path = path
        self.data = data
        self._known: set[str] = set()

    def key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        self._known.add(key)
        return key in self.data

    def _get(self, key: str, expected: str, kinds: tuple[type, ...]) -> object | None:
        """The value at ``key`` if present and of one of ``kinds`` (never bool for numbers)."""
        if not self.has(key):
            return None
        value = self.data[key]
        if isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds):
            return value
        self.report.wrong_type(self.key(key), expected, value)
        return None

    def required(self, key: str, problem: str = "required") -> None:
        self.report.add(self.key(key), problem)

    def string(self, key: str, default: str | None = None, *, empty: bool = True) -> str:
        """A string; ``default=None`` makes it required, ``empty=False`` refuses ``""``."""
        value = self._get(key, "str", (str,))
        if value is None and default is None and key not in self.data:
            self.required(key)
        if value is None:
            return default or ""
        assert isinstance(value, str)
        if not empty and not value.strip():
            self.required(key)
        return value

    def integer(self, key: str, default: int | None = None, *, low: int = 1) -> int:
        """An integer of at least ``low``; ``default=None`` makes it required."""
        value = self._get(key, "int", (int,))
        if value is None:
            if default is None and key not in self.data:
                self.required(key)
            return default or 0
        assert isinstance(value, int)
        if value < low:
            self.report.add(self.key(key), "at_least", low=low, value=value)
        return value

    def number(
        self, key: str, default: float, *, high: float | None = None, zero: bool = False
    ) -> float:
        """A positive number (TOML int or float, returned as float), or ``0 <= n <= high``."""
        value = self._get(key, "number", (int, float))
        if value is None:
            return default
        assert isinstance(value, int | float)
        if high is not None and not 0 <= value <= high:
            self.report.add(self.key(key), "out_of_range", low=0, high=f"{high:g}", value=value)
        elif high is None and (value < 0 or (value == 0 and not zero)):
            self.report.add(self.key(key), "positive", value=value)
        return float(value)

    def choice(self, key: str, default: T | None, choices: tuple[T, ...]) -> T:
        """One of ``choices``; ``default=None`` makes it required."""
        value = self._get(key, "str", (str,))
        for choice in choices:
            if value == choice:
                return choice
        if value is not None:
            listed = " / ".join(choices)
            self.report.add(self.key(key), "one_of", choices=listed, value=show(value))
        elif default is None and key not in self.data:
            self.required(key)
        return choices[0] if default is None else default

    def duration(self, key: str, default: str | None = None) -> Duration:
        """A time limit such as ``2h``, ``4wh``, ``7wd`` or ``eod``; ``default=None`` makes it
        required."""
        text = self.string(key, default, empty=False)
        try:
            return parse_duration(text)
        except ValueError:
            if text:
                self.report.add(self.key(key), "bad_duration", value=text)
            return parse_duration(default) if default else Duration(1, Unit.HOURS)

    def ident(self, key: str, default: str | None = None) -> str:
        """A short ASCII identifier (letters, digits, ``_``, ``-``), used in buttons and links."""
        value = self.string(key, default)
        if value and not _KEY.match(value):
            self.report.add(self.key(key), "bad_ident", value=show(value))
        return value

    def clock(self, key: str, default: time | str) -> time:
        """A local time written ``"HH:MM"`` (a bare TOML time such as ``09:00:00`` works too)."""
        parsed = self.optional_clock(key, default)
        if parsed is None and self.data.get(key) == "":
            self.report.add(self.key(key), "bad_time", value='""')
        return parsed or _as_clock(default) or time()

    def optional_clock(self, key: str, default: time | str | None) -> time | None:
        """Like ``clock``, but ``""`` means unset."""
        value = self._get(key, "str", (str, time))
        if isinstance(value, time):
            return value
        if value is None:
            return _as_clock(default)
        text = str(value)
        parsed = _parse_clock(text)
        if parsed is None and text != "":
            self.report.add(self.key(key), "bad_time", value=show(text))
        return parsed

    def _items(self, key: str, expected: str, kind: type) -> Iterator[tuple[str, object]]:
        """Yield ``(dotted key, item)`` for the list items of ``kind``; report the others."""
        value = self._get(key, "list", (list,))
        for index, item in enumerate(value if isinstance(value, list) else ()):
            where = f"{self.key(key)}[{index}]"
            if isinstance(item, kind) and not isinstance(item, bool):
                yield where, item
            else:
                self.report.wrong_type(where, expected, item)

    def ids(self, key: str) -> tuple[int, ...]:
        """A list of Telegram ids (integers)."""
        return tuple(item for _, item in self._items(key, "int", int) if isinstance(item, int))

    def words(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """A list of non-empty strings; absent means ``default``."""
        if not self.has(key):
            return default
        words = []
        for where, item in self._items(key, "str", str):
            if isinstance(item, str) and item.strip():
                words.append(item.strip())
            else:
                self.report.add(where, "required")
        return tuple(words)

    def table(self, key: str) -> Section:
        """A nested table; absent means empty (every key defaulted)."""
        value = self._get(key, "table", (dict,))
        return Section(self.report, self.key(key), value if isinstance(value, dict) else {})

    def tables(self, key: str, default: list[object]) -> list[Section]:
        """An array of tables (``[[key]]``); absent means ``default``, which it replaces whole."""
        if not self.has(key):
            return [
                Section(self.report, f"{self.key(key)}[{index}]", item)
                for index, item in enumerate(default)
                if isinstance(item, dict)
            ]
        return [
            Section(self.report, where, item)
            for where, item in self._items(key, "table", dict)
            if isinstance(item, dict)
        ]

    def named_tables(
        self, key: str, defaults: Mapping[str, object], *, merge: bool
    ) -> list[tuple[str, Section]]:
        """A table of tables (``[key.<name>]``) as ``(name, section)`` pairs.

        With ``merge`` the given tables add to ``defaults`` and a given table's keys override
        the default table of the same name; without it, giving the table replaces the defaults.
        """
        outer = self.table(key)
        given = isinstance(self.data.get(key), dict)
        merged: dict[str, object] = dict(defaults) if merge or not given else {}
        for name, item in outer.data.items():
            outer._known.add(name)
            if not isinstance(item, dict):
                self.report.wrong_type(outer.key(name), "table", item)
                continue
            base = merged.get(name) if merge else None
            merged[name] = {**base, **item} if isinstance(base, dict) else item
        return [
            (name, Section(self.report, outer.key(name), data))
            for name, data in merged.items()
            if isinstance(data, dict)
        ]

    def finish(self) -> None:
        """Report keys that no getter asked for, suggesting the closest known key."""
        for key in self.data:
            if key in self._known:
                continue
            import difflib  # only for an unknown key

            close = difflib.get_close_matches(key, sorted(self._known), n=1, cutoff=0.6)
            if close:
                self.report.add(self.key(key), "unknown_key_hint", suggestion=close[0])
            else:
                self.report.add(self.key(key), "unknown_key")


# Defaults from domain.md. Tuples, not dicts: no module-level mutable state.
_LIMITS: Final = (
    ("urgent", "2h", "eod"),  # threat to life or property: respond in 2 h, solve the same day
    ("utilities", "2h", "24h"),  # water, power, gas, heating
    ("general", "2wh", "7d"),  # 2 hours counted in working time
    ("complex", "2h", "15d"),
)

# fmt: off
_CATEGORIES: Final = (
    ("property", "物业服务/收费", "general",
     "物业 物业费 收费 乱收费 保安 保洁 门禁 服务态度 公摊"),
    ("leak", "漏水/下水堵塞", "general",
     "漏水 渗水 堵塞 堵了 下水道 返水 反水 马桶堵 水管爆 化粪池"),
    ("elevator", "电梯", "utilities",
     "电梯 困人 关人 电梯故障 电梯停运 电梯异响"),
    ("parking", "停车", "general",
     "停车 车位 乱停 占车位 挡路 地库 僵尸车"),
    ("noise", "噪音", "general",
     "噪音 噪声 太吵 装修 施工 广场舞 扰民 半夜 电钻"),
    ("dog", "养犬", "general",
     "狗 遛狗 狗屎 狗粪 拴绳 犬 咬人 狗叫"),
    ("sanitation", "垃圾分类/环境卫生", "general",
     "垃圾 分类 垃圾桶 清运 卫生 臭味 老鼠 蟑螂 蚊子 堆放"),
    ("ebike", "电动车充电/飞线/消防通道", "general",
     "电动车 电瓶车 充电 飞线 拉线 消防通道 消防车道 楼道堆物 推进电梯"),
    ("encroachment", "违建/占用公共空间/群租", "complex",
     "违建 私搭乱建 搭建 占用 占道 圈地 群租 隔断"),
    ("greenery", "绿化", "general",
     "绿化 树木 草坪 修剪 毁绿 种菜 枯死 树枝"),
    ("streetlight", "路灯/市政设施", "general",
     "路灯 灯不亮 灯坏 照明 井盖 路面 坑洼 健身器材 座椅 围栏"),
    ("utilities", "水电气热", "utilities",
     "停水 停电 水压 没水 没电 燃气 暖气 供暖 不热 跳闸"),
    ("neighbour", "邻里纠纷", "general",
     "邻居 邻里 纠纷 吵架 矛盾 调解 高空抛物"),
    ("committee", "业委会/议事", "complex",
     "业委会 业主大会 议事 投票 选举 维修基金 维修资金 物业合同 换物业"),
    ("other", "其他", "general", ""),
)
# fmt: on

_EMERGENCY: Final = (
    ("fire", "119", "着火 起火 火灾 冒烟 烧起来"),
    ("medical", "120", "晕倒 昏倒 倒地 不省人事 心脏病 急救 流血"),
    ("police", "110", "打架 斗殴 持刀 抢劫 偷窃 小偷"),
    ("traffic", "122", "车祸 撞车 交通事故"),
    ("gas", "119", "燃气泄漏 煤气泄漏 漏气 煤气味"),
)


def default_limits() -> dict[str, object]:
    """``[issues.limits]`` as a TOML-shaped table."""
    return {name: {"respond": respond, "resolve": resolve} for name, respond, resolve in _LIMITS}


def default_categories() -> list[object]:
    """``[[issues.categories]]`` as a TOML-shaped array of tables."""
    return [
        {"key": key, "name": name, "limit": limit, "keywords": words.split()}
        for key, name, limit, words in _CATEGORIES
    ]


def default_emergency() -> dict[str, object]:
    """``[issues.emergency]`` as a TOML-shaped table of tables."""
    return {
        kind: {"number": number, "keywords": words.split()} for kind, number, words in _EMERGENCY
    }
