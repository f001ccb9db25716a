"""The three kinds of decision (domain.md): exact fractions, inclusive ≥ 2/3 and ≥ 3/4, strict
"more than half", one owner counted once, non-voters never yes."""

from __future__ import annotations

from fractions import Fraction

import pytest

from bot.votes.rules import (
    Choice,
    Elector,
    Matter,
    advisory,
    owners_decision,
    residents_meeting,
)

Y, N, A = Choice.YES, Choice.NO, Choice.ABSTAIN


def equal(n: int) -> list[Elector]:
    """``n`` owners of 100 m² each."""
    return [Elector(k, 10000) for k in range(n)]


@pytest.mark.parametrize(
    ("electors", "ballots", "matter", "passed", "failed"),
    [
        pytest.param(equal(3), {0: Y, 1: Y}, Matter.ORDINARY, True, (), id="2-of-3-exactly"),
        pytest.param(
            equal(12),
            dict.fromkeys(range(7), Y),
            Matter.ORDINARY,
            False,
            ("participation_area", "participation_heads"),
            id="7-of-12-below-2/3",
        ),
        pytest.param(
            equal(12),
            dict.fromkeys(range(8), Y),
            Matter.SPECIAL,
            True,
            (),
            id="8-of-12-is-exactly-2/3-inclusive",
        ),
        pytest.param(
            equal(4),
            {0: Y, 1: N, 2: A},
            Matter.ORDINARY,
            False,
            ("approval_area", "approval_heads"),
            id="1-of-3-participants-yes",
        ),
        pytest.param(
            equal(4),
            {0: Y, 1: Y, 2: N, 3: N},
            Matter.ORDINARY,
            False,
            ("approval_area", "approval_heads"),
            id="exactly-half-is-not-more-than-half",
        ),
        pytest.param(
            equal(4),
            {0: Y, 1: Y, 2: Y, 3: N},
            Matter.SPECIAL,
            True,
            (),
            id="exactly-3/4-special-inclusive",
        ),
        pytest.param(
            equal(7),
            {0: Y, 1: Y, 2: Y, 3: Y, 4: Y, 5: N, 6: N},
            Matter.SPECIAL,
            False,
            ("approval_area", "approval_heads"),
            id="5/7-special-below-3/4",
        ),
        pytest.param(
            equal(7),
            {0: Y, 1: Y, 2: Y, 3: Y, 4: Y, 5: N, 6: N},
            Matter.ORDINARY,
            True,
            (),
            id="5/7-ordinary-passes",
        ),
        pytest.param(
            [Elector(0, 30000), *equal(4)[1:]],
            {1: Y, 2: Y, 3: Y},
            Matter.ORDINARY,
            False,
            ("participation_area",),
            id="heads-3/4-but-area-1/2",
        ),
        pytest.param(
            [Elector(0, 30000), *equal(4)[1:]],
            {0: Y, 1: N, 2: N},
            Matter.ORDINARY,
            False,
            ("approval_heads",),
            id="area-yes-but-heads-no",
        ),
        pytest.param(
            equal(3),
            {},
            Matter.ORDINARY,
            False,
            ("participation_area", "participation_heads", "approval_area", "approval_heads"),
            id="nobody-voted",
        ),
    ],
)
def test_owners_decision_thresholds(
    electors: list[Elector],
    ballots: dict[int, Choice],
    matter: Matter,
    passed: bool,
    failed: tuple[str, ...],
) -> None:
    result = owners_decision(electors, ballots, matter)
    assert (result.passed, result.failed) == (passed, failed)


def test_owners_decision_exact_fractions_and_non_voters_not_yes() -> None:
    electors = [Elector(1, 8950), Elector(2, 12025), Elector(3, 8950)]
    result = owners_decision(electors, {1: Y, 2: Y}, Matter.ORDINARY)
    assert result.participation.area == Fraction(8950 + 12025, 29925)
    assert result.participation.heads == Fraction(2, 3)
    assert result.participation_met
    assert result.approval == type(result.approval)(Fraction(1), Fraction(1))
    assert (result.voters, result.electors) == (2, 3)


def test_owners_decision_ignores_a_ballot_from_outside_the_electorate() -> None:
    result = owners_decision(equal(3), {0: Y, 1: Y, 99: Y}, Matter.ORDINARY)
    assert result.voters == 2 and result.participation.heads == Fraction(2, 3)


@pytest.mark.parametrize(
    ("eligible", "present", "yes", "passed", "failed"),
    [
        pytest.param(100, 51, 26, True, (), id="just-over-half-present-and-yes"),
        pytest.param(100, 50, 50, False, ("quorum",), id="exactly-half-present-no-quorum"),
        pytest.param(100, 60, 30, False, ("approval",), id="exactly-half-of-present-yes"),
        pytest.param(100, 60, 31, True, (), id="31-of-60"),
        pytest.param(10, 0, 0, False, ("quorum", "approval"), id="nobody-came"),
    ],
)
def test_residents_meeting_article_9(
    eligible: int, present: int, yes: int, passed: bool, failed: tuple[str, ...]
) -> None:
    result = residents_meeting(eligible, present, yes)
    assert (result.passed, result.failed) == (passed, failed)


def test_residents_meeting_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        residents_meeting(10, 11, 3)
    with pytest.raises(ValueError):
        residents_meeting(10, 5, 6)


@pytest.mark.parametrize(
    ("counts", "winner"),
    [
        pytest.param((3, 2), 0, id="majority"),
        pytest.param((2, 2), None, id="tie-no-majority"),
        pytest.param((2, 1, 1), None, id="plurality-is-not-majority"),
        pytest.param((0, 0), None, id="no-votes"),
        pytest.param((1, 4, 0), 1, id="second-option"),
    ],
)
def test_advisory_simple_majority_of_votes_cast(
    counts: tuple[int, ...], winner: int | None
) -> None:
    result = advisory(counts)
    assert (result.winner, result.cast) == (winner, sum(counts))
