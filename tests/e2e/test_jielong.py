"""End to end: 接龙 (issue #6) through real PTB and the sandbox, under Telegram's real group
limit (20 messages a minute, edits included)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.app import GridBot, build
from bot.consult.jielong import JielongService
from sandbox.flood import FloodLimits
from tests.e2e.test_issue_loop import buttons, current, press
from tests.support import factories as f
from tests.support.harness import (
    FAST,
    QUIET_MOMENT,
    TOKEN,
    World,
    running_bot,
    sandbox_world,
    settled,
    step,
)

SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏"
TAPPERS = [900 + i for i in range(30)]
REAL_LIMITS = {"global_per_second": 30, "group_per_minute": 20, "private_per_second": 1}


class Warp:
    """Wall-clock seconds plus an offset the test moves: the sandbox's flood windows and the
    sender's rate limiter read the same time, so a minute can pass in a moment."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def jielongs(gridbot: GridBot) -> JielongService:
    service: JielongService = gridbot.services.features.jielong
    return service


async def dispatched(world: World, gridbot: GridBot) -> None:
    """Every update taken and handled (outbox rows may still wait for the group's window)."""
    await world.server.wait_for(lambda _: not world.server.pending_updates(TOKEN) or None)
    loop_deadline = time.monotonic() + 10
    while (await gridbot.intake.inbox.counts()).get("pending"):
        assert time.monotonic() < loop_deadline, "updates not dispatched"
        await world.server.wait_for(lambda _: True, timeout=0.01)


async def test_thirty_taps_in_ten_seconds_within_the_group_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warp = Warp()
    flood = FloodLimits(global_per_second=30, group_per_minute=20, private_per_second=1)
    async with sandbox_world(
        tmp_path, flood=flood, server_clock=warp, outbox=REAL_LIMITS
    ) as world:
        server = world.server
        for user_id, surname in zip(TAPPERS, SURNAMES, strict=True):
            server.add_user(surname, "邻居", id=user_id)
            await server.join(f.G1_CHAT, user_id)
        gridbot = await build(world.config, clock=f.FakeClock(QUIET_MOMENT))
        monkeypatch.setattr(gridbot.sender, "_now", warp)
        await gridbot.start()
        try:
            await server.user_sends(f.G1_CHAT, f.RESIDENT, "#接龙 周六义务植树 限40人")
            posted = await world.wait_sent(f.G1_CHAT, "周六义务植树")
            for user_id in TAPPERS:  # one tap every third of a second: 30 in 10 seconds
                warp.offset += 1 / 3
                await server.press_button(
                    f.G1_CHAT, posted.message_id or 0, user_id, button_text="+1 接龙"
                )
                await dispatched(world, gridbot)
            warp.offset += 61  # the group's window frees; the last coalesced edit goes out
            gridbot.sender.wake()
            await settled(gridbot, within=20)
            view = await jielongs(gridbot).view(1)
        finally:
            await gridbot.stop()
    final = current(world, f.G1_CHAT, posted.message_id).text or ""
    lines = [line for line in final.splitlines() if line[:1].isdigit()]
    assert lines == [f"{n}. {surname}**" for n, surname in enumerate(SURNAMES, 1)]
    assert "共 30 人" in final
    assert [e.user_id for e in view.raw] == TAPPERS
    assert server.max_in_window(f.G1_CHAT, 60) <= 20
    assert server.stats.rate_limited == 0
    edits = [c for c in server.calls if c.method == "editMessageText"]
    assert 1 <= len(edits) < 30  # taps were coalesced, none was dropped


async def test_withdraw_close_and_export_to_the_starter(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        server = world.server
        await server.start_private(f.RESIDENT)
        await server.user_sends(f.G1_CHAT, f.RESIDENT, "/jielong 团购大米 截止11月28日18:00")
        await step(world, gridbot)
        posted = await world.wait_sent(f.G1_CHAT, "团购大米")
        assert "截止 11月28日 18:00" in (posted.text or "")
        for user in (f.RESIDENT, f.NEIGHBOUR):
            await press(world, gridbot, f.G1_CHAT, posted.message_id, user, "+1 接龙")
        await press(world, gridbot, f.G1_CHAT, posted.message_id, f.RESIDENT, "撤回")
        text = current(world, f.G1_CHAT, posted.message_id).text or ""
        assert "1. 孙**" in text and "王*" not in text
        await press(world, gridbot, f.G1_CHAT, posted.message_id, f.NEIGHBOUR, "结束接龙")
        refused = server.callback_answers[-1]
        assert refused.show_alert and "仅发起人" in (refused.text or "")
        await press(world, gridbot, f.G1_CHAT, posted.message_id, f.RESIDENT, "结束接龙")
        closed = current(world, f.G1_CHAT, posted.message_id)
        assert "已结束" in (closed.text or "") and set(buttons(closed)) == {"导出名单"}
        await press(world, gridbot, f.G1_CHAT, posted.message_id, f.RESIDENT, "导出名单")
        document = next(r for r in world.sent_to(f.RESIDENT) if r.method == "sendDocument")
        stored = server.chat(f.RESIDENT).messages[document.message_id or 0].data["document"]
        data = server.files[stored["file_id"]].data
    sheet = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in sheet[2]][:3] == [1, None, "孙 大爷"]
