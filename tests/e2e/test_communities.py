"""End to end (issue #15 item 1): two communities in one bot and one database, nothing crossing.

阅海湾社区 ("yhw": groups g1 and g2, worker 101, secretary 201, 万象美物业) and 金沙湖社区
("jsh": group h1, worker 121, secretary 221, 金沙物业), and the street office's staff (901),
all in one sandbox, served by the real bot: a report in each, each triaged by its own worker,
a worker of one community refused on the other's issue (a forged button), each secretary's
digest with only their numbers, the street office's roll-up, and an advisory vote in each.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook

from bot.app import GridBot
from bot.config import config_from_dict
from bot.schedule.jobs import run_sweeps
from sandbox.server import SandboxServer
from tests.support import factories as f
from tests.support.harness import (
    FAST,
    PEOPLE,
    TOKEN,
    World,
    press,
    running_bot,
    step,
)

START = datetime(2026, 3, 3, 10, 0, tzinfo=f.SHANGHAI)  # a Tuesday, working hours
STAFF_B = {
    f.WORKER_H1: ("钱", "网格员"),
    f.LEADER_H1: ("孙", "网格长"),
    f.SECRETARY_B: ("周", "书记"),
    f.PROPERTY_B: ("金沙", "物业"),
    f.STREET_STAFF: ("吴", "街道"),
}
RESIDENT_B = 511


@asynccontextmanager
async def two_communities(tmp_path: Path) -> AsyncIterator[World]:
    async with SandboxServer() as server:
        server.add_bot(token=TOKEN, username="gridbot", first_name="网格通")
        for user_id, (first, last) in {**PEOPLE, **STAFF_B}.items():
            server.add_user(first, last, id=user_id)
        server.add_user("郑", "奶奶", id=RESIDENT_B)
        # the worker of 阅海湾 happens to live in 金沙湖 and is a member of its group too
        g1 = [f.WORKER_G1, f.LEADER_G1, f.RESIDENT, f.NEIGHBOUR]
        h1 = [f.WORKER_H1, f.LEADER_H1, RESIDENT_B, f.WORKER_G1]
        server.add_group("阅海湾第一网格群", members=g1, id=f.G1_CHAT)
        server.add_group("阅海湾第二网格群", members=[f.WORKER_G2], id=f.G2_CHAT)
        server.add_group("金沙湖第一网格群", members=h1, id=f.H1_CHAT)
        data = copy.deepcopy(f.two_communities_data())
        data["telegram"] = {
            "base_url": server.base_url,
            "base_file_url": server.base_file_url,
            "poll_timeout": 1,
        }
        data["storage"] = {"path": str(tmp_path / "gridbot.sqlite3")}
        data["outbox"] = dict(FAST)
        yield World(server, config_from_dict(data, f.ENV))


async def report(world: World, gridbot: GridBot, chat: int, user: int, text: str) -> None:
    await world.server.user_sends(chat, user, text)
    await step(world, gridbot)


async def sweep(world: World, gridbot: GridBot) -> None:
    await run_sweeps(gridbot.services, "gridbot")
    await step(world, gridbot)


def texts(world: World, chat: int, contains: str) -> list[str]:
    return [t for t in world.texts_to(chat) if contains in t]


async def test_two_communities_in_one_bot_share_nothing(tmp_path: Path) -> None:
    clock = f.FakeClock(START)
    async with two_communities(tmp_path) as world, running_bot(world, clock) as gridbot:
        server = world.server
        for person in (f.WORKER_G1, f.WORKER_H1, f.SECRETARY, f.SECRETARY_B, f.STREET_STAFF):
            await server.start_private(person)
        await server.start_private(f.PROPERTY_USER)
        await server.start_private(f.PROPERTY_B)
        await step(world, gridbot)

        # a report in each community becomes an issue of that community
        await report(world, gridbot, f.G1_CHAT, f.RESIDENT, "#报事 3号楼路灯坏了")
        await report(world, gridbot, f.H1_CHAT, RESIDENT_B, "#报事 8号楼门禁坏了")
        await report(world, gridbot, f.H1_CHAT, RESIDENT_B, "#报事 9号楼楼道堆物")
        rows = await gridbot.db.fetchall("SELECT number, grid, community FROM issues")
        assert sorted(tuple(r) for r in rows) == [
            (1, "g1", "yhw"),
            (2, "h1", "jsh"),
            (3, "h1", "jsh"),
        ]

        # each worker gets their own community's cards only
        card_a = await world.wait_sent(f.WORKER_G1, "#1")
        card_b = await world.wait_sent(f.WORKER_H1, "#2")
        assert not texts(world, f.WORKER_G1, "#2") and not texts(world, f.WORKER_G1, "8号楼")
        assert not texts(world, f.WORKER_H1, "3号楼路灯")

        # each worker triages their own issue and dispatches it to their own property company
        await press(world, gridbot, card_a, f.WORKER_G1, "交办")
        await press(world, gridbot, card_a, f.WORKER_G1, "万象美物业")
        await press(world, gridbot, card_b, f.WORKER_H1, "交办")
        pick = [r for r in world.sent_to(f.WORKER_H1) if r.reply_markup]
        labels = [
            b["text"] for r in pick for row in r.reply_markup["inline_keyboard"] for b in row
        ]
        assert "金沙物业" in labels and "万象美物业" not in labels  # never another's company
        await press(world, gridbot, card_b, f.WORKER_H1, "金沙物业")
        await world.wait_sent(f.PROPERTY_USER, "交办单")
        await world.wait_sent(f.PROPERTY_B, "交办单")
        assert not texts(world, f.PROPERTY_USER, "8号楼")

        # the worker of 阅海湾 forges 受理 on 金沙湖's issue #3: refused, nothing changes
        assert card_a.message_id is not None
        await server.press_button(
            f.WORKER_G1, card_a.message_id, f.WORKER_G1, "i:acc:3", forge=True
        )
        await step(world, gridbot)
        # ... and 万象美物业 forges 已办结 on 金沙湖's issue #2
        order = await world.wait_sent(f.PROPERTY_USER, "交办单")
        assert order.message_id is not None
        await server.press_button(
            f.PROPERTY_USER, order.message_id, f.PROPERTY_USER, "h:done:2", forge=True
        )
        await step(world, gridbot)
        states = await gridbot.db.fetchall("SELECT number, state FROM issues ORDER BY number")
        assert [tuple(r) for r in states] == [(1, "assigned"), (2, "assigned"), (3, "new")]
        refusals = [a.text or "" for a in server.callback_answers[-2:]]
        assert refusals == ["该事项属于其他社区，您无权办理。"] * 2

        # 金沙物业 resolves its own issue
        order_b = await world.wait_sent(f.PROPERTY_B, "交办单")
        await press(world, gridbot, order_b, f.PROPERTY_B, "已办结")
        await world.server.user_sends(f.PROPERTY_B, f.PROPERTY_B, "/done 2 门禁已修好")
        await step(world, gridbot)

        # an advisory vote in each community, each in its own group only
        await report(world, gridbot, f.G1_CHAT, f.WORKER_G1, "/poll 2d 义诊放在哪天 | 周六 | 周日")
        await report(world, gridbot, f.H1_CHAT, f.WORKER_H1, "/poll 2d 广场舞时间 | 早上 | 晚上")
        # a worker of 阅海湾 in 金沙湖's group holds no role there
        await report(world, gridbot, f.H1_CHAT, f.WORKER_G1, "/poll 2d 换物业 | 换 | 不换")
        polls = [(r.chat_id, r.params["question"]) for r in server.sent if r.method == "sendPoll"]
        assert len(polls) == 2
        assert [chat for chat, q in polls if "义诊" in q] == [f.G1_CHAT]
        assert [chat for chat, q in polls if "广场舞" in q] == [f.H1_CHAT]
        assert not any("换物业" in q for _, q in polls)
        votes = await gridbot.db.fetchall("SELECT grid FROM votes ORDER BY id")
        assert [r[0] for r in votes] == ["g1", "h1"]

        # the next morning at 08:00: each secretary's digest, and the street office's roll-up
        clock.set(START.replace(day=4, hour=8, minute=1))
        await sweep(world, gridbot)
        [mine] = texts(world, f.SECRETARY, "每日简报")
        [theirs] = texts(world, f.SECRETARY_B, "每日简报")
        assert "阅海湾社区每日简报" in mine and "金沙湖" not in mine
        assert "金沙湖社区每日简报" in theirs and "阅海湾" not in theirs
        assert "未办结 1，超期 0" in mine
        assert "未办结 1" in theirs
        assert "第二网格" in mine and "第二网格" not in theirs
        [rollup] = texts(world, f.STREET_STAFF, "各社区简报")
        assert "阅海街道各社区简报" in rollup
        assert rollup.index("金沙湖社区") < rollup.index("阅海湾社区")  # worst first
        assert "昨日新增 2、办结 1" in rollup and "昨日新增 1、办结 0" in rollup
        assert not texts(world, f.SECRETARY, "各社区简报")
        assert not texts(world, f.STREET_STAFF, "每日简报")
        clock.advance(timedelta(minutes=5))
        await sweep(world, gridbot)  # sent once
        assert len(texts(world, f.STREET_STAFF, "各社区简报")) == 1

        # the 台账: a secretary's holds their own community, the street office's every one
        for person in (f.SECRETARY_B, f.STREET_STAFF):
            await report(world, gridbot, person, person, "/ledger 2026-03-01 2026-03-31")
        jsh, yhw = "金沙湖社区", "阅海湾社区"
        assert ledger_rows(world, f.SECRETARY_B) == [(2, jsh), (3, jsh)]
        assert ledger_rows(world, f.STREET_STAFF) == [(1, yhw), (2, jsh), (3, jsh)]


def ledger_rows(world: World, person: int) -> list[tuple[int, str]]:
    """(number, community column) of each row of the ledger ``person`` received."""
    document = next(r for r in world.sent_to(person) if r.method == "sendDocument")
    assert document.message_id is not None
    stored = world.server.chat(person).messages[document.message_id].data["document"]
    sheet = load_workbook(BytesIO(world.server.files[stored["file_id"]].data)).active
    assert sheet is not None
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    column = header.index("社区")
    return [(int(str(row[0])), str(row[column])) for row in rows]
