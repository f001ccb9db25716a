from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from bot.issues.rates import (
    Rate,
    RateCounts,
    RateWeights,
    Satisfaction,
    Slip,
    Solved,
    compare,
    compute_rates,
    rates_from_counts,
)


def make_slips(
    *, valid: int, contacted: int, solved: int, partly: int, satisfied: int, basic: int
) -> list[Slip]:
    """``valid`` answered slips; the i-th slip answers each question positively while i < n."""
    slips = []
    for i in range(valid):
        if i < solved:
            outcome = Solved.SOLVED
        elif i < solved + partly:
            outcome = Solved.PARTLY
        else:
            outcome = Solved.NOT_SOLVED
        if i < satisfied:
            rating = Satisfaction.SATISFIED
        elif i < satisfied + basic:
            rating = Satisfaction.BASIC
        else:
            rating = Satisfaction.UNSATISFIED
        slips.append(Slip(contacted=i < contacted, solved=outcome, satisfaction=rating))
    return slips


# The worked example: 10 slips, 8 contacted, 6 solved, 2 partly, 5 satisfied, 3 basic, 2 not.
EXAMPLE = make_slips(valid=10, contacted=8, solved=6, partly=2, satisfied=5, basic=3)


def test_compute_rates_worked_example() -> None:
    rates = compute_rates(EXAMPLE)

    assert (rates.valid, rates.missing, rates.contacted) == (10, 0, 8)
    assert (rates.solved, rates.partly, rates.not_solved) == (6, 2, 2)
    assert (rates.satisfied, rates.basic, rates.unsatisfied) == (5, 3, 2)
    assert rates.response_rate == Fraction(8, 10)
    assert rates.resolution_rate == Fraction(6, 10)  # the 2 partly solved do not count
    assert rates.satisfaction_rate == Fraction(77, 100)  # (5 + 0.9 × 3) / 10
    assert rates.composite == Fraction(688, 1000)  # 0.08 + 0.30 + 0.308


@pytest.mark.parametrize(
    ("which", "expected"),
    [
        pytest.param(Rate.RESPONSE, "80.0%", id="response"),
        pytest.param(Rate.RESOLUTION, "60.0%", id="resolution"),
        pytest.param(Rate.SATISFACTION, "77.0%", id="satisfaction"),
        pytest.param("composite", "68.8%", id="composite-by-name"),
    ],
)
def test_rates_percent_formats_one_decimal(which: Rate | str, expected: str) -> None:
    assert compute_rates(EXAMPLE).percent(which) == expected


@pytest.mark.parametrize(
    ("contacted", "valid", "expected"),
    [
        pytest.param(5, 6, "83.3%", id="round-down"),
        pytest.param(2, 3, "66.7%", id="round-up"),
        pytest.param(1, 8, "12.5%", id="exact"),
        pytest.param(6, 6, "100.0%", id="all"),
        pytest.param(0, 6, "0.0%", id="none"),
    ],
)
def test_rates_percent_rounds_half_up(contacted: int, valid: int, expected: str) -> None:
    counts = RateCounts(valid=valid, contacted=contacted, satisfied=valid)
    assert rates_from_counts(counts).percent(Rate.RESPONSE) == expected


def test_compute_rates_other_locality_weights() -> None:
    weights = RateWeights(response="0.30", resolution=0.35, satisfaction=Fraction(7, 20))

    rates = compute_rates(EXAMPLE, weights)

    # 0.30 × 0.8 + 0.35 × 0.6 + 0.35 × 0.77 = 0.24 + 0.21 + 0.2695
    assert rates.composite == Fraction(7195, 10000)
    assert rates.percent(Rate.COMPOSITE) == "72.0%"  # 71.95 rounds half up


def test_compute_rates_basic_satisfied_weight_is_configurable() -> None:
    rates = compute_rates(EXAMPLE, RateWeights(basic_satisfied="0.8"))
    assert rates.satisfaction_rate == Fraction(74, 100)  # (5 + 0.8 × 3) / 10


@pytest.mark.parametrize(
    "slip",
    [
        pytest.param(Slip(None, None, None), id="nothing-answered"),
        pytest.param(Slip(True, Solved.SOLVED, None), id="no-satisfaction"),
        pytest.param(Slip(None, Solved.SOLVED, Satisfaction.SATISFIED), id="no-contact"),
        pytest.param(Slip(False, None, Satisfaction.UNSATISFIED), id="no-solved"),
    ],
)
def test_compute_rates_excludes_unanswered_slips(slip: Slip) -> None:
    rates = compute_rates([*EXAMPLE, slip, slip])

    assert (rates.valid, rates.missing) == (10, 2)
    assert rates == replace(compute_rates(EXAMPLE), missing=2)


