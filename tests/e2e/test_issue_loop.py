"""End to end: the issue loop (issue #3) through real PTB and the sandbox Bot API server."""

from __future__ import annotations

import copy
from fractions import Fraction
from pathlib import Path

import pytest

from bot.app import GridBot
from bot.core.errors import NotFound
from bot.issues.feedback import RateScope
from bot.issues.model import Action, State
from bot.issues.service import IssueService
from sandbox.models import SentRecord
from tests.support import factories as f
from tests.support.harness import FAST, World, running_bot, sandbox_world, settled, step


def issues(gridbot: GridBot) -> IssueService:
    service: IssueService = gridbot.services.features.issues
    return service


def buttons(record: SentRecord) -> dict[str, str]:
    """Button label → callback data of a sent message."""
    rows = (record.reply_markup or {}).get("inline_keyboard", [])
    return {b["text"]: b.get("callback_data") or b.get("url", "") for row in rows for b in row}


def current(world: World, chat_id: int, message_id: int | None) -> SentRecord:
    """The message as it is now (after edits): the newest record of it."""
    records = [r for r in world.server.sent if r.chat_id == chat_id and r.message_id == message_id]
    return records[-1]


async def press(
    world: World, gridbot: GridBot, chat_id: int, message_id: int | None, user_id: int, label: str
) -> None:
    assert message_id is not None
    await world.server.press_button(chat_id, message_id, user_id, button_text=label)
    await step(world, gridbot)


async def open_private_chats(world: World, gridbot: GridBot, *users: int) -> None:
    for user in users:
        await world.server.start_private(user)
    await step(world, gridbot)


async def reported_card(world: World, gridbot: GridBot, text: str, *private: int) -> SentRecord:
    """``private`` open their chats with the bot, the resident reports ``text`` in grid 1's
    group; the worker's card for it."""
    await open_private_chats(world, gridbot, *private)
    await world.server.user_sends(f.G1_CHAT, f.RESIDENT, text)
    await step(world, gridbot)
    return await world.wait_sent(f.WORKER_G1, "#1")


async def test_full_story_report_assign_resolve_reopen_close(tmp_path: Path) -> None:
    clock = f.FakeClock()
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world, clock) as gridbot:
        server = world.server
        await open_private_chats(world, gridbot, f.WORKER_G1, f.PROPERTY_USER)
        posted = await server.user_sends(f.G1_CHAT, f.RESIDENT, "#报事 3号楼2单元门口路灯坏了")
        await step(world, gridbot)
        ack = await world.wait_sent(f.G1_CHAT, "#1")
        assert ack.params["reply_parameters"]["message_id"] == posted["message_id"]
        assert "路灯/市政设施" in (ack.text or "") and "3月5日 12:00" in (ack.text or "")
        card = await world.wait_sent(f.WORKER_G1, "#1")
        assert set(buttons(card)) >= {"受理", "交办", "退回", "合并", "转办", "改类别"}

        await press(world, gridbot, f.WORKER_G1, card.message_id, f.WORKER_G1, "受理")
        await press(world, gridbot, f.WORKER_G1, card.message_id, f.WORKER_G1, "交办")
        assert "万象美物业" in buttons(current(world, f.WORKER_G1, card.message_id))
        await press(world, gridbot, f.WORKER_G1, card.message_id, f.WORKER_G1, "万象美物业")
        assert "已交办" in (current(world, f.WORKER_G1, card.message_id).text or "")

        order = await world.wait_sent(f.PROPERTY_USER, "交办单")
        await press(
            world, gridbot, f.PROPERTY_USER, order.message_id, f.PROPERTY_USER, "已联系居民"
        )
        await press(world, gridbot, f.PROPERTY_USER, order.message_id, f.PROPERTY_USER, "已办结")
        await world.wait_sent(f.PROPERTY_USER, "/done 1")
        await server.user_sends(f.PROPERTY_USER, f.PROPERTY_USER, "/done 1 已更换灯泡")
        await step(world, gridbot)

        # The resident never opened a private chat: the group gets a deep-link button.
        link = await world.wait_sent(f.G1_CHAT, "已办结")
        url = buttons(link)["去评价 #1"]
        assert url.startswith("https://t.me/gridbot?start=slip_")
        await server.start_private(f.RESIDENT, payload=url.split("start=")[1])
        await step(world, gridbot)
        slip = await world.wait_sent(f.RESIDENT, "经办人是否联系过您")
        for label in ("是", "未解决", "不满意", "提交评价"):
            await press(world, gridbot, f.RESIDENT, slip.message_id, f.RESIDENT, label)
        assert (await issues(gridbot).get(1, f.WORKER_G1)).state is State.ASSIGNED
        await world.wait_sent(f.PROPERTY_USER, "重办单")

        await server.user_sends(f.PROPERTY_USER, f.PROPERTY_USER, "/done 1 已重新接线")
        await step(world, gridbot)
        slips = [r for r in world.sent_to(f.RESIDENT) if "经办人是否联系过您" in (r.text or "")]
        second = slips[-1]
        assert second.message_id != slip.message_id
        for label in ("是", "已解决", "满意"):
            await press(world, gridbot, f.RESIDENT, second.message_id, f.RESIDENT, label)
        await server.user_sends(
            f.RESIDENT, f.RESIDENT, "谢谢，很及时", reply_to_message_id=second.message_id
        )
        await step(world, gridbot)
        assert (await issues(gridbot).get(1, f.WORKER_G1)).state is State.CLOSED

        await server.user_sends(f.WORKER_G1, f.WORKER_G1, "/issue 1")
        await step(world, gridbot)
        detail = (await world.wait_sent(f.WORKER_G1, "办理过程")).text or ""
        expected = [
            "报事",
            "受理",
            "交办",
            "联系居民",
            "办结",
            "评价",
            "重办",
            "办结",
            "评价",
            "关闭",
        ]
        position = 0
        for word in expected:
            position = detail.index(word, position) + 1
        assert "谢谢，很及时" in detail

        timeline = await issues(gridbot).timeline(1, f.WORKER_G1)
        assert [e.action for e in timeline][-2:] == [Action.ANSWER_SLIP, Action.CLOSE]
        rates = await issues(gridbot).rates(
            RateScope.COMMUNITY, None, clock.now().replace(hour=0), clock.now().replace(hour=23)
        )
        # Two valid slips: (contacted, not solved, unsatisfied), (contacted, solved, satisfied).
        assert (rates.valid, rates.missing) == (2, 0)
        assert rates.response_rate == 1
        assert rates.resolution_rate == Fraction(1, 2)
        assert rates.satisfaction_rate == Fraction(1, 2)


