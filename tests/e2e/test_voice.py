"""End to end: voice notes as reports (issue #18 item 2), through real PTB and the sandbox.

Elderly residents speak rather than type: privately a voice note is the guided report's
description, in a group one captioned #报事 or replying to the bot is a report. The grid worker
gets the card (语音，约 N 秒) and the voice note itself, and types its gist with /note.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import GridBot
from bot.config import Config
from bot.issues import transcribe
from bot.issues.service import IssueService
from sandbox.models import SentRecord
from tests.support import factories as f
from tests.support.harness import FAST, World, running_bot, sandbox_world, step


def issues(gridbot: GridBot) -> IssueService:
    service: IssueService = gridbot.services.features.issues
    return service


def sent(world: World, chat_id: int, method: str) -> list[SentRecord]:
    return [r for r in world.sent_to(chat_id) if r.method == method]


async def press(world: World, gridbot: GridBot, record: SentRecord, label: str) -> None:
    assert record.message_id is not None
    await world.server.press_button(f.RESIDENT, record.message_id, f.RESIDENT, button_text=label)
    await step(world, gridbot)


async def test_a_private_voice_note_is_the_report_and_the_worker_writes_its_gist(
    tmp_path: Path,
) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        await world.server.start_private(f.WORKER_G1)
        note = await world.server.user_sends_voice(f.RESIDENT, f.RESIDENT, 23)
        voice_id = note["voice"]["file_id"]
        await step(world, gridbot)
        draft = await world.wait_sent(f.RESIDENT, "网格悄悄话")
        assert "内容：语音，约 23 秒" in (draft.text or "")
        for label in ("投诉", "噪音", "第一网格", "跳过", "仅网格员可见", "确认提交"):
            await press(world, gridbot, draft, label)

        issue = await issues(gridbot).load(1)
        assert (issue.voice_file_id, issue.voice_seconds, issue.description) == (voice_id, 23, "")
        await world.wait_sent(f.WORKER_G1, "#1")
        (card,) = [r for r in sent(world, f.WORKER_G1, "sendMessage") if "#1" in (r.text or "")]
        assert "语音，约 23 秒" in (card.text or "")
        (voice,) = sent(world, f.WORKER_G1, "sendVoice")
        assert voice.params["voice"] == voice_id and voice.params["caption"] == "#1 居民语音"

        await world.server.user_sends(f.WORKER_G1, f.WORKER_G1, "/note 1 楼上半夜装修，电钻声吵")
        await step(world, gridbot)
        issue = await issues(gridbot).load(1)
        assert issue.description == "楼上半夜装修，电钻声吵" and issue.voice_file_id == voice_id
        await world.server.user_sends(f.WORKER_G1, f.WORKER_G1, "/issue 1")
        await step(world, gridbot)
        detail = await world.wait_sent(f.WORKER_G1, "办理过程")
        assert "语音，约 23 秒：楼上半夜装修，电钻声吵" in (detail.text or "")
        assert "补写语音要点" in (detail.text or "")
        assert len(sent(world, f.WORKER_G1, "sendVoice")) == 2  # /issue passes it on again


async def test_group_voice_notes_captioned_or_replying_to_the_bot_are_reports(
    tmp_path: Path,
) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        server = world.server
        await server.start_private(f.WORKER_G1)
        await server.user_sends_voice(f.G1_CHAT, f.RESIDENT, 12, caption="#报事")
        await server.user_sends_voice(f.G1_CHAT, f.NEIGHBOUR, 5)  # chatter: no report
        await step(world, gridbot)
        ack = await world.wait_sent(f.G1_CHAT, "#1")
        assert "语音，约 12 秒" in (ack.text or "")
        assert ack.message_id is not None
        await server.user_sends_voice(
            f.G1_CHAT, f.NEIGHBOUR, 40, reply_to_message_id=ack.message_id
        )
        await step(world, gridbot)

        first, second = await issues(gridbot).load(1), await issues(gridbot).load(2)
        assert (first.voice_seconds, second.voice_seconds) == (12, 40)
        assert [r.params["voice"] for r in sent(world, f.WORKER_G1, "sendVoice")] == [
            first.voice_file_id,
            second.voice_file_id,
        ]
        assert await issues(gridbot).repo.by_number(3) is None
        assert sent(world, f.G1_CHAT, "sendVoice") == []  # the voice goes to the worker only


class HeardWords:
    """A stand-in transcriber: it checks it got the audio, and says what it 'heard'."""

    def __init__(self, config: Config) -> None:
        self.config = config

    async def transcribe(self, audio: bytes, seconds: int) -> str | None:
        assert audio.startswith(b"OggS") and seconds == 9
        return "3号楼2单元电梯卡住了"


async def test_a_configured_transcriber_writes_the_description(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(transcribe.TRANSCRIBERS, "heard", HeardWords)
    async with (
        sandbox_world(tmp_path, outbox=FAST, issues={"transcriber": "heard"}) as world,
        running_bot(world) as gridbot,
    ):
        await world.server.user_sends_voice(f.G1_CHAT, f.RESIDENT, 9, caption="#报事")
        await step(world, gridbot)
        issue = await issues(gridbot).load(1)
        assert issue.description == "3号楼2单元电梯卡住了" and issue.building == "3"
        assert issue.category == "elevator"


def test_transcription_is_off_by_default_and_an_unknown_one_is_refused(tmp_path: Path) -> None:
    config = f.make_config()
    assert config.issues.transcriber == "" and transcribe.transcriber_for(config) is None
    wrong = replace(config, issues=replace(config.issues, transcriber="no-such-model"))
    with pytest.raises(ValueError, match="no-such-model"):
        transcribe.transcriber_for(wrong)
