"""Notices with 收到 (issue #6): a grid worker posts a notice; residents tap 收到; the author
sees which households of the grid have not acknowledged (as 3-2-301, never a name) and can send
each of their verified residents one private reminder.

Acknowledgements count by household: a verified resident's 收到 covers every household they
are verified for; an unverified resident's is kept by user (it shows in the count, but cannot
tell which household it was).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from bot.core.errors import InvalidInput, NotFound
from bot.votes.service import VoteService
from storage.consult.notices import NoticeRecord, NoticeRepo, RoomRow

# What the service hands out, under its own name (presenters never import storage).
PostedNotice: TypeAlias = NoticeRecord


@dataclass(frozen=True)
class NoticeStatus:
    notice: NoticeRecord
    households: int  # in the grid
    acked_households: int
    unverified_acks: int  # residents not verified for any household
    missing: tuple[RoomRow, ...]  # households that have not acknowledged


@dataclass(frozen=True)
class Reminders:
    notice: NoticeRecord
    sent: tuple[int, ...]  # users reminded now
    unreachable: int  # households whose residents cannot be reached privately


class NoticeService:
    def __init__(self, repo: NoticeRepo, votes: VoteService) -> None:
        self.repo = repo
        self.votes = votes  # the convenor check and the clock

    async def post(self, author: int, chat_id: int, grid: str, body: str) -> NoticeRecord:
        self.votes.check_convenor(author, grid)
        if not body.strip():
            raise InvalidInput("votes.errors.notice_usage")
        notice_id = await self.repo.create(chat_id, grid, author, body.strip(), self._now())
        return await self.get(notice_id)

    def _now(self) -> datetime:
        return self.votes.clock.now()

    async def get(self, notice_id: int) -> NoticeRecord:
        found = await self.repo.get(notice_id)
        if found is None:
            raise NotFound("votes.errors.notice_not_found", number=notice_id)
        return found

    async def acknowledge(self, user_id: int, notice_id: int) -> bool:
        """收到: False if this person had acknowledged already."""
        notice = await self.get(notice_id)
        rooms = {r.id for r in await self.repo.rooms(notice.grid)}
        mine = [h for u, h in await self.repo.verified_links() if u == user_id and h in rooms]
        return await self.repo.ack(notice_id, user_id, mine, self._now())

    async def unacked(self, user_id: int, grids: Sequence[str]) -> list[NoticeRecord]:
        """Notices of the person's grids they have not tapped 收到 on (issue #18 item 5)."""
        return await self.repo.unacked_by(user_id, sorted(grids))

    async def status(self, actor: int, notice_id: int) -> NoticeStatus:
        """Only the author (or a convenor of the grid) sees who has not acknowledged."""
        notice = await self.get(notice_id)
        if actor != notice.author:
            self.votes.check_convenor(actor, notice.grid)
        rooms = await self.repo.rooms(notice.grid)
        acks = await self.repo.acks(notice_id)
        acked = {h for _, h in acks if h}
        users_with_household = {u for u, h in acks if h}
        unverified = {u for u, h in acks if not h} - users_with_household
        missing = tuple(r for r in rooms if r.id not in acked)
        return NoticeStatus(
            notice, len(rooms), len(rooms) - len(missing), len(unverified), missing
        )

    async def remind(
        self, actor: int, notice_id: int, reachable: Callable[[int], Awaitable[bool]]
    ) -> Reminders:
        """One private reminder to the verified residents of each missing household."""
        status = await self.status(actor, notice_id)
        missing = {r.id for r in status.missing}
        by_household: dict[int, list[int]] = {}
        for user, household in await self.repo.verified_links():
            if household in missing:
                by_household.setdefault(household, []).append(user)
        sent: list[int] = []
        unreachable, now = 0, self._now()
        for household in sorted(missing):
            users = [u for u in by_household.get(household, []) if await reachable(u)]
            unreachable += not users
            for user in users:
                if user not in sent and await self.repo.claim_reminder(notice_id, user, now):
                    sent.append(user)
        return Reminders(status.notice, tuple(sent), unreachable)


def rooms_text(rooms: Sequence[RoomRow]) -> list[str]:
    return [f"{r.building}-{r.unit}-{r.room}" for r in rooms]
