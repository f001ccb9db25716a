"""接龙 sign-up lists (issue #6): anyone in a grid group starts one; people +1 and 撤回; the
starter or a grid worker closes it and exports it.

Every tap is one row, in tap order, one per person (a second +1 is refused, not duplicated).
The group sees each entry as building-unit (registry, when verified) and a masked name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import Config
from bot.consult.parsing import split_jielong
from bot.core.clock import Clock
from bot.core.errors import InvalidInput, NotFound, NotPermitted, UserError
from bot.core.grids import ChatGrids
from bot.core.permissions import Role, RoleBook, roles_of
from bot.privacy.service import mask_name
from storage.consult.jielong import EntryRecord, JielongRecord, JielongRepo
from storage.registry.chats import ChatGridRepo
from storage.registry.repo import RegistryRepo

MAX_TOPIC = 200
_STAFF = frozenset({Role.WORKER, Role.LEADER, Role.SECRETARY})


@dataclass(frozen=True)
class JielongEntry:
    position: int
    place: str  # "3-2", or "" when the person is not verified in the registry
    name: str  # masked: 王*


@dataclass(frozen=True)
class JielongView:
    record: JielongRecord
    entries: tuple[JielongEntry, ...]
    raw: tuple[EntryRecord, ...]  # unmasked, for the starter's export only

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def closed(self) -> bool:
        return self.record.closed_at is not None

    @property
    def full(self) -> bool:
        return self.record.cap is not None and len(self.entries) >= self.record.cap


class JielongService:
    def __init__(
        self,
        repo: JielongRepo,
        registry: RegistryRepo,
        clock: Clock,
        config: Config,
        roles: RoleBook,
    ) -> None:
        self.repo = repo
        self.registry = registry
        self.clock = clock
        self.config = config
        self.roles = roles
        self.chats = ChatGrids(config, ChatGridRepo(registry.db))

    async def grid_of_chat(self, chat_id: int) -> str | None:
        grid = await self.chats.grid_of_chat(chat_id)
        return None if grid is None else grid.key

    async def start(self, chat_id: int, user_id: int, text: str) -> JielongView:
        """``#接龙 主题 [限N人] [截止…]`` in a grid group: a new, empty list."""
        if await self.grid_of_chat(chat_id) is None:
            raise UserError("jielong.errors.not_grid_group")
        now = self.clock.now()
        topic, cap, deadline = split_jielong(text, now, self.config.timezone)
        if not topic:
            raise InvalidInput("jielong.errors.no_topic")
        if len(topic) > MAX_TOPIC:
            raise InvalidInput("jielong.errors.too_long", limit=MAX_TOPIC)
        if deadline is not None and deadline <= now:
            raise InvalidInput("jielong.errors.deadline_past")
        async with self.repo.db.transaction():
            number = await self.repo.create(chat_id, topic, cap, deadline, user_id, now)
            return await self.view(number)

    async def view(self, jielong_id: int) -> JielongView:
        record = await self.repo.get(jielong_id)
        if record is None:
            raise NotFound("jielong.errors.not_found")
        raw = tuple(await self.repo.entries(jielong_id))
        entries = tuple(
            JielongEntry(i, e.place or "", mask_name(e.name)) for i, e in enumerate(raw, 1)
        )
        return JielongView(record, entries, raw)

    async def open_for(self, user_id: int, grids: set[str]) -> list[JielongView]:
        """Open 接龙 of the person's grids they have not joined and may still join (issue
        #18 item 5)."""
        found, now = [], self.clock.now()
        for record in await self.repo.open_without(user_id):
            if record.deadline is not None and record.deadline <= now:
                continue  # past its deadline, about to be closed by the sweep
            if await self.grid_of_chat(record.chat_id) in grids:
                view = await self.view(record.id)
                if not view.full:
                    found.append(view)
        return found

    async def join(self, jielong_id: int, user_id: int, name: str) -> JielongView:
        """+1 接龙: appended at the end; refused when closed, past its deadline or full."""
        async with self.repo.db.transaction():
            record = await self._open(jielong_id)
            count = await self.repo.count(jielong_id)
            if record.cap is not None and count >= record.cap:
                raise UserError("jielong.errors.full", cap=record.cap)
            if not await self.repo.add_entry(jielong_id, user_id, name, self.clock.now()):
                raise UserError("jielong.errors.already_in")
            return await self.view(jielong_id)

    async def withdraw(self, jielong_id: int, user_id: int) -> JielongView:
        """撤回: the person's entry goes; everyone after moves up one."""
        async with self.repo.db.transaction():
            await self._open(jielong_id)
            if not await self.repo.remove_entry(jielong_id, user_id):
                raise UserError("jielong.errors.not_in")
            return await self.view(jielong_id)

    async def close(self, jielong_id: int, user_id: int) -> JielongView:
        """结束接龙: only the starter or a grid worker of the group's grid."""
        async with self.repo.db.transaction():
            record = await self._managed(jielong_id, user_id)
            if not await self.repo.close(record.id, user_id, self.clock.now()):
                raise UserError("jielong.errors.closed")
            return await self.view(jielong_id)

    async def export(self, jielong_id: int, user_id: int) -> JielongView:
        """The full list for the starter (or a grid worker), to be sent privately."""
        await self._managed(jielong_id, user_id)
        return await self.view(jielong_id)

    async def may_manage(self, jielong_id: int, user_id: int) -> bool:
        try:
            await self._managed(jielong_id, user_id)
        except UserError:
            return False
        return True

    async def sweep(self, now: datetime) -> list[JielongView]:
        """Close every list whose deadline has passed (idempotent: a closed list stays)."""
        closed = []
        async with self.repo.db.transaction():
            for record in await self.repo.due_deadlines(now):
                if await self.repo.close(record.id, None, now):
                    closed.append(await self.view(record.id))
        return closed

    async def _open(self, jielong_id: int) -> JielongRecord:
        record = await self.repo.get(jielong_id)
        if record is None:
            raise NotFound("jielong.errors.not_found")
        deadline = record.deadline
        if record.closed_at is not None or (deadline and deadline <= self.clock.now()):
            raise UserError("jielong.errors.closed")
        return record

    async def _managed(self, jielong_id: int, user_id: int) -> JielongRecord:
        record = await self.repo.get(jielong_id)
        if record is None:
            raise NotFound("jielong.errors.not_found")
        if user_id == record.starter_id:
            return record
        grid = await self.grid_of_chat(record.chat_id) or ""
        roles = roles_of(user_id, self.config, grid, grants=self.roles.of(user_id))
        if not roles & _STAFF:
            raise NotPermitted("jielong.errors.only_starter")
        return record
