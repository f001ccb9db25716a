"""Owners' decisions (业主共同决定, 民法典 art. 278) end to end, issue #6.

The electorate is frozen when the vote is created, from the registry: every household in the
scope counts (its area, and one owner), but only verified owners can cast its ballot. One owner
of several units in scope is one elector with the areas summed; co-owners of a unit share it.
Ballots are private buttons; each press is an audit row and the newest per elector counts.
Whether a ballot can be changed before the deadline is ``[votes] ballot_change``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot.config import Config
from bot.core.clock import Clock
from bot.core.errors import InvalidInput, NotFound, NotPermitted, UserError
from bot.core.permissions import Role, RoleBook, roles_of
from bot.votes.rules import Choice, Elector, Matter, OwnersResult, owners_decision
from bot.votes.scope import scope_of
from storage.votes.repo import ElectorRow, NewVote, ScopeHousehold, VoteRecord, VoteRepo

_CONVENORS: Final = frozenset({Role.WORKER, Role.LEADER, Role.SECRETARY})
_MATTERS: Final = {
    "ordinary": Matter.ORDINARY,
    "一般": Matter.ORDINARY,
    "special": Matter.SPECIAL,
    "重大": Matter.SPECIAL,
}
_DAYS: Final = re.compile(r"^(\d{1,3})(?:d|天)$")


@dataclass(frozen=True)
class OwnersVote:
    vote: VoteRecord
    electors: tuple[ElectorRow, ...]
    result: OwnersResult  # the count so far (the final one once closed)


@dataclass(frozen=True)
class Ballot:
    vote: OwnersVote
    choice: Choice
    changed: bool  # replaced an earlier ballot


def electorate(
    households: Sequence[ScopeHousehold], owners: Iterable[tuple[int, int]]
) -> list[ElectorRow]:
    """Group households into electors (union-find): linked by a shared verified owner or by the
    same 业主编号 on the household sheet, so an owner of several units is one head with the areas
    summed whether or not they use Telegram (issue #13 item 15)."""
    ids = {h.id: h for h in households}
    parent = {h: h for h in ids}

    def root(h: int) -> int:
        while parent[h] != h:
            parent[h] = parent[parent[h]]
            h = parent[h]
        return h

    users: dict[int, list[int]] = {}
    for user, household in owners:
        if household in ids:
            users.setdefault(user, []).append(household)
    for linked in (*users.values(), *_same_owner_key(households)):
        for other in linked[1:]:
            parent[root(other)] = root(linked[0])
    groups: dict[int, list[int]] = {}
    for h in ids:
        groups.setdefault(root(h), []).append(h)
    rows = []
    for number, members in enumerate(sorted(groups.values()), start=1):
        who = sorted(u for u, linked in users.items() if root(linked[0]) == root(members[0]))
        rooms = "、".join(f"{ids[h].building}-{ids[h].unit}-{ids[h].room}" for h in members)
        area = sum(ids[h].area_centi for h in members)
        rows.append(ElectorRow(number, area, rooms, tuple(who)))
    return rows


def _same_owner_key(households: Sequence[ScopeHousehold]) -> list[list[int]]:
    """The households of each 业主编号 given on the sheet."""
    by_key: dict[str, list[int]] = {}
    for h in households:
        if h.owner_key:
            by_key.setdefault(h.owner_key, []).append(h.id)
    return list(by_key.values())


class VoteService:
    def __init__(self, repo: VoteRepo, clock: Clock, config: Config, roles: RoleBook):
        self.repo = repo
        self.clock = clock
        self.config = config
        self.roles = roles

    def check_convenor(self, user_id: int, grid: str) -> None:
        roles = roles_of(user_id, self.config, grid, grants=self.roles.of(user_id))
        if not roles & _CONVENORS:
            raise NotPermitted("votes.errors.only_convenor")

    def deadline(self, days: int | None = None) -> datetime:
        return self.clock.now() + timedelta(days=days or self.config.votes.default_days)

    @staticmethod
    def split_days(words: list[str]) -> tuple[int | None, list[str]]:
        """A leading ``3d`` / ``3天`` among ``words`` is the number of days the vote stays open."""
        if words and (match := _DAYS.match(words[0])):
            return int(match[1]), words[1:]
        return None, words

    async def create_owners(
        self, actor: int, chat_id: int, grid: str, args: Sequence[str]
    ) -> OwnersVote:
        """``/vote_owners <scope> <ordinary|special> [7d] <title>`` by a convenor."""
        self.check_convenor(actor, grid)
        if len(args) < 3:
            raise InvalidInput("votes.errors.owners_usage")
        scope = scope_of(args[0], self.config)
        matter = _MATTERS.get(args[1].lower())
        if matter is None:
            raise InvalidInput("votes.errors.matter", text=args[1])
        days, rest = self.split_days(list(args[2:]))
        title = " ".join(rest).strip()
        if not title:
            raise InvalidInput("votes.errors.owners_usage")
        # the owners of the group's own community only (another may have a 3号楼 too), and a
        # grid named in the scope must be one of it (issue #15)
        community = self.config.community_of_grid(grid)
        other = scope.grid and self.config.community_of_grid(scope.grid) != community
        if other:
            raise InvalidInput("votes.errors.scope", text=args[0])
        households = await self.repo.scope_households(
            scope.building,
            scope.unit,
            scope.grid,
            community=community.key if community is not None else None,
        )
        if not households:
            raise NotFound("votes.errors.empty_scope", scope=args[0])
        electors = electorate(households, await self.repo.verified_owners())
        new = NewVote(
            "owners",
            title,
            chat_id,
            grid,
            actor,
            self.deadline(days),
            matter=matter.value,
            scope=scope.canonical,
        )
        vote_id = await self.repo.create(new, electors, self.clock.now())
        return await self.owners_vote(vote_id)

    async def owners_vote(self, vote_id: int) -> OwnersVote:
        vote = await self.repo.get(vote_id)
        if vote is None or vote.kind != "owners":
            raise NotFound("votes.errors.not_found", number=vote_id)
        electors = tuple(await self.repo.electors(vote_id))
        current = {b.elector: Choice(b.choice) for b in await self.repo.ballots(vote_id)}
        result = owners_decision(
            (Elector(e.elector, e.area_centi) for e in electors),
            current,
            Matter(vote.matter or Matter.ORDINARY),
        )
        return OwnersVote(vote, electors, result)

    def is_open(self, vote: VoteRecord) -> bool:
        deadline_ok = vote.deadline is None or self.clock.now() < vote.deadline
        return vote.state == "open" and deadline_ok

    async def cast(self, user_id: int, vote_id: int, choice: str) -> Ballot:
        """A private ballot button; the presser must be a verified owner in the electorate."""
        found = await self.owners_vote(vote_id)
        if not self.is_open(found.vote):
            raise UserError("votes.errors.closed")
        elector = await self.repo.elector_of(vote_id, user_id)
        if elector is None:
            raise NotPermitted("votes.errors.not_owner")
        earlier = [b for b in await self.repo.ballots(vote_id) if b.elector == elector]
        if earlier and self.config.votes.ballot_change == "forbidden":
            raise UserError("votes.errors.no_change")
        await self.repo.cast(vote_id, elector, user_id, Choice(choice).value, self.clock.now())
        return Ballot(await self.owners_vote(vote_id), Choice(choice), bool(earlier))

    async def awaiting_ballot(self, user_id: int) -> list[OwnersVote]:
        """Open owners' votes this person may cast and whose household has not voted yet
        (issue #18 item 5): a ballot cast by another owner of the same elector counts."""
        waiting = []
        for vote in await self.repo.open_owner_votes():
            elector = await self.repo.elector_of(vote.id, user_id)
            if elector is None or not self.is_open(vote):
                continue
            if not any(b.elector == elector for b in await self.repo.ballots(vote.id)):
                waiting.append(await self.owners_vote(vote.id))
        return waiting

    async def close(self, vote_id: int, actor: int | None = None) -> OwnersVote | None:
        """Close at the deadline (``actor`` None: the sweep) or by a convenor; None if closed."""
        found = await self.owners_vote(vote_id)
        if actor is not None:
            self.check_convenor(actor, found.vote.grid)
        if not await self.repo.close(vote_id, self.clock.now()):
            return None
        return await self.owners_vote(vote_id)

    async def started_in(
        self, chats: Sequence[int], start: datetime, end: datetime
    ) -> list[VoteRecord]:
        """Votes started in these group chats between ``start`` and ``end`` (meeting minutes)."""
        return await self.repo.started_in(chats, start, end)

    async def non_voters(self, vote_id: int) -> list[int]:
        """Verified owners whose elector has no ballot yet."""
        voted = {b.elector for b in await self.repo.ballots(vote_id)}
        return [
            u
            for e in await self.repo.electors(vote_id)
            if e.elector not in voted
            for u in e.user_ids
        ]

    async def remind(self, vote_id: int, actor: int | None = None) -> list[int]:
        """Owners who have not voted and have not been reminded yet; each is reminded once."""
        found = await self.owners_vote(vote_id)
        if actor is not None:
            self.check_convenor(actor, found.vote.grid)
        if not self.is_open(found.vote):
            raise UserError("votes.errors.closed")
        now = self.clock.now()
        return [
            u
            for u in await self.non_voters(vote_id)
            if await self.repo.claim_reminder(vote_id, u, now)
        ]

    async def due_reminders(self, now: datetime) -> list[tuple[OwnersVote, list[int]]]:
        """Open owners' votes within ``remind_before_hours`` of their deadline: remind once."""
        before = timedelta(hours=self.config.votes.remind_before_hours)
        found = []
        for vote in await self.repo.open_owner_votes():
            if vote.deadline is not None and vote.deadline - before <= now < vote.deadline:
                users = await self.remind(vote.id)
                if users:
                    found.append((await self.owners_vote(vote.id), users))
        return found
