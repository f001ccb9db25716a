"""Advisory polls (Telegram's native poll, no legal force) and residents' meeting decisions
(城市居民委员会组织法 art. 9), issue #6. Kept apart from owners' decisions on purpose.

A poll's id is only in sendPoll's answer, which the outbox does not keep; so the poll asks a
question that names the vote (``#12``) and the first ``poll`` update with exactly that question
binds the poll id to the vote. Answers that arrive before the binding are kept by poll id and
count once it is bound. At the deadline the sweep closes the vote, the poll is stopped and the
result posted; answers after the deadline are not counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from bot.core.errors import InvalidInput, NotFound, UserError
from bot.votes.rules import AdvisoryResult, MeetingResult, advisory, residents_meeting
from bot.votes.service import VoteService
from storage.votes.repo import NewVote, VoteRecord

# What the service hands out, under its own name (presenters never import storage).
Vote: TypeAlias = VoteRecord

MAX_OPTIONS = 10


@dataclass(frozen=True)
class AdvisoryVote:
    vote: VoteRecord
    result: AdvisoryResult


@dataclass(frozen=True)
class MeetingVote:
    vote: VoteRecord
    result: MeetingResult | None  # None until present and yes are recorded


class PollService:
    def __init__(self, votes: VoteService) -> None:
        self.votes = votes
        self.repo = votes.repo

    # -- advisory ------------------------------------------------------------------------------

    async def create_advisory(
        self,
        actor: int,
        chat_id: int,
        grid: str,
        args: Sequence[str],
        anonymous: bool,
        question: str,
    ) -> VoteRecord:
        """``/poll [3d] 标题 | 选项1 | 选项2 …``; ``question`` is the catalogue's pattern for the
        poll question, with ``{title}`` and ``{number}`` still to fill."""
        self.votes.check_convenor(actor, grid)
        days, rest = self.votes.split_days(list(args))
        parts = [p.strip() for p in " ".join(rest).split("|")]
        title, options = parts[0], [p for p in parts[1:] if p]
        if not title or not 2 <= len(options) <= MAX_OPTIONS:
            raise InvalidInput("votes.errors.poll_usage")
        new = NewVote(
            "advisory",
            title,
            chat_id,
            grid,
            actor,
            self.votes.deadline(days),
            options=tuple(options),
            anonymous=anonymous,
        )
        vote_id = await self.repo.create(new, (), self.votes.clock.now())
        await self.repo.set_question(vote_id, question.format(title=title, number=vote_id)[:300])
        return await self._get(vote_id, "advisory")

    async def _get(self, vote_id: int, kind: str) -> VoteRecord:
        vote = await self.repo.get(vote_id)
        if vote is None or vote.kind != kind:
            raise NotFound("votes.errors.not_found", number=vote_id)
        return vote

    async def poll_answer(self, poll_id: str, user_id: int, option_ids: Sequence[int]) -> None:
        """A non-anonymous poll's answer (or retraction); ignored once the vote is closed."""
        vote = await self.repo.by_poll(poll_id)
        if vote is not None and not self.votes.is_open(vote):
            return
        await self.repo.record_poll_answer(poll_id, user_id, option_ids, self.votes.clock.now())

    async def poll_state(
        self, poll_id: str, question: str, counts: Sequence[int], closed: bool
    ) -> None:
        """A ``poll`` update: bind an unbound vote by its question, keep the newest counts."""
        vote = await self.repo.by_poll(poll_id)
        if vote is None:
            vote = await self.repo.unbound_poll(question)
            if vote is None:
                return  # not one of ours
            await self.repo.bind_poll(vote.id, poll_id)
        if vote.state == "open" and self.votes.is_open(vote):
            await self.repo.record_poll_state(poll_id, counts, closed, self.votes.clock.now())

    async def advisory_vote(self, vote: VoteRecord) -> AdvisoryVote:
        counts = [0] * len(vote.options)
        if vote.poll_id is not None:
            state = await self.repo.poll_state(vote.poll_id)
            answers = await self.repo.poll_answers(vote.poll_id)
            if answers or state is None:
                for _, chosen in answers:
                    for i in chosen:
                        counts[i] += 1
            else:  # an anonymous poll: only the poll's own counts exist
                counts = list(state)
        return AdvisoryVote(vote, advisory(counts))

    # -- residents' meeting --------------------------------------------------------------------

    async def create_meeting(
        self, actor: int, chat_id: int, grid: str, args: Sequence[str]
    ) -> MeetingVote:
        """``/vote_residents <应到人数> <标题>``: adults or household representatives eligible."""
        self.votes.check_convenor(actor, grid)
        if len(args) < 2 or not args[0].isdigit() or int(args[0]) < 1:
            raise InvalidInput("votes.errors.residents_usage")
        new = NewVote("residents", " ".join(args[1:]), chat_id, grid, actor, self.votes.deadline())
        vote_id = await self.repo.create(new, (), self.votes.clock.now())
        await self.repo.set_counts(vote_id, "eligible", int(args[0]))
        return await self.meeting(vote_id)

    async def meeting(self, vote_id: int) -> MeetingVote:
        vote = await self._get(vote_id, "residents")
        if vote.eligible is None or vote.present is None or vote.yes is None:
            return MeetingVote(vote, None)
        return MeetingVote(vote, residents_meeting(vote.eligible, vote.present, vote.yes))

    async def record(self, actor: int, vote_id: int, what: str, value: int) -> MeetingVote:
        """The convenor records 实到 (``present``) then 同意 (``yes``); ``yes`` closes it."""
        vote = await self._get(vote_id, "residents")
        self.votes.check_convenor(actor, vote.grid)
        if vote.state != "open":
            raise UserError("votes.errors.closed")
        limit = vote.eligible if what == "present" else vote.present
        if limit is None or not 0 <= value <= limit:
            raise InvalidInput(f"votes.errors.bad_{what}", limit=limit or 0)
        await self.repo.set_counts(vote_id, what, value)
        if what == "yes":
            await self.repo.close(vote_id, self.votes.clock.now())
        return await self.meeting(vote_id)

    # -- the deadline --------------------------------------------------------------------------

    async def close_meeting(self, vote_id: int) -> MeetingVote | None:
        """Close a residents' meeting vote at its deadline; None if it was closed already."""
        if not await self.repo.close(vote_id, self.votes.clock.now()):
            return None
        return await self.meeting(vote_id)

    async def close_advisory(self, vote_id: int, actor: int | None = None) -> AdvisoryVote | None:
        vote = await self._get(vote_id, "advisory")
        if actor is not None:
            self.votes.check_convenor(actor, vote.grid)
        if not await self.repo.close(vote_id, self.votes.clock.now()):
            return None
        return await self.advisory_vote(await self._get(vote_id, "advisory"))

    async def due(self, now: datetime) -> list[VoteRecord]:
        return await self.repo.due(now)
