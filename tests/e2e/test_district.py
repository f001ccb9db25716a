"""A district (issue #16): two street offices, each its own bot with its own token, config and
communities, run as two ``gridbot run`` processes on one PostgreSQL database.

Telegram numbers each bot's updates on its own, so both bots' first updates carry the same
ids: with the inbox keyed by bot (migration 0025) neither swallows the other's. Each bot
answers in its own groups only, files its reports under its own community, and sends its
secretary a digest of its own community. The processes are stopped and started again between
the reports and the digest, so each bot also resumes from its own last update.

Both bots are configured to send the district's roll-up (``[district]``): its staff get one,
from whichever bot swept first, with both street offices and their communities; each street
office's own roll-up lists its own community only.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from sandbox.server import SandboxServer
from tests.support import postgres as pg

pytestmark = pytest.mark.skipif(
    not pg.ACTIVE, reason="several bots on one database need PostgreSQL (the suite's run)"
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Two street offices: (token, community key, community name, grid key, grid name, group id,
# worker, secretary). Their grids' names are alike on purpose, as in real life.
OFFICES = (
    ("700001:office-a", "yhw", "阅海湾社区", "yhw1", "第一网格", -100700001, 7101, 7201),
    ("700002:office-b", "jsh", "金沙湖社区", "jsh1", "第一网格", -100700002, 7102, 7202),
)
# Each street office's name and staff member, by community key; the district's staff.
STREETS = {"yhw": ("阅海街道", 7301), "jsh": ("金沙街道", 7302)}
DISTRICT_STAFF = 7901
RESIDENT = 7501


def _config(path: Path, server: SandboxServer, url: str, office: tuple, digest_at: str) -> None:
    token, key, name, grid, grid_name, chat, worker, secretary = office
    path.write_text(
        f"""
[telegram]
token = "{token}"
base_url = "{server.base_url}"
base_file_url = "{server.base_file_url}"
poll_timeout = 1

[storage]
url = "{url}"

[schedule]
tick_seconds = 1
rules = []

[schedule.digest]
time = "{digest_at}"
weekly_weekday = 0

[[communities]]
key = "{key}"
name = "{name}"
secretaries = [{secretary}]

[[communities.grids]]
key = "{grid}"
name = "{grid_name}"
chat_id = {chat}
workers = [{worker}]

[[communities.handlers]]
key = "{key}-property"
name = "物业"
user_id = {worker + 50}
kind = "property"

[street_office]
name = "{STREETS[key][0]}"
staff = [{STREETS[key][1]}]

