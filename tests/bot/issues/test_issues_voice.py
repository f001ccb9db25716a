"""Voice reports (issue #18 item 2): who /note reaches, and what the gist may be."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.errors import InvalidInput, IssueFinished, NotPermitted
from bot.issues.model import Action, AlreadyDone, State
from bot.issues.transcribe import VoiceNote
from tests.support.factories import (
    G1_CHAT,
    NEIGHBOUR,
    PROPERTY_USER,
    RESIDENT,
    WORKER_G1,
    WORKER_G2,
    issue_world,
)


async def _never() -> bytes:
    raise AssertionError("no transcriber is configured: the audio is never fetched")


VOICE = VoiceNote("AwACAgUAAxkBAAI-voice", 14, _never)


async def test_note_on_a_voice_report_is_the_workers_gist_and_the_handlers_progress(
    tmp_path: Path,
) -> None:
    async with issue_world(tmp_path) as world:
        s = world.service
        filed = await s.report(
            chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text="#投诉", voice=VOICE
        )
        number = filed.issue.number
        assert (filed.issue.description, filed.issue.voice_seconds) == ("", 14)
        assert filed.issue.category == world.config.issues.default_category
        for outsider in (RESIDENT, NEIGHBOUR, WORKER_G2):
            with pytest.raises(NotPermitted):
                await s.note(outsider, number, "随便写写")
        summed = await s.note(WORKER_G1, number, "  楼下饭店油烟直排  ")
        assert summed.issue.description == "楼下饭店油烟直排"
        assert summed.issue.state is State.NEW  # a gist changes no state
        with pytest.raises(AlreadyDone):
            await s.note(WORKER_G1, number, "楼下饭店油烟直排")
        with pytest.raises(InvalidInput):
            await s.note(WORKER_G1, number, "   ")
        events = await s.repo.events(filed.issue.id)
        assert [(e.action, e.note) for e in events][-1] == (
            Action.SUMMARISE.value,
            "楼下饭店油烟直排",
        )
        await s.assign(WORKER_G1, number, "property")
        progress = await s.note(PROPERTY_USER, number, "已约饭店明天整改")
        assert progress.issue.state is State.IN_PROGRESS
        assert progress.issue.description == "楼下饭店油烟直排"
        await s.reject(
            WORKER_G1,
            (
                await s.report(
                    chat_id=G1_CHAT,
                    user_id=RESIDENT,
                    display_name="李四",
                    text="#报事",
                    voice=VOICE,
                )
            ).issue.number,
            "重复",
        )
        with pytest.raises(IssueFinished):
            await s.note(WORKER_G1, number + 1, "补写")


async def test_a_text_report_keeps_note_for_its_handler(tmp_path: Path) -> None:
    async with issue_world(tmp_path) as world:
        s = world.service
        filed = await s.report(
            chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text="#报事 3号楼路灯坏了"
        )
        with pytest.raises(NotPermitted):  # the worker's /note is no gist here
            await s.note(WORKER_G1, filed.issue.number, "改写内容")
        with pytest.raises(InvalidInput):  # and a text report still needs its words
            await s.report(chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text="#报事")
