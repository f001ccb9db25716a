"""``gridbot demo``: a scripted community played offline against the sandbox, as a transcript.

Everything runs in this process on 127.0.0.1: the sandbox Bot API server, the real gridbot
(its PTB Application, intake, outbox and a temporary SQLite file) and the people of the script.
"""

from __future__ import annotations

import html
import re
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.app import GridBot, build
from bot.config import config_from_dict
from bot.core.rendering import Renderer
from sandbox.models import SentRecord
from sandbox.server import SandboxServer

TOKEN = "700000001:DEMO"
GROUP = -1001234567001
WORKER, PROPERTY, RESIDENT, NEIGHBOUR, SECRETARY = 9101, 9301, 9501, 9502, 9201
PEOPLE = {  # Telegram first and last names, as people set them
    WORKER: ("张网格员", "张伟"),
    PROPERTY: ("万象美物业", "刘师傅"),
    RESIDENT: ("王阿姨", "王秀兰"),
    NEIGHBOUR: ("孙大爷", "孙建国"),
    SECRETARY: ("陈书记", "陈静"),
}


def demo_config(server: SandboxServer, folder: Path, locale: str) -> Any:
    return config_from_dict(
        {
            "locale": locale,
            "telegram": {
                "base_url": server.base_url,
                "base_file_url": server.base_file_url,
                "poll_timeout": 1,
            },
            "storage": {"path": str(folder / "demo.sqlite3")},
            # Telegram paces private chats at 1 message/s and a bot at 30/s; the demo skips
            # the waiting (the 30/s held up one scene for most of a second).
            "outbox": {
                "private_per_second": 100.0,
                "group_per_minute": 1000,
                "global_per_second": 1000.0,
            },
            "community": {
                "name": "阅海湾社区",
                "secretaries": [SECRETARY],
                "grids": [
                    {"key": "g1", "name": "第一网格", "chat_id": GROUP, "workers": [WORKER]},
                ],
                "handlers": [
                    {
                        "key": "property",
                        "name": "万象美物业",
                        "user_id": PROPERTY,
                        "kind": "property",
                    },
                ],
            },
        },
        {"GRIDBOT_TOKEN": TOKEN},
    )


class Transcript:
    """Plays people through the sandbox and prints what they and the bot said, in order."""

    def __init__(
        self,
        server: SandboxServer,
        gridbot: GridBot,
        renderer: Renderer,
        out: Callable[[str], None],
    ) -> None:
        self.server = server
        self.gridbot = gridbot
        self.t = renderer
        self.out = out
        self._seen = 0
        self._answered = 0

    def button(self, key: str, **values: object) -> str:
        """A button's label as the bot shows it in this locale."""
        return self.t.text(f"issues.buttons.{key}", **values)

    def name(self, user_id: int) -> str:
        return PEOPLE[user_id][0]

    def chat_name(self, chat_id: int) -> str:
        if chat_id == GROUP:
            return self.t.text("demo.group_name")
        return self.t.text("demo.private_with", name=self.name(chat_id))

    async def says(self, user_id: int, chat_id: int, text: str) -> None:
        self.out(
            self.t.text(
                "demo.person_says",
                who=self.name(user_id),
                where=self.chat_name(chat_id),
                text=text,
            )
        )
        await self.server.user_sends(chat_id, user_id, text)
        await self.bot_answers()

    async def starts(self, user_id: int, payload: str | None = None) -> None:
        self.out(self.t.text("demo.person_starts", who=self.name(user_id)))
        await self.server.start_private(user_id, payload=payload)
        await self.bot_answers()

    def newest_button(
        self, chat_id: int, label: str, *, link: bool = False
    ) -> tuple[SentRecord, dict[str, Any]] | None:
        """The newest message in ``chat_id`` with a button labelled ``label``, and that button
        (with ``link``, only a deep-link button: t.me/<bot>?start=…)."""
        for record in reversed(self.server.sent):
            if record.chat_id != chat_id:
                continue
            for row in (record.reply_markup or {}).get("inline_keyboard", []):
                for button in row:
                    if button.get("text") == label and (
                        not link or "start=" in button.get("url", "")
                    ):
                        return record, button
        return None

    def person_presses(self, user_id: int, chat_id: int, label: str) -> None:
        who, where = self.name(user_id), self.chat_name(chat_id)
        self.out(self.t.text("demo.person_presses", who=who, where=where, label=label))

    async def presses(self, user_id: int, chat_id: int, label: str) -> None:
        """Press the newest button labelled ``label`` in ``chat_id``."""
        found = self.newest_button(chat_id, label)
        if found is None:
            raise LookupError(f"no button {label!r} in chat {chat_id}")
        self.person_presses(user_id, chat_id, label)
        message_id = found[0].message_id or 0
        await self.server.press_button(chat_id, message_id, user_id, button_text=label)
        await self.bot_answers()

    async def follows_link(self, user_id: int, chat_id: int, label: str) -> None:
        """Open the newest deep-link button labelled ``label`` (t.me/<bot>?start=…)."""
        found = self.newest_button(chat_id, label, link=True)
        if found is None:
            raise LookupError(f"no link {label!r} in chat {chat_id}")
        self.person_presses(user_id, chat_id, label)
        await self.starts(user_id, found[1]["url"].split("start=", 1)[1])

    async def bot_answers(self) -> None:
        """Wait until the bot has fetched, handled and answered everything, then print it."""
        await self.server.wait_for(lambda s: not s.pending_updates(TOKEN), timeout=10)
        await self.gridbot.wait_idle()
        for record in self.server.sent[self._seen :]:
            buttons = " ".join(f"[{label}]" for label in _labels(record.reply_markup))
            where = self.chat_name(record.chat_id)
            text = _plain(record.text or "")
            self.out(
                self.t.text("demo.bot_says", where=where, text=text, buttons=buttons).rstrip()
            )
        self._seen = len(self.server.sent)
        for answer in self.server.callback_answers[self._answered :]:
            if answer.text:
                self.out(self.t.text("demo.bot_pops", text=answer.text))
        self._answered = len(self.server.callback_answers)


