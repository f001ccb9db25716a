"""Forged, malformed and stale buttons (issue #13 items 4–7): every press is answered, none
fails its update, and a failing answer never undoes what the press did.

A client can send any callback data: a number too long for SQLite's integer, an id that names
nothing, a prefix no feature knows. Each is answered in words ("按钮已失效…") and the update is
done, not dead-lettered with a traceback.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app import GridBot
from bot.issues.model import Action
from sandbox.models import SentRecord
from tests.support import factories as f
from tests.support.harness import FAST, World, press, running_bot, sandbox_world, step

HUGE = "9" * 30  # overflows SQLite's 64-bit integer
STALE = "按钮已失效，请重新打开。"
STALE_CHOICE = "这个选项已失效，请直接发送房号，例如 3-2-301。"


async def consent_card(world: World, gridbot: GridBot, user: int = f.RESIDENT) -> SentRecord:
    """A message from the bot in ``user``'s private chat to press forged buttons on."""
    await world.server.start_private(user)
    await step(world, gridbot)
    return await world.wait_sent(user, "告知书")


async def press_forged(
    world: World, gridbot: GridBot, on: SentRecord, user: int, data: str
) -> None:
    assert on.message_id is not None
    await world.server.press_button(on.chat_id, on.message_id, user, data, forge=True)
    await step(world, gridbot)


