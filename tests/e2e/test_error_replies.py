"""A refusal that quotes what the person typed is escaped, so Telegram accepts it.

Unescaped, a ``<`` in the echoed text makes Telegram reject the reply (can't parse entities)
and the person hears nothing at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import factories as f
from tests.support.harness import FAST, running_bot, sandbox_world, step


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param("/vote_owners unit:<3-2> special 加装电梯", "unit:<3-2>", id="votes"),
        pytest.param("/pause <opinion_day>", "<opinion_day>", id="schedule"),
    ],
)
async def test_refusal_echoing_angle_brackets_is_delivered(
    tmp_path: Path, command: str, expected: str
) -> None:
    async with sandbox_world(tmp_path, outbox=FAST) as world, running_bot(world) as gridbot:
        chat = f.G1_CHAT if command.startswith("/vote") else f.SECRETARY
        user = f.WORKER_G1 if command.startswith("/vote") else f.SECRETARY
        if chat > 0:
            await world.server.start_private(chat)
        await world.server.user_sends(chat, user, command)
        await step(world, gridbot)
        reply = await world.wait_sent(chat, expected)
    assert not any(c.status == 400 for c in world.server.calls if c.method == "sendMessage")
    assert reply.params["reply_parameters"]["message_id"] > 0