[district]
name = "金凤区"
staff = [{DISTRICT_STAFF}]
time = "{digest_at}"
""",
        encoding="utf-8",
    )
    path.chmod(0o600)


def _start(config: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "GRIDBOT_TOKEN"}  # each its own token
    with config.with_suffix(".log").open("ab") as log:  # read when the test fails
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


async def _stop(bot: subprocess.Popen[bytes]) -> None:
    bot.send_signal(signal.SIGTERM)  # a clean stop: finish what is stored, deliver what is due
    await asyncio.get_running_loop().run_in_executor(None, bot.wait, 60)


async def test_two_street_offices_share_one_database_and_nothing_crosses(tmp_path: Path) -> None:
    url = await pg.database_for_processes(tmp_path / "district")
    reports = {"yhw": 2, "jsh": 3}
    async with SandboxServer() as server:
        for token, _key, _name, _grid, _grid_name, _chat, worker, secretary in OFFICES:
            server.add_bot(token=token, username=f"gridbot_{token[-1]}")
            server.add_user("网格员", id=worker)
            server.add_user("书记", id=secretary)
        server.add_user("王", "阿姨", id=RESIDENT)
        for token, _key, _name, _grid, grid_name, chat, worker, _sec in OFFICES:
            server.add_group(grid_name, members=[RESIDENT, worker], id=chat, bot_token=token)
        server.add_user("区", "干部", id=DISTRICT_STAFF)
        for token, key, *_rest, secretary in OFFICES:
            server.add_user("街道", "干部", id=STREETS[key][1])
            await server.start_private(secretary, bot_token=token)
            await server.start_private(STREETS[key][1], bot_token=token)
            await server.start_private(DISTRICT_STAFF, bot_token=token)  # either may send
        configs = [tmp_path / f"office-{o[1]}.toml" for o in OFFICES]

        # The reports: the digest is due tomorrow, far from this part of the test.
        # (Three hours on, or the day's last minute: a time already past would count as due.)
        now = datetime.now(SHANGHAI)
        later = "23:59"
        if (now + timedelta(hours=3)).date() == now.date():
            later = (now + timedelta(hours=3)).strftime("%H:%M")
        for config, office in zip(configs, OFFICES, strict=True):
            _config(config, server, url, office, later)
        bots = [_start(c) for c in configs]
        try:
            for _t, key, _n, _g, _gn, chat, _w, _s in OFFICES:
                for n in range(reports[key]):
                    await server.user_sends(chat, RESIDENT, f"#报事 {key} 路灯坏了 {n}")

            def acknowledged(chat: int) -> int:
                return sum(
                    1 for r in server.sent if r.chat_id == chat and "已登记" in (r.text or "")
                )

            for _t, key, _n, _g, _gn, chat, _w, _s in OFFICES:
                await server.wait_for(
                    lambda _, c=chat, k=key: acknowledged(c) >= reports[k], timeout=90
                )
        finally:
            for bot in bots:
                await _stop(bot)

        # Started again with the digest due at the next minute: each secretary gets one, of
        # their own (each bot's sweeps keep their own clock, migration 0026).
        now = (datetime.now(SHANGHAI) + timedelta(minutes=1)).strftime("%H:%M")
        for config, office in zip(configs, OFFICES, strict=True):
            _config(config, server, url, office, now)
        bots = [_start(c) for c in configs]
        try:
            for *_rest, secretary in OFFICES:
                await server.wait_for(
                    lambda _, s=secretary: any(
                        "每日简报" in (r.text or "") for r in server.sent if r.chat_id == s
                    ),
                    timeout=90,
                )
            for person, title in [
                *((staff, "各社区简报") for _name, staff in STREETS.values()),
                (DISTRICT_STAFF, "各街道简报"),
            ]:
                await server.wait_for(
                    lambda _, p=person, t=title: any(
                        t in (r.text or "") for r in server.sent if r.chat_id == p
                    ),
                    timeout=90,
                )
        finally:
            for bot in bots:
                await _stop(bot)

    for _t, key, name, _g, _gn, chat, _w, secretary in OFFICES:
        other = next(o for o in OFFICES if o[1] != key)
        [digest] = [r.text for r in server.sent if r.chat_id == secretary and "每日简报" in r.text]
        assert f"{name}每日简报" in digest and other[2] not in digest
        assert f"当前：未办结 {reports[key]}，" in digest
        assert acknowledged(chat) == reports[key]  # each report answered once, by its bot
        assert not any(other[1] in (r.text or "") for r in server.sent if r.chat_id == chat)

    # one district roll-up, though both bots would send it: both offices, worst first
    [district] = [
        r.text for r in server.sent if r.chat_id == DISTRICT_STAFF and "各街道简报" in r.text
    ]
    assert "金凤区各街道简报" in district
    first, second = district.index("金沙街道"), district.index("阅海街道")
    assert first < second  # nothing overdue, no rates yet: ranked by name
    assert district.index("金沙湖社区") < second < district.index("阅海湾社区")
    assert "未办结 3" in district and "未办结 2" in district
    for key, (street, staff) in STREETS.items():
        [rollup] = [r.text for r in server.sent if r.chat_id == staff and "各社区简报" in r.text]
        other = next(k for k in STREETS if k != key)
        assert street in rollup and key in rollup and other not in rollup

    conn = await asyncpg.connect(url)
    try:
        filed = dict(await conn.fetch("SELECT community, COUNT(*) FROM issues GROUP BY 1"))
        inbox = await conn.fetch("SELECT bot, update_id FROM inbox ORDER BY bot, update_id")
        stray = await conn.fetchval(
            "SELECT COUNT(*) FROM outbox WHERE bot NOT IN ($1, $2)", "700001", "700002"
        )
    finally:
        await conn.close()
    assert filed == reports
    ids = {bot: {r["update_id"] for r in inbox if r["bot"] == bot} for bot in ("700001", "700002")}
    assert ids["700001"] & ids["700002"], "the two bots' update ids overlap, as Telegram's do"
    assert stray == 0