async def dead_letters(gridbot: GridBot) -> int:
    return (await gridbot.intake.inbox.counts()).get("dead", 0)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(f"i:acc:{HUGE}", id="issue-card"),
        pytest.param(f"i:mrg:1:{HUGE}", id="issue-merge-target"),
        pytest.param(f"h:con:{HUGE}", id="handler-order"),
        pytest.param(f"s:{HUGE}:y", id="feedback-slip"),
        pytest.param(f"nt:a:{HUGE}", id="notice"),
        pytest.param(f"jl:j:{HUGE}", id="jielong"),
        pytest.param(f"mt:su:{HUGE}", id="meeting"),
        pytest.param(f"vo:b:{HUGE}:yes", id="vote"),
        pytest.param(f"ck:c:{HUGE}", id="schedule-checkin"),
        pytest.param(f"reg:b:{HUGE}", id="registry-building"),
        pytest.param(f"reg:u:{HUGE}", id="registry-unit"),
        pytest.param(f"reg:h:{HUGE}", id="registry-room"),
        pytest.param(f"reg:r:{HUGE}:owner", id="registry-relation"),
        pytest.param(f"reg:ok:{f.RESIDENT}:{HUGE}", id="registry-review"),
    ],
)
async def test_a_forged_huge_number_is_answered_not_dead_lettered(
    tmp_path: Path, data: str
) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        card = await consent_card(world, gridbot)
        await press_forged(world, gridbot, card, f.RESIDENT, data)
        assert await dead_letters(gridbot) == 0
        assert [(a.text, a.show_alert) for a in world.server.callback_answers] == [(STALE, True)]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param("reg:b:5", STALE_CHOICE, id="building"),
        pytest.param("reg:u:5", STALE_CHOICE, id="unit"),
        pytest.param("reg:h:5", STALE_CHOICE, id="room"),
        pytest.param("reg:r:5:owner", STALE_CHOICE, id="relation"),
        pytest.param(f"reg:ok:{f.RESIDENT}:5", "这条认证申请已失效", id="review"),
    ],
)
async def test_registry_button_naming_an_unknown_place_says_it_is_stale(
    tmp_path: Path, data: str, expected: str
) -> None:
    """Issue #13 item 5: no dead letter (NotFound), no "号楼，请选择单元：" for no building."""
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        card = await consent_card(world, gridbot)
        await press(world, gridbot, card, f.RESIDENT, "同意")
        sent_before = len(world.sent_to(f.RESIDENT))
        await press_forged(world, gridbot, card, f.RESIDENT, data)
        assert await dead_letters(gridbot) == 0
        last = world.server.callback_answers[-1]
        assert expected in (last.text or "") and last.show_alert
        assert len(world.sent_to(f.RESIDENT)) == sent_before  # no empty picker step


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("garbage", id="no-prefix"),
        pytest.param("zz:1:2", id="unknown-prefix"),
        pytest.param("reg:consent:maybe", id="registry-unknown-verb"),
        pytest.param("i:acc", id="issue-without-number"),
        pytest.param("vo:b:1:perhaps", id="vote-unknown-choice"),
    ],
)
async def test_garbage_button_data_is_answered_and_logged(
    tmp_path: Path, data: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue #13 item 6: no press goes unanswered (the client would spin), and the data is
    in the log for whoever looks into it."""
    caplog.set_level(logging.INFO)
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        card = await consent_card(world, gridbot)
        await press_forged(world, gridbot, card, f.RESIDENT, data)
        assert await dead_letters(gridbot) == 0
    assert [(a.text, a.show_alert) for a in world.server.callback_answers] == [(STALE, True)]
    assert any(data in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)


async def test_forget_still_erases_when_the_button_answer_fails(tmp_path: Path) -> None:
    """Issue #13 item 7: a stale answerCallbackQuery ("query is too old") used to fail the
    update, roll the erasure back and leave the person with no reply."""
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await press(world, gridbot, await consent_card(world, gridbot), f.RESIDENT, "同意")
        await world.server.user_sends(f.RESIDENT, f.RESIDENT, "/forget")
        await step(world, gridbot)
        confirm = await world.wait_sent(f.RESIDENT, "确认删除")
        # A query that is too old fails every time it is answered, on every retry of the update.
        world.server.fail_next(
            "answerCallbackQuery",
            count=5,
            error_code=400,
            description="Bad Request: query is too old and response timeout expired or query "
            "ID is invalid",
        )
        await press(world, gridbot, confirm, f.RESIDENT, "确认删除")
        await world.wait_sent(f.RESIDENT, "已删除您的个人信息")
        assert await dead_letters(gridbot) == 0
        assert not await gridbot.services.features.registry.has_consent(f.RESIDENT)
        assert world.server.stats.injected_failures == 1


async def test_contacted_pressed_twice_is_recorded_once(tmp_path: Path) -> None:
    """Issue #13 item 8: the second 已联系居民 (a double tap, or an old 交办单) is a toast
    (已记录过) that records nothing and tells the workers nothing."""
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        for user in (f.WORKER_G1, f.PROPERTY_USER):
            await world.server.start_private(user)
        await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "#报事 3号楼2单元门口路灯坏了")
        await step(world, gridbot)
        card = await world.wait_sent(f.WORKER_G1, "#1")
        await press(world, gridbot, card, f.WORKER_G1, "交办")
        await press(world, gridbot, card, f.WORKER_G1, "万象美物业")
        order = await world.wait_sent(f.PROPERTY_USER, "交办单")
        contacted = next(
            b["callback_data"]
            for row in order.reply_markup["inline_keyboard"]
            for b in row
            if b["text"] == "已联系居民"
        )
        await press(world, gridbot, order, f.PROPERTY_USER, "已联系居民")
        to_workers = len(world.sent_to(f.WORKER_G1))
        await press_forged(world, gridbot, order, f.PROPERTY_USER, contacted)
        assert await dead_letters(gridbot) == 0
        last = world.server.callback_answers[-1]
        assert (last.text, last.show_alert) == ("已记录过，无需重复操作。", False)
        assert len(world.sent_to(f.WORKER_G1)) == to_workers
        events = await gridbot.services.features.issues.timeline(1, f.WORKER_G1)
        assert [e.action for e in events].count(Action.CONTACTED) == 1


@pytest.mark.parametrize(
    ("user", "command", "expected"),
    [
        pytest.param(f.SECRETARY, "/grant --5 网格员 g1", "/grant", id="grant-double-minus"),
        pytest.param(f.SECRETARY, f"/grant {HUGE} 网格员 g1", "/grant", id="grant-huge"),
        pytest.param(f.WORKER_G1, f"/issue {HUGE}", "/issue", id="issue"),
        pytest.param(f.WORKER_G1, f"/done {HUGE} 好了", "/done", id="done"),
        pytest.param(f.WORKER_G1, f"/merge 1 {HUGE}", "/merge", id="merge"),
        pytest.param(f.WORKER_G1, f"/suggest {HUGE} 加装电梯", "/suggest", id="suggest"),
        pytest.param(f.WORKER_G1, f"/vote_present {HUGE} 3", "/vote_present", id="vote"),
        pytest.param(f.WORKER_G1, f"/checkin_enrol {HUGE}", "/checkin_enrol", id="checkin"),
    ],
)
async def test_a_typed_id_that_is_none_gets_the_usage(
    tmp_path: Path, user: int, command: str, expected: str
) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await world.server.start_private(user)
        await world.server.user_sends(user, user, command)
        await step(world, gridbot)
        assert await dead_letters(gridbot) == 0
        assert any(expected in text for text in world.texts_to(user)), world.texts_to(user)
