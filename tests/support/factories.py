"""Test building blocks: a small community's config, a fake clock, a real issue service.

The community: grid g1 (group -1001, worker 101, leader 111), grid g2 (group -1002, worker 102),
secretary 201, handlers 物业 ``property`` (user 301) and 市政 ``city`` (user 302). Residents
are any other ids (501, 502 …). The clock starts on Wednesday 2025-03-05 10:00 in Shanghai, a
working day, so working-hour limits are easy to reason about.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Config, config_from_dict
from bot.core.workcal import WorkCalendar
from bot.issues.service import IssueService
from storage.db import Database
from storage.issues.repo import IssueRepo

SHANGHAI = ZoneInfo("Asia/Shanghai")
ENV = {"GRIDBOT_TOKEN": "123456:test-token"}

G1_CHAT, G2_CHAT = -1001, -1002
WORKER_G1, LEADER_G1, WORKER_G2 = 101, 111, 102
SECRETARY = 201
PROPERTY_USER, CITY_USER = 301, 302
RESIDENT, NEIGHBOUR, STRANGER = 501, 502, 503


def community_data() -> dict[str, Any]:
    """The TOML-shaped mapping of the test community (copy it before changing it)."""
    return {
        "community": {
            "name": "阅海湾社区",
            "secretaries": [SECRETARY],
            "grids": [
                {
                    "key": "g1",
                    "name": "第一网格",
                    "chat_id": G1_CHAT,
                    "workers": [WORKER_G1],
                    "leaders": [LEADER_G1],
                },
                {"key": "g2", "name": "第二网格", "chat_id": G2_CHAT, "workers": [WORKER_G2]},
            ],
            "handlers": [
                {
                    "key": "property",
                    "name": "万象美物业",
                    "user_id": PROPERTY_USER,
                    "kind": "property",
                },
                {"key": "city", "name": "市政所", "user_id": CITY_USER, "kind": "department"},
            ],
        }
    }


# A second community (issue #15): 金沙湖社区, key "jsh", grid h1 (group -1011, worker 121,
# leader 131), secretary 221, its property company 金沙物业 ``jsh-property`` (user 321); the
# first community keeps everything above under the key "yhw". The street office's staff: 901.
H1_CHAT = -1011
WORKER_H1, LEADER_H1, SECRETARY_B, PROPERTY_B = 121, 131, 221, 321
STREET_STAFF = 901


def two_communities_data() -> dict[str, Any]:
    """The test community as ``[[communities]]`` "yhw" beside a second one, "jsh", and a
    ``[street_office]`` over both (copy it before changing it)."""
    first = {"key": "yhw", **community_data()["community"]}
    second = {
        "key": "jsh",
        "name": "金沙湖社区",
        "secretaries": [SECRETARY_B],
        "grids": [
            {
                "key": "h1",
                "name": "第一网格",
                "chat_id": H1_CHAT,
                "workers": [WORKER_H1],
                "leaders": [LEADER_H1],
            }
        ],
        "handlers": [
            {"key": "jsh-property", "name": "金沙物业", "user_id": PROPERTY_B, "kind": "property"}
        ],
    }
    return {
        "communities": [first, second],
        "street_office": {"name": "阅海街道", "staff": [STREET_STAFF]},
    }


def make_two_communities(**issues: Any) -> Config:
    data = two_communities_data()
    if issues:
        data["issues"] = dict(issues)
    return config_from_dict(data, ENV)


def make_config(**issues: Any) -> Config:
    """The test community, with ``[issues]`` keys overridden by ``issues``."""
    data = copy.deepcopy(community_data())
    if issues:
        data["issues"] = dict(issues)
    return config_from_dict(data, ENV)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2025, 3, 5, 10, 0, tzinfo=SHANGHAI)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | None = None, **units: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**units)
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment


@dataclass
class IssueWorld:
    db: Database
    repo: IssueRepo
    clock: FakeClock
    config: Config
    service: IssueService


def calendar_for(config: Config) -> WorkCalendar:
    cal = config.calendar
    lunch = (cal.lunch_start, cal.lunch_end)
    return WorkCalendar(
        config.timezone,
        cal.work_start,
        cal.work_end,
        None if lunch[0] is None or lunch[1] is None else (lunch[0], lunch[1]),
        official=cal.holidays_file,
    )


@asynccontextmanager
async def issue_world(
    tmp_path: Path, config: Config | None = None, **issues: Mapping[str, Any] | Any
) -> AsyncIterator[IssueWorld]:
    """A real database at ``tmp_path`` with every migration, and the service on top of it."""
    config = config or make_config(**issues)
    db = await Database.open(tmp_path / "gridbot.sqlite3")
    try:
        repo = IssueRepo(db)
        clock = FakeClock()
        service = IssueService(repo, clock, config, calendar_for(config))
        yield IssueWorld(db, repo, clock, config, service)
    finally:
        await db.close()
