"""The three kinds of decision (domain.md, "Decisions and votes"), as pure functions.

They must never be confused, so each has its own function and its own result type:

* :func:`owners_decision` — 业主共同决定, 民法典 art. 278. Participation needs owners holding
  ≥ 2/3 of the floor area **and** ≥ 2/3 of the owners; an ordinary matter then passes with
  **more than half** of the participating area and owners, a special one (maintenance fund,
  rebuilding, changing the use of common parts, 加装电梯) with **≥ 3/4** of both.
* :func:`residents_meeting` — 居民会议, 城市居民委员会组织法 art. 9: more than half of the
  adults (or household representatives) present, and more than half of those present agree.
* :func:`advisory` — 议事会 / 意见征集: a simple majority of votes cast, no legal force.

Everything is an exact :class:`~fractions.Fraction`: "≥" is inclusive, "more than" strict.
Counting owners (最高人民法院 interpretation, 2020, arts. 8–9) is the caller's job through
:class:`Elector`: one elector per owner, whatever the number of units, with the areas summed
(the unsold developer units together are one elector). A non-voter is never a yes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Final


class Matter(StrEnum):
    ORDINARY = "ordinary"
    SPECIAL = "special"


class Choice(StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


PARTICIPATION: Final = Fraction(2, 3)  # inclusive
SPECIAL_APPROVAL: Final = Fraction(3, 4)  # inclusive
MAJORITY: Final = Fraction(1, 2)  # strict: "more than half"


@dataclass(frozen=True)
class Elector:
    """One owner (counted once) and the floor area of all their units in scope, in 0.01 m²."""

    key: int
    area_centi: int


@dataclass(frozen=True)
class Share:
    """A part of a whole, by area and by headcount."""

    area: Fraction
    heads: Fraction


@dataclass(frozen=True)
class OwnersResult:
    matter: Matter
    participation: Share  # participating / all electors
    approval: Share  # yes / participating (0 when nobody took part)
    approval_needed: Fraction
    participation_met: bool
    passed: bool
    failed: tuple[str, ...]  # which thresholds failed: participation_area, approval_heads …
    voters: int
    electors: int


@dataclass(frozen=True)
class MeetingResult:
    eligible: int
    present: int
    yes: int
    quorum: bool
    passed: bool
    failed: tuple[str, ...]  # quorum, approval


@dataclass(frozen=True)
class AdvisoryResult:
    counts: tuple[int, ...]  # votes per option, in option order
    cast: int
    winner: int | None  # the option with more than half of the votes cast, if any


def _part(part: int, whole: int) -> Fraction:
    return Fraction(part, whole) if whole else Fraction(0)


def owners_decision(
    electors: Iterable[Elector], ballots: Mapping[int, Choice], matter: Matter
) -> OwnersResult:
    """Apply 民法典 art. 278 to ``ballots`` (elector key → choice) among ``electors``."""
    everyone = {e.key: e.area_centi for e in electors}
    cast = {key: choice for key, choice in ballots.items() if key in everyone}
    yes = [key for key, choice in cast.items() if choice is Choice.YES]
    total_area = sum(everyone.values())
    cast_area = sum(everyone[key] for key in cast)
    participation = Share(_part(cast_area, total_area), _part(len(cast), len(everyone)))
    approval = Share(
        _part(sum(everyone[key] for key in yes), cast_area), _part(len(yes), len(cast))
    )
    failed = [
        f"participation_{name}"
        for name, value in (("area", participation.area), ("heads", participation.heads))
        if value < PARTICIPATION
    ]
    needed = SPECIAL_APPROVAL if matter is Matter.SPECIAL else MAJORITY
    for name, value in (("area", approval.area), ("heads", approval.heads)):
        enough = value >= needed if matter is Matter.SPECIAL else value > needed
        if not enough:
            failed.append(f"approval_{name}")
    return OwnersResult(
        matter=matter,
        participation=participation,
        approval=approval,
        approval_needed=needed,
        participation_met=not any(f.startswith("participation") for f in failed),
        passed=not failed,
        failed=tuple(failed),
        voters=len(cast),
        electors=len(everyone),
    )


def residents_meeting(eligible: int, present: int, yes: int) -> MeetingResult:
    """城市居民委员会组织法 art. 9: quorum > 1/2 of ``eligible``, then > 1/2 of ``present``."""
    if not 0 <= yes <= present <= eligible:
        raise ValueError("need 0 <= yes <= present <= eligible")
    quorum = _part(present, eligible) > MAJORITY
    approved = _part(yes, present) > MAJORITY
    failed = tuple(name for name, ok in (("quorum", quorum), ("approval", approved)) if not ok)
    return MeetingResult(eligible, present, yes, quorum, not failed, failed)


def advisory(counts: Iterable[int]) -> AdvisoryResult:
    """A simple majority of the votes cast (more than half); advisory only, no legal force."""
    counted = tuple(counts)
    cast = sum(counted)
    winner = next((i for i, n in enumerate(counted) if _part(n, cast) > MAJORITY), None)
    return AdvisoryResult(counted, cast, winner)