def test_compute_rates_answered_no_is_valid() -> None:
    rates = compute_rates([Slip(False, Solved.NOT_SOLVED, Satisfaction.UNSATISFIED)])

    assert (rates.valid, rates.missing, rates.not_contacted) == (1, 0, 1)
    assert rates.composite == 0


@pytest.mark.parametrize(
    "slips",
    [
        pytest.param([], id="no-slips"),
        pytest.param([Slip(None, None, None)] * 3, id="only-missing"),
    ],
)
def test_compute_rates_without_valid_slips_has_no_rates(slips: list[Slip]) -> None:
    rates = compute_rates(slips)

    assert rates.valid == 0
    assert rates.missing == len(slips)
    assert all(rates.rate(which) is None for which in Rate)
    assert all(rates.percent(which) == "—" for which in Rate)


@pytest.mark.parametrize(
    "slips",
    [
        pytest.param(EXAMPLE, id="example"),
        pytest.param([*EXAMPLE, Slip(None, None, None)], id="with-missing"),
        pytest.param([], id="empty"),
        pytest.param(
            make_slips(valid=7, contacted=7, solved=0, partly=7, satisfied=0, basic=7),
            id="all-partly-basic",
        ),
    ],
)
def test_rates_from_counts_equals_compute_rates(slips: list[Slip]) -> None:
    weights = RateWeights(response="0.3", resolution="0.35", satisfaction="0.35")
    from_slips = compute_rates(slips, weights)
    counts = RateCounts(
        valid=from_slips.valid,
        missing=from_slips.missing,
        contacted=from_slips.contacted,
        solved=from_slips.solved,
        partly=from_slips.partly,
        satisfied=from_slips.satisfied,
        basic=from_slips.basic,
        unsatisfied=from_slips.unsatisfied,
    )

    assert rates_from_counts(counts, weights) == from_slips


@pytest.mark.parametrize(
    "counts",
    [
        pytest.param({"valid": 2, "contacted": 3, "satisfied": 2}, id="contacted-over-valid"),
        pytest.param({"valid": 2, "solved": 2, "partly": 1, "satisfied": 2}, id="solved-over"),
        pytest.param({"valid": 2, "satisfied": 1}, id="satisfaction-missing"),
        pytest.param({"valid": -1}, id="negative"),
    ],
)
def test_rate_counts_rejects_inconsistent_counts(counts: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        RateCounts(**counts)


def test_rate_weights_are_exact_fractions() -> None:
    assert RateWeights() == RateWeights("0.1", "0.5", "0.4", "0.9")
    assert RateWeights().basic_satisfied_weight == Fraction(9, 10)


@pytest.mark.parametrize(
    "weights",
    [
        pytest.param({"response": 30, "resolution": 35, "satisfaction": 35}, id="percent-not-1"),
        pytest.param({"response": 0.2}, id="sum-over-1"),
        pytest.param({"basic_satisfied": 1.5}, id="basic-over-1"),
        pytest.param({"response": -0.1, "resolution": 0.7}, id="negative"),
        pytest.param({"response": "a lot"}, id="not-a-number"),
        pytest.param({"response": True}, id="bool"),
    ],
)
def test_rate_weights_rejects_bad_weights(weights: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RateWeights(**weights)  # type: ignore[arg-type]


def test_compare_gives_percentage_points() -> None:
    previous = compute_rates(
        make_slips(valid=4, contacted=3, solved=3, partly=0, satisfied=2, basic=0)
    )
    current = compute_rates(EXAMPLE)

    change = compare(current, previous)

    assert change == {
        "response_rate": Fraction(5),  # 80% against 75%
        "resolution_rate": Fraction(-15),  # 60% against 75%
        "satisfaction_rate": Fraction(27),  # 77% against 50%
        "composite": Fraction(688 - 650, 10),  # 68.8 against 0.075 + 0.375 + 0.2 = 65.0
    }


def test_compare_without_previous_rates_gives_none() -> None:
    change = compare(compute_rates(EXAMPLE), compute_rates([]))
    assert change == dict.fromkeys(
        ["response_rate", "resolution_rate", "satisfaction_rate", "composite"]
    )
