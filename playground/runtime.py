"""One process: the sandbox Bot API server, the real gridbot polling it, and the scene.

``Playground.start`` does what ``gridbot run`` does (``bot.app.build`` + ``start``) against the
sandbox, on a SQLite file in ``data_dir``. People act on the sandbox server itself (the methods
behind its control API, in this process), as the end-to-end tests do: through the control API
over HTTP, each act cost a request and its answer on both sides, about half of the ~100-step
community scene's replay at every start.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.app import GridBot, build, work_calendar
from bot.config import Config, config_from_dict
from bot.core.clock import RunningClock
from bot.schedule.jobs import run_sweeps
from playground.clock import PlayClock, jump_target
from playground.scene import Scene, Step
from sandbox.server import SandboxServer

TOKEN = "700000002:PLAY"
# The bot's database in the data folder; its side files (WAL, the sent log) share the name.
DATABASE = "gridbot.sqlite3"
# The playground is one trainer's machine: no pacing to wait for.
FAST = {"private_per_second": 1000.0, "group_per_minute": 10000, "global_per_second": 10000.0}


@dataclass(frozen=True)
class Pressed:
    """What pressing a button brought back: the callback answer (a toast or an alert)."""

    text: str | None
    alert: bool


@dataclass(frozen=True)
class Saved:
    """A played scene to start other playgrounds from without playing it again
    (:meth:`Playground.saved`): the bot's database files, closed, in ``folder``; the
    sandbox's state; the clock; the albums sent."""

    scene: str
    folder: Path
    sandbox: dict[str, Any]
    now: datetime
    albums: int


