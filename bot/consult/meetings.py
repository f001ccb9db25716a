"""Meetings (议事会 / 协商会, issue #6): create and announce, sign up, collect opinions, sign in
during the meeting, record resolutions, publish the minutes, take objections during the
publicity window (公示); the sweep (``bot.consult.sweep``) reminds and finalises.

Who may do what (checked here on every action, never trusted from a button):
- create: a grid worker or leader of a grid the scope touches, or a secretary;
- manage (view suggestions, resolutions, minutes): the convenor or a secretary;
- sign up, suggest, sign in, object: anyone, each within its window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import Config
from bot.consult.meetings_model import MeetingView, checked_text, parse_form, split_item
from bot.core.clock import Clock
from bot.core.errors import InvalidInput, NotFound, NotPermitted, UserError
from bot.core.grids import ChatGrids
from bot.core.permissions import Role, RoleBook, roles_of
from storage.consult.meetings import MeetingRecord, MeetingRepo
from storage.registry.chats import ChatGridRepo

_CREATORS = frozenset({Role.WORKER, Role.LEADER, Role.SECRETARY})


@dataclass(frozen=True)
class Created:
    view: MeetingView
    chats: tuple[int, ...]  # the groups it is announced in


class MeetingService:
    def __init__(self, repo: MeetingRepo, clock: Clock, config: Config, roles: RoleBook):
        self.repo = repo
        self.clock = clock
        self.config = config
        self.roles = roles
        self.chats = ChatGrids(config, ChatGridRepo(repo.db))

    # -- reading -------------------------------------------------------------------------------

    async def view(self, meeting_id: int) -> MeetingView:
        record = await self._get(meeting_id)
        repo = self.repo
        suggestions = tuple(await repo.suggestions(record.id))
        homes = await repo.homes_of(s.user_id for s in suggestions if s.user_id is not None)
        return MeetingView(
            record,
            tuple(await repo.agenda(record.id)),
            tuple(await repo.people(record.id)),
            suggestions,
            tuple(await repo.resolutions(record.id)),
            tuple(await repo.objections(record.id)),
            tuple(await repo.chats(record.id)),
            homes,
        )

    async def signed_up_ahead(self, user_id: int) -> list[MeetingView]:
        """Meetings this person signed up for that have not ended yet (issue #18 item 5)."""
        records = await self.repo.signed_up_ahead(user_id, self._now())
        return [await self.view(r.id) for r in records]

    async def overview(self, meeting_id: int, user_id: int) -> MeetingView:
        """/meeting N: sign-ups, attendance, suggestions grouped and counted (convenor only)."""
        view = await self.view(meeting_id)
        await self._check_manager(view.record, user_id)
        return view

    # -- before ----------------------------------------------------------------------------------

    async def create(self, user_id: int, text: str) -> Created:
        """The one-line form; announced in every group of the scope's grids."""
        now = self.clock.now()
        new = parse_form(text, now, self.config)
        grids = await self._grids(new.scope_kind, new.scope_value)
        if not any(self._staff(user_id, grid) for grid in grids):
            raise NotPermitted("meetings.errors.only_staff")
        grids = self._own_communities(user_id, grids)
        chats = await self._chats(grids)
        if not chats:
            raise InvalidInput("meetings.errors.no_group")
        async with self.repo.db.transaction():
            number = await self.repo.create(new, user_id, now)
            await self.repo.add_chats(number, chats)
            return Created(await self.view(number), chats)

    async def sign_up(self, meeting_id: int, user_id: int, name: str) -> MeetingView:
        """报名: before the meeting ends; a second tap is refused."""
        async with self.repo.db.transaction():
            record = await self._get(meeting_id)
            if self.clock.now() >= record.ends_at or record.closed_at is not None:
                raise UserError("meetings.errors.over")
            if not await self.repo.mark(record.id, user_id, name, "signed_up_at", self._now()):
                raise UserError("meetings.errors.already_signed_up")
            return await self.view(record.id)

    async def suggest(
        self, meeting_id: int, user_id: int, name: str, text: str, via: str
    ) -> MeetingView:
        """意见征集: until the meeting starts; "议题2：…" ties it to agenda item 2."""
        text = checked_text(text)
        async with self.repo.db.transaction():
            record = await self._get(meeting_id)
            if self.clock.now() >= record.starts_at:
                raise UserError("meetings.errors.collection_over")
            item, body = split_item(text, len(await self.repo.agenda(record.id)))
            await self.repo.add_suggestion(record.id, user_id, name, item, body, via, self._now())
            return await self.view(record.id)

    # -- during ----------------------------------------------------------------------------------

    def sign_in_window(self, record: MeetingRecord) -> tuple[datetime, datetime]:
        early = timedelta(minutes=self.config.meetings.sign_in_early_minutes)
        return record.starts_at - early, record.ends_at

    async def sign_in(self, meeting_id: int, user_id: int, name: str) -> MeetingView:
        """签到: only between the window's opening and the meeting's end."""
        async with self.repo.db.transaction():
            record = await self._get(meeting_id)
            opens, closes = self.sign_in_window(record)
            if not opens <= self.clock.now() <= closes:
                raise UserError(
                    "meetings.errors.sign_in_closed",
                    early=self.config.meetings.sign_in_early_minutes,
                )
            if not await self.repo.mark(record.id, user_id, name, "signed_in_at", self._now()):
                raise UserError("meetings.errors.already_signed_in")
            return await self.view(record.id)

    # -- after -----------------------------------------------------------------------------------

    async def resolve(self, meeting_id: int, user_id: int, text: str) -> MeetingView:
        """/resolution N 内容: the convenor records a resolution once the meeting has begun."""
        text = text.strip()
        if not text:
            raise InvalidInput("meetings.errors.empty")
        async with self.repo.db.transaction():
            record = await self._get(meeting_id)
            await self._check_manager(record, user_id)
            if self.clock.now() < record.starts_at:
                raise UserError("meetings.errors.not_started")
            if record.closed_at is not None:
                raise UserError("meetings.errors.closed")
            await self.repo.add_resolution(record.id, text, self._now())
            return await self.view(record.id)

    async def close(self, meeting_id: int, user_id: int) -> MeetingView:
        """/minutes N: publish the minutes and open the publicity window (公示)."""
        async with self.repo.db.transaction():
            record = await self._get(meeting_id)
            await self._check_manager(record, user_id)
            now = self._now()
            if now < record.ends_at:
                raise UserError("meetings.errors.not_ended")
            until = now + timedelta(days=self.config.meetings.publicity_days)
            if not await self.repo.close(record.id, now, until):
                raise UserError("meetings.errors.closed")
            return await self.view(record.id)

    async def object(self, meeting_id: int, user_id: int, name: str, text: str) -> MeetingView:
        """/object N 内容: during the publicity window only."""
        text = checked_text(text)
        async with self.repo.db.transaction():
            record = await self._get(meeting_id)
            until = record.publicity_until
            if until is None or record.final_at is not None or self._now() >= until:
                raise UserError("meetings.errors.no_publicity")
            await self.repo.add_objection(record.id, user_id, name, text, self._now())
            return await self.view(record.id)

    # -- helpers -------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock.now()

    async def _get(self, meeting_id: int) -> MeetingRecord:
        record = await self.repo.get(meeting_id)
        if record is None:
            raise NotFound("meetings.errors.not_found", number=meeting_id)
        return record

    def _staff(self, user_id: int, grid: str) -> bool:
        roles = roles_of(user_id, self.config, grid, grants=self.roles.of(user_id))
        return bool(roles & _CREATORS)

    def _own_communities(self, user_id: int, grids: tuple[str, ...]) -> tuple[str, ...]:
        """The scope's grids in the communities where ``user_id`` is staff for one of them: a
        worker calls a meeting of their whole community, never of a neighbouring one (a
        building name such as 5号楼 exists in several communities). '' (groups bound to the
        whole community) exists only with one community."""
        if not self.config.several:
            return grids
        mine = {
            c.key
            for grid in grids
            if grid and self._staff(user_id, grid)
            for c in (self.config.community_of_grid(grid),)
            if c is not None
        }
        return tuple(
            g for g in grids if g and (c := self.config.community_of_grid(g)) and c.key in mine
        )

    async def _check_manager(self, record: MeetingRecord, user_id: int) -> None:
        # the convenor, or a secretary of the community whose groups the meeting was announced
        # in (with one community: its secretary, as before)
        grids = [""]
        if self.config.several:
            keys = [
                await self.chats.key_of_chat(chat) for chat in await self.repo.chats(record.id)
            ]
            grids = [key for key in keys if key]
        grants = self.roles.of(user_id)
        secretary = any(
            Role.SECRETARY in roles_of(user_id, self.config, grid, grants=grants) for grid in grids
        )
        if user_id != record.convenor_id and not secretary:
            raise NotPermitted("meetings.errors.only_convenor")

    async def _grids(self, kind: str, value: str) -> tuple[str, ...]:
        if kind == "community":
            return ("", *(g.key for g in self.config.grids))
        if kind == "grid":
            return (value,)
        building, _, unit = value.partition("-")
        grids = await self.repo.grids_of_place(building, unit or None)
        if not grids:
            raise InvalidInput("meetings.errors.unknown_place", place=value)
        return tuple(sorted(grids))

    async def _chats(self, grids: tuple[str, ...]) -> tuple[int, ...]:
        # the one owner of which grid a chat serves: /bind, config, upgrades (issue #13 item 3)
        return await self.chats.chats_of_grids(grids)