async def test_private_anonymous_report_stays_out_of_groups(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        server = world.server
        await open_private_chats(world, gridbot, f.WORKER_G1)
        await server.user_sends(f.RESIDENT, f.RESIDENT, "楼上邻居半夜装修电钻太吵")
        await step(world, gridbot)
        draft = await world.wait_sent(f.RESIDENT, "网格悄悄话")
        for label in ("投诉", "噪音", "第一网格", "跳过", "匿名反映", "确认提交"):
            await press(world, gridbot, f.RESIDENT, draft.message_id, f.RESIDENT, label)
        assert "#1" in (current(world, f.RESIDENT, draft.message_id).text or "")
        card = await world.wait_sent(f.WORKER_G1, "#1")
        assert "电钻" in (card.text or "")
        assert "阿姨" not in (card.text or "") and "匿名" in (card.text or "")
        group_texts = [r.text or "" for r in server.sent if r.chat_id < 0]
        assert not any("电钻" in text or "#1" in text for text in group_texts)
        issue = await issues(gridbot).get(1, f.WORKER_G1)
        assert issue.private and issue.anonymous and issue.category == "noise"


async def test_a_private_draft_survives_a_restart(tmp_path: Path) -> None:
    """Half a guided report, a restart, then the rest: filed once, with every answer."""
    async with sandbox_world(tmp_path, outbox=FAST) as world:
        server = world.server
        async with running_bot(world) as gridbot:
            await open_private_chats(world, gridbot, f.WORKER_G1)
            await server.user_sends(f.RESIDENT, f.RESIDENT, "楼上邻居半夜装修电钻太吵")
            await step(world, gridbot)
            draft = await world.wait_sent(f.RESIDENT, "网格悄悄话")
            for label in ("投诉", "噪音", "第一网格"):
                await press(world, gridbot, f.RESIDENT, draft.message_id, f.RESIDENT, label)
        async with running_bot(world) as gridbot:
            await server.user_sends(f.RESIDENT, f.RESIDENT, "5号楼3单元")
            await step(world, gridbot)
            asked = await world.wait_sent(f.RESIDENT, "5号楼3单元")
            for label in ("仅网格员可见", "确认提交"):
                await press(world, gridbot, f.RESIDENT, asked.message_id, f.RESIDENT, label)
            issue = await issues(gridbot).get(1, f.WORKER_G1)

    assert "#1" in (current(world, f.RESIDENT, asked.message_id).text or "")
    assert (issue.type.value, issue.category, issue.location) == (
        "complaint",
        "noise",
        "5号楼3单元",
    )
    assert issue.private and not issue.anonymous
    assert not any("draft_gone" in t or "已失效" in t for t in world.texts_to(f.RESIDENT))


async def test_resident_and_forged_callbacks_are_refused(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        server = world.server
        card = await reported_card(
            world, gridbot, "#报事 5号楼垃圾桶满了", f.WORKER_G1, f.WORKER_G2, f.RESIDENT
        )
        accept = buttons(card)["受理"]
        # The resident presses the worker's 受理 (forged onto a message in their own chat).
        note = await server.user_sends(f.RESIDENT, f.RESIDENT, "/mine")
        await step(world, gridbot)
        reply = await world.wait_sent(f.RESIDENT, "#1")
        await server.press_button(
            f.RESIDENT, reply.message_id or 0, f.RESIDENT, callback_data=accept, forge=True
        )
        # The worker of grid 2 forges a well-formed button for grid 1's issue.
        other = await server.user_sends(f.WORKER_G2, f.WORKER_G2, "/issues")
        await step(world, gridbot)
        queue = await world.wait_sent(f.WORKER_G2, "待办")
        await server.press_button(
            f.WORKER_G2,
            queue.message_id or 0,
            f.WORKER_G2,
            callback_data="i:asg:1:property",
            forge=True,
        )
        # Digits int() refuses (²) in a forged button and in a typed command.
        await server.press_button(
            f.WORKER_G2, queue.message_id or 0, f.WORKER_G2, callback_data="i:acc:²", forge=True
        )
        await server.user_sends(f.WORKER_G1, f.WORKER_G1, "/done ² 好了")
        await step(world, gridbot)
        await world.wait_sent(f.WORKER_G1, "用法")
        assert (await gridbot.intake.inbox.counts()).get("dead", 0) == 0
        answers = [a.text or "" for a in server.callback_answers]
        assert "仅网格员可操作。" in answers
        assert any("不属于您负责的网格" in a for a in answers)
        assert all(a.show_alert for a in server.callback_answers)
        issue = await issues(gridbot).get(1, f.WORKER_G1)
        assert issue.state is State.NEW and issue.handler is None
        assert len(await issues(gridbot).timeline(1, f.WORKER_G1)) == 1
        assert note and other


async def test_bad_input_gets_sensible_replies(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        server = world.server
        await server.user_sends(f.G1_CHAT, f.RESIDENT, "/report")
        await step(world, gridbot)
        await world.wait_sent(f.G1_CHAT, "例如：#报事")
        await server.user_sends(f.G1_CHAT, f.RESIDENT, "#报事 " + "路灯坏了" * 2500)
        await step(world, gridbot)
        await world.wait_sent(f.G1_CHAT, "2000 字以内")
        before = len(server.sent)
        await server.user_sends_sticker(f.G1_CHAT, f.RESIDENT)
        await step(world, gridbot)
        assert len(server.sent) == before
        posted = await server.user_sends(f.G1_CHAT, f.RESIDENT, "#报事 3号楼电梯坏了")
        await step(world, gridbot)
        for text in ("#报事 3号楼电梯又坏了", "#报事 3号楼电梯还是坏的"):
            await server.user_edits(f.G1_CHAT, f.RESIDENT, posted["message_id"], text)
            await step(world, gridbot)
        edits = [t for t in world.texts_to(f.G1_CHAT) if "修改消息不会更新" in t]
        assert len(edits) == 1
        assert [i.number for i in await issues(gridbot).mine(f.RESIDENT)] == [1]
        server.add_group("无关的群", members=[f.RESIDENT], id=-1009)
        await server.user_sends(-1009, f.RESIDENT, "#报事 路灯坏了")
        await step(world, gridbot)
        await world.wait_sent(-1009, "尚未绑定网格")


async def test_group_ack_hides_phone_and_full_name(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        server = world.server
        await open_private_chats(world, gridbot, f.WORKER_G1)
        await server.user_sends(f.G1_CHAT, f.RESIDENT, "#投诉 2号楼1单元漏水 联系13812345678")
        await step(world, gridbot)
        ack = (await world.wait_sent(f.G1_CHAT, "#1")).text or ""
        assert "13812345678" not in ack and "138****5678" in ack
        assert "王 阿姨" not in ack and "阿姨" not in ack
        card = (await world.wait_sent(f.WORKER_G1, "#1")).text or ""
        assert "13812345678" in card and "王 阿姨" in card


async def test_emergency_gets_numbers_and_alerts_worker(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await open_private_chats(world, gridbot, f.WORKER_G1)
        await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "#求助 3号楼楼道着火了 冒烟")
        await step(world, gridbot)
        reply = await world.wait_sent(f.G1_CHAT, "119")
        assert "紧急" in (reply.text or "")
        await world.wait_sent(f.WORKER_G1, "🚨")
        assert (await issues(gridbot).get(1, f.WORKER_G1)).urgent


async def test_duplicate_hint_merges_with_one_button(tmp_path: Path) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        server = world.server
        await open_private_chats(world, gridbot, f.WORKER_G1)
        await server.user_sends(f.G1_CHAT, f.RESIDENT, "#报事 3号楼2单元门口路灯坏了")
        await server.user_sends(f.G1_CHAT, f.NEIGHBOUR, "@gridbot 3号楼2单元路灯不亮")
        await step(world, gridbot)
        hint = await world.wait_sent(f.WORKER_G1, "可能与 #1 重复")
        await press(world, gridbot, f.WORKER_G1, hint.message_id, f.WORKER_G1, "合并到 #1")
        assert (await issues(gridbot).get(2, f.WORKER_G1)).state is State.MERGED
        assert {r.user_id for r in (await issues(gridbot).get(1, f.WORKER_G1)).reporters} == {
            f.RESIDENT,
            f.NEIGHBOUR,
        }


async def test_worker_changes_the_deadline_from_the_card(tmp_path: Path) -> None:
    """交办 with the category's deadline, then 改时限 → 15天: the handler gets the updated
    交办单, and /issue shows the handler's and the deadline's names, not stored keys."""
    clock = f.FakeClock()  # Wednesday 5 March 2025 10:00
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world, clock) as gridbot:
        server = world.server
        card = await reported_card(
            world, gridbot, "#报事 3号楼2单元门口路灯坏了", f.WORKER_G1, f.PROPERTY_USER
        )
        for label in ("交办", "万象美物业", "改时限"):
            await press(world, gridbot, f.WORKER_G1, card.message_id, f.WORKER_G1, label)
        choices = buttons(current(world, f.WORKER_G1, card.message_id))
        await press(world, gridbot, f.WORKER_G1, card.message_id, f.WORKER_G1, "15天")
        order = await world.wait_sent(f.PROPERTY_USER, "办结时限已调整")
        await server.user_sends(f.WORKER_G1, f.WORKER_G1, "/deadline 1")
        await step(world, gridbot)
        usage = await world.wait_sent(f.WORKER_G1, "/deadline 编号 3月20日")
        await server.user_sends(f.WORKER_G1, f.WORKER_G1, "/deadline 1 3月25日 12:00")
        await step(world, gridbot)
        typed = await world.wait_sent(f.PROPERTY_USER, "请在 3月25日 12:00 前办结")
        await server.user_sends(f.WORKER_G1, f.WORKER_G1, "/issue 1")
        await step(world, gridbot)
        detail = (await world.wait_sent(f.WORKER_G1, "办理过程")).text or ""

    assert list(choices) == ["今天内", "3个工作日", "7天", "15天", "30天", "« 返回"]
    assert "请在 3月20日 10:00 前办结" in (order.text or "")
    assert "办结时限：3月25日 12:00" in (current(world, f.WORKER_G1, card.message_id).text or "")
    assert "交办 → 已交办：万象美物业" in detail
    assert "改时限：3月20日 10:00" in detail and "改时限：3月25日 12:00" in detail
    assert "property" not in detail
    assert usage.text and typed.text


async def test_the_other_workers_card_follows_an_action(tmp_path: Path) -> None:
    """Two workers in a grid: one accepts, the other's card no longer offers 受理."""
    grids = copy.deepcopy(f.community_data()["community"]["grids"])
    grids[0]["workers"] = [f.WORKER_G1, f.LEADER_G1]
    world_cm = sandbox_world(tmp_path, outbox=FAST, community={"grids": grids})
    async with world_cm as world, running_bot(world) as gridbot:
        await open_private_chats(world, gridbot, f.WORKER_G1, f.LEADER_G1)
        await world.server.user_sends(f.G1_CHAT, f.RESIDENT, "#报事 3号楼2单元门口路灯坏了")
        await step(world, gridbot)
        mine = await world.wait_sent(f.WORKER_G1, "#1")
        theirs = await world.wait_sent(f.LEADER_G1, "#1")
        await settled(gridbot)
        assert "受理" in buttons(theirs)
        await press(world, gridbot, f.WORKER_G1, mine.message_id, f.WORKER_G1, "受理")
        await settled(gridbot)

    other = current(world, f.LEADER_G1, theirs.message_id)
    assert "已受理" in (other.text or "")
    assert "受理" not in buttons(other) and "交办" in buttons(other)


async def test_handler_resolves_with_a_photo_and_the_resident_sees_it(tmp_path: Path) -> None:
    """The property company sends a photo captioned /done 1 …: resolved with that photo, which
    the worker and, privately and before the slip, the resident receive."""
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        server = world.server
        card = await reported_card(
            world,
            gridbot,
            "#报事 3号楼2单元门口路灯坏了",
            f.WORKER_G1,
            f.PROPERTY_USER,
            f.RESIDENT,
        )
        for label in ("交办", "万象美物业"):
            await press(world, gridbot, f.WORKER_G1, card.message_id, f.WORKER_G1, label)
        await server.user_sends_photo(f.PROPERTY_USER, f.PROPERTY_USER, "/done 1 已更换灯泡")
        await step(world, gridbot)
        await world.wait_sent(f.RESIDENT, "请您评价")
        await settled(gridbot)
        issue = await issues(gridbot).get(1, f.WORKER_G1)

    assert issue.state is State.RESOLVED and len(issue.resolution_photos) == 1
    to_resident = [(r.method, r.text or "") for r in world.sent_to(f.RESIDENT)]
    photo_at = to_resident.index(("sendPhoto", "#1 办结现场照片"))
    slip_at = next(i for i, (_, text) in enumerate(to_resident) if "请您评价" in text)
    assert photo_at < slip_at
    worker_photos = [r for r in world.sent_to(f.WORKER_G1) if r.method == "sendPhoto"]
    assert [r.params["photo"] for r in worker_photos] == list(issue.resolution_photos)
    assert not [r for r in server.sent if r.chat_id < 0 and r.method == "sendPhoto"]


async def test_a_captioned_command_in_a_group_is_that_command_not_a_report(
    tmp_path: Path,
) -> None:
    """A photo captioned /report … files a report with the photo; one captioned
    /done@gridbot 1 … (group clients add the bot's name) resolves, or is refused, but never
    becomes a new report."""
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        server = world.server
        await server.user_sends_photo(f.G1_CHAT, f.RESIDENT, "/report 5号楼门口积水")
        await step(world, gridbot)
        await world.wait_sent(f.G1_CHAT, "#1")
        await server.user_sends_photo(f.G1_CHAT, f.NEIGHBOUR, "/Report@gridbot六号楼电梯异响")
        await step(world, gridbot)
        await world.wait_sent(f.G1_CHAT, "#2")
        await server.user_sends_photo(f.G1_CHAT, f.RESIDENT, "/done@gridbot 1 已经好了")
        await server.user_sends_photo(f.G1_CHAT, f.RESIDENT, "/done@otherbot 1 已经好了")
        await step(world, gridbot)
        await world.wait_sent(f.G1_CHAT, "仅被交办的经办人可操作")
        await settled(gridbot)
        first = await issues(gridbot).get(1, f.WORKER_G1)
        second = await issues(gridbot).get(2, f.WORKER_G1)
        with pytest.raises(NotFound):
            await issues(gridbot).get(3, f.WORKER_G1)

    assert first.description == "5号楼门口积水" and len(first.photos) == 1
    assert second.description == "六号楼电梯异响"
    refusals = [t for t in world.texts_to(f.G1_CHAT) if "仅被交办的经办人可操作" in t]
    assert len(refusals) == 1  # the caption for another bot is not ours to answer


async def test_after_a_transfer_the_old_grids_other_cards_lose_their_buttons(
    tmp_path: Path,
) -> None:
    grids = copy.deepcopy(f.community_data()["community"]["grids"])
    grids[0]["workers"] = [f.WORKER_G1, f.LEADER_G1]
    world_cm = sandbox_world(tmp_path, outbox=FAST, community={"grids": grids})
    async with world_cm as world, running_bot(world) as gridbot:
        mine = await reported_card(
            world, gridbot, "#报事 3号楼2单元门口路灯坏了", f.WORKER_G1, f.LEADER_G1, f.WORKER_G2
        )
        theirs = await world.wait_sent(f.LEADER_G1, "#1")
        await settled(gridbot)
        for label in ("转办", "第二网格"):
            await press(world, gridbot, f.WORKER_G1, mine.message_id, f.WORKER_G1, label)
        await world.wait_sent(f.WORKER_G2, "#1")
        await settled(gridbot)

    other = current(world, f.LEADER_G1, theirs.message_id)
    assert "第二网格" in (other.text or "") and buttons(other) == {}