class Playground:
    def __init__(self, scene: Scene, data_dir: Path, saved: Saved | None = None) -> None:
        if saved is not None and saved.scene != scene.name:
            raise ValueError(f"saved from scene {saved.scene!r}, not {scene.name!r}")
        self.scene = scene
        self.data_dir = data_dir
        self.clock = PlayClock(scene.start)
        self.server = SandboxServer(clock=self.clock.timestamp)
        self.gridbot: GridBot | None = None
        self.config: Config | None = None
        self.albums = 0
        self._from = saved

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        await self.server.start()
        scene = self.scene
        database = self.data_dir / DATABASE
        if self._from is not None and not database.exists():
            self._take_up(self._from)
        else:
            self.server.add_bot(
                token=TOKEN, username=scene.bot_username, first_name=scene.bot_name
            )
            for person in scene.people:
                self.server.add_user(person.first_name, person.last_name or None, id=person.id)
            for group in scene.groups:
                self.server.add_group(group.title, members=list(group.members), id=group.id)
        fresh = not database.exists()
        self.config = self._config(database)
        self.gridbot = await build(self.config, clock=self.clock)
        # The trainer's clock stands still between jumps; the sender's pacing must not.
        self.gridbot.sender.clock = RunningClock(self.clock)
        await self.gridbot.start()
        if fresh:
            await self.load_scene()

    async def stop(self) -> None:
        if self.gridbot is not None:
            await self.gridbot.stop()
        await self.server.stop()

    def saved(self) -> Saved:
        """This playground as it stands, once stopped (its database files closed): other
        playgrounds start from it in a fraction of a replay (a copy of the files and of the
        sandbox's state, against ~0.2 s of CPU to play the community scene's ~100 steps)."""
        assert self.gridbot is None or not self.gridbot.app.running, "stop the playground first"
        return Saved(
            self.scene.name, self.data_dir, self.server.saved(), self.clock.now(), self.albums
        )

    def _take_up(self, saved: Saved) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for path in saved.folder.iterdir():
            if path.is_file() and path.name.startswith(DATABASE):
                shutil.copyfile(path, self.data_dir / path.name)
        self.server.load(saved.sandbox)
        self.clock.set(saved.now)
        self.albums = saved.albums

    def _config(self, database: Path) -> Config:
        data: dict[str, Any] = {key: value for key, value in self.scene.config.items()}
        data["telegram"] = {
            "base_url": self.server.base_url,
            "base_file_url": self.server.base_file_url,
            "poll_timeout": 1,
        }
        data["storage"] = {"path": str(database)}
        data["outbox"] = {**FAST, **data.get("outbox", {})}
        return config_from_dict(data, {"GRIDBOT_TOKEN": TOKEN})

    @property
    def bot(self) -> GridBot:
        assert self.gridbot is not None, "the playground has not started"
        return self.gridbot

    # ------------------------------------------------------------------ the scene
    async def load_scene(self) -> None:
        """The registry through the registry service, then each step through the sandbox."""
        if self.scene.registry is not None:
            filename, data = self.scene.registry
            await self.bot.services.features.registry.import_sheet(data, filename, None)
        for step in self.scene.steps:
            await self.play_step(step)

    async def play_step(self, step: Step) -> None:
        if step.action == "start":
            await self.start_chat(step.who)
        elif step.action == "say":
            await self.send(step.who, step.chat, step.text)
        else:
            found = self.newest_button(step.chat, step.text)
            if found is None:
                raise LookupError(
                    f"scene {self.scene.name}: no button {step.text!r} in {step.chat}"
                )
            await self.press(step.who, step.chat, found, step.text)

    def newest_button(self, chat_id: int, label: str) -> int | None:
        """The newest message in ``chat_id`` carrying a button labelled ``label``."""
        for message in reversed(self.server.chat_messages(chat_id)):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                if any(button.get("text") == label for button in row):
                    return int(message["message_id"])
        return None

    # ------------------------------------------------------------------ people acting
    async def settle(self) -> None:
        """Wait until the bot took every update and delivered everything due."""
        await self.server.wait_for(lambda s: not s.pending_updates(TOKEN), timeout=10)
        await self.bot.wait_idle()

    async def start_chat(self, user_id: int, payload: str | None = None) -> None:
        await self.server.start_private(user_id, payload=payload)
        await self.settle()

    async def send(self, user_id: int, chat_id: int, text: str) -> None:
        if chat_id == user_id and (text == "/start" or text.startswith("/start ")):
            payload = text.removeprefix("/start").strip() or None
            await self.start_chat(user_id, payload)
            return
        await self.server.user_sends(chat_id, user_id, text)
        await self.settle()

    async def send_photo(self, user_id: int, chat_id: int, image: bytes, caption: str) -> None:
        await self.server.user_sends_photo(chat_id, user_id, caption or None, image)
        await self.settle()

    async def send_album(
        self, user_id: int, chat_id: int, images: list[bytes], caption: str
    ) -> None:
        """Several photos at once, as Telegram sends an album: one message each, sharing a
        ``media_group_id``, the caption on one of them. It rides on the last part, so a
        ``#报事`` caption files one issue with every photo (the worker's card counts them all);
        the bot takes a caption on any part (issue #18 item 1)."""
        if not 2 <= len(images) <= 10:
            raise ValueError("an album holds 2 to 10 photos")
        self.albums += 1
        group = f"play-album-{self.albums}"
        for index, image in enumerate(images):
            await self.server.user_sends_photo(
                chat_id,
                user_id,
                (caption or None) if index == len(images) - 1 else None,
                image,
                media_group_id=group,
            )
        await self.settle()

    async def send_voice(self, user_id: int, chat_id: int, data: bytes, duration: int) -> None:
        await self.server.user_sends_voice(chat_id, user_id, max(1, duration), data=data)
        await self.settle()

    async def send_place(
        self,
        user_id: int,
        chat_id: int,
        latitude: float,
        longitude: float,
        title: str | None = None,
        address: str | None = None,
    ) -> None:
        """A shared location, or a venue when it has a ``title``."""
        await self.server.user_sends_location(
            chat_id, user_id, latitude, longitude, title=title, address=address
        )
        await self.settle()

    async def press(self, user_id: int, chat_id: int, message_id: int, label: str) -> Pressed:
        query_id = await self.server.press_button(chat_id, message_id, user_id, button_text=label)
        await self.settle()
        for answer in reversed(self.server.callback_answers):
            if answer.id == query_id:
                return Pressed(answer.text, answer.show_alert)
        return Pressed(None, False)

    async def vote(self, user_id: int, poll_id: str, options: list[int]) -> None:
        await self.server.vote_poll(poll_id, user_id, options)
        await self.settle()

    # ------------------------------------------------------------------ the clock
    async def jump(self, jump: str) -> None:
        """Move the clock (see ``jump_target``), then run every sweep at the new time."""
        assert self.config is not None
        target = jump_target(
            self.clock.now(), jump, self.config.timezone, work_calendar(self.config)
        )
        self.clock.set(target)
        await run_sweeps(self.bot.services, self.bot.app.bot.username)
        await self.settle()