Scene = Callable[[Transcript], Awaitable[None]]


async def meet_the_bot(play: Transcript) -> None:
    """A resident meets the bot; the bot reads the grid group."""
    await play.starts(RESIDENT)
    await play.says(NEIGHBOUR, GROUP, "/help")


async def report_to_closure(play: Transcript) -> None:
    """The closed loop: report, accept, assign, resolve, 未解决 → 重办, resolve, 满意."""
    await play.starts(WORKER)
    await play.starts(PROPERTY)
    # 孙大爷 has never opened a private chat with the bot: his slip comes as a group link.
    await play.says(NEIGHBOUR, GROUP, "#报事 3号楼2单元门口路灯坏了，晚上很黑")
    button = play.button
    for label in (button("accept"), button("assign"), "万象美物业"):
        await play.presses(WORKER, WORKER, label)
    await play.presses(PROPERTY, PROPERTY, button("contacted"))
    await play.says(PROPERTY, PROPERTY, "/done 1 已更换灯泡")
    await play.follows_link(NEIGHBOUR, GROUP, button("open_slip", number=1))
    for key in ("yes", "not_solved", "unsatisfied", "submit"):
        await play.presses(NEIGHBOUR, NEIGHBOUR, button(key))
    await play.says(PROPERTY, PROPERTY, "/done 1 重新接线，灯已亮")
    for key in ("yes", "solved", "satisfied", "submit"):
        await play.presses(NEIGHBOUR, NEIGHBOUR, button(key))
    await play.says(WORKER, WORKER, "/issue 1")


# (catalogue key of the scene's title, scene); later features add their scenes here.
SCENES: list[tuple[str, Scene]] = [
    ("demo.scenes.meet", meet_the_bot),
    ("demo.scenes.loop", report_to_closure),
]


async def run_demo(locale: str = "zh_CN", out: Callable[[str], None] = print) -> int:
    renderer = Renderer(locale)
    with tempfile.TemporaryDirectory(prefix="gridbot-demo-") as folder:
        async with SandboxServer() as server:
            server.add_bot(token=TOKEN, username="gridbot_demo_bot", first_name="网格通")
            for user_id, (first, last) in PEOPLE.items():
                server.add_user(first, last, id=user_id)
            server.add_group("阅海湾第一网格群", members=list(PEOPLE), id=GROUP)
            gridbot: GridBot = await build(demo_config(server, Path(folder), locale))
            await gridbot.start()
            try:
                play = Transcript(server, gridbot, renderer, out)
                out(renderer.text("demo.title"))
                for title, scene in SCENES:
                    out("")
                    out(renderer.text("demo.scene", title=renderer.text(title)))
                    await scene(play)
            finally:
                await gridbot.stop()
    out("")
    out(renderer.text("demo.end"))
    return 0


def _labels(markup: dict[str, Any] | None) -> list[str]:
    rows = (markup or {}).get("inline_keyboard", [])
    return [str(button.get("text", "")) for row in rows for button in row]


def _plain(text: str) -> str:
    """Telegram HTML as a terminal shows it: tags dropped, entities decoded, lines indented."""
    return html.unescape(re.sub(r"<[^>]+>", "", text)).replace("\n", "\n      ")
