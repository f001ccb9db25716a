"""The three rates (三率) and the composite score, computed exactly over feedback slips.

Over the valid slips of a period (a slip is valid when all three questions are answered):

* 响应率 response rate = contacted ÷ valid
* 解决率 resolution rate = solved ÷ valid. "Partly solved" does NOT count as solved: it is
  reported separately (``partly``) but adds nothing to the rate.
* 满意率 satisfaction rate = (满意 + basic_satisfied × 基本满意) ÷ valid, basic_satisfied = 0.9
* composite = response × w_response + resolution × w_resolution + satisfaction × w_satisfaction,
  by default 0.1 / 0.5 / 0.4 (other localities use 0.30 / 0.35 / 0.35)

A slip with any question unanswered is not valid; it counts in ``missing`` only. With no valid
slip every rate is ``None`` ("—"), never a division by zero. All arithmetic uses
``fractions.Fraction``, so 0.9 is exactly 9/10 and rounding happens only when a rate is shown.

按期办结率 on-time rate (issue #18 item 4), beside the three rates and not from the slips:

* It counts 办结 (resolutions): every ``resolve`` event whose time falls in the period.
* A resolution is on time when it happened at or before the resolve-by deadline in force at that
  moment (``issue_events.resolve_by``, copied from the issue when the event is written).
* 改时限 moves the deadline before the resolution: the new deadline is the one that counts (the
  ledger shows that it was changed).
* 重办 (reopened after an unhappy slip) gives the handler a fresh deadline; the next resolution is
  another 办结, judged by that deadline, in the period it happens. The earlier resolution keeps
  its verdict, so a period's figure never changes after it was sent; the reopening shows in the
  重办 count and the residents' rates instead.
* A resolution without a deadline (never assigned one) counts in neither number.
* on-time rate = on time ÷ resolutions; ``None`` ("—") when there are none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction


class Contacted(StrEnum):
    YES = "yes"
    NO = "no"


class Solved(StrEnum):
    SOLVED = "solved"
    PARTLY = "partly"
    NOT_SOLVED = "not_solved"


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"
    BASIC = "basic"
    UNSATISFIED = "unsatisfied"


class Rate(StrEnum):
    """The rates a digest shows; the values are the matching ``Rates`` attribute names."""

    RESPONSE = "response_rate"
    RESOLUTION = "resolution_rate"
    SATISFACTION = "satisfaction_rate"
    COMPOSITE = "composite"


@dataclass(frozen=True)
class Slip:
    """One feedback slip (评单). ``None`` means the question was not answered."""

    contacted: bool | None
    solved: Solved | None
    satisfaction: Satisfaction | None

    @property
    def valid(self) -> bool:
        """Whether all three questions are answered (only valid slips count in the rates)."""
        return None not in (self.contacted, self.solved, self.satisfaction)


Weight = Fraction | Decimal | float | int | str


@dataclass(frozen=True)
class RateWeights:
    """Configurable weights. Each is converted with ``Fraction(str(x))``: 0.9 is exactly 9/10.

    The three composite weights must add up to exactly 1 (write 30/35/35 as 0.30/0.35/0.35);
    ``basic_satisfied`` is how much a 基本满意 counts towards 满意率, between 0 and 1.
    """

    response: Weight = 0.1
    resolution: Weight = 0.5
    satisfaction: Weight = 0.4
    basic_satisfied: Weight = 0.9

    def __post_init__(self) -> None:
        for field in fields(self):
            object.__setattr__(self, field.name, _fraction(field.name, getattr(self, field.name)))
        if self.response_weight + self.resolution_weight + self.satisfaction_weight != 1:
            raise ValueError(
                "the composite weights must add up to 1, got "
                f"{self.response} + {self.resolution} + {self.satisfaction}"
            )
        if not 0 <= self.basic_satisfied_weight <= 1:
            raise ValueError(
                f"basic_satisfied must be between 0 and 1, got {self.basic_satisfied}"
            )

    # Typed views of the fields (already Fractions after __post_init__, so this is exact).
    @property
    def response_weight(self) -> Fraction:
        return _fraction("response", self.response)

    @property
    def resolution_weight(self) -> Fraction:
        return _fraction("resolution", self.resolution)

    @property
    def satisfaction_weight(self) -> Fraction:
        return _fraction("satisfaction", self.satisfaction)

    @property
    def basic_satisfied_weight(self) -> Fraction:
        return _fraction("basic_satisfied", self.basic_satisfied)


def _fraction(name: str, value: Weight) -> Fraction:
    if isinstance(value, bool):
        raise ValueError(f"weight {name} must be a number, got {value!r}")
    try:
        result = Fraction(str(value))
    except ValueError:
        raise ValueError(f"weight {name} must be a number, got {value!r}") from None
    if result < 0:
        raise ValueError(f"weight {name} must not be negative, got {value!r}")
    return result


DEFAULT_WEIGHTS = RateWeights()


@dataclass(frozen=True)
class RateCounts:
    """The counters behind the rates, as storage aggregates them with ``GROUP BY``.

    ``contacted``, ``solved``, ``partly``, ``satisfied``, ``basic`` and ``unsatisfied`` count
    valid slips only; ``missing`` counts slips with any question unanswered.
    """

    valid: int = 0
    missing: int = 0
    contacted: int = 0
    solved: int = 0
    partly: int = 0
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0

    def __post_init__(self) -> None:
        for field in fields(self):
            if getattr(self, field.name) < 0:
                raise ValueError(f"{field.name} cannot be negative: {self}")
        if self.contacted > self.valid or self.solved + self.partly > self.valid:
            raise ValueError(f"more answers than valid slips: {self}")
        if self.satisfied + self.basic + self.unsatisfied != self.valid:
            raise ValueError(f"every valid slip has exactly one satisfaction answer: {self}")


@dataclass(frozen=True)
class Rates:
    """The counters and the exact rates of one period; rates are ``None`` without valid slips."""

    valid: int
    missing: int
    contacted: int
    solved: int
    partly: int
    satisfied: int
    basic: int
    unsatisfied: int
    response_rate: Fraction | None
    resolution_rate: Fraction | None
    satisfaction_rate: Fraction | None
    composite: Fraction | None

    @property
    def not_contacted(self) -> int:
        return self.valid - self.contacted

    @property
    def not_solved(self) -> int:
        return self.valid - self.solved - self.partly

    def rate(self, which: Rate | str) -> Fraction | None:
        """The rate named by ``which`` (a ``Rate`` or its value, e.g. ``"composite"``)."""
        value: Fraction | None = getattr(self, Rate(which).value)
        return value

    def percent(self, which: Rate | str) -> str:
        """The rate as a percentage with one decimal, rounded half up ("83.3%"); "—" if None."""
        return _percent(self.rate(which))


def compute_rates(slips: Iterable[Slip], weights: RateWeights = DEFAULT_WEIGHTS) -> Rates:
    """Count the slips and compute the rates (see the module docstring for the definitions)."""
    tally = dict.fromkeys((f.name for f in fields(RateCounts)), 0)
    for slip in slips:
        if not slip.valid:
            tally["missing"] += 1
            continue
        tally["valid"] += 1
        tally["contacted"] += bool(slip.contacted)
        if slip.solved is Solved.SOLVED:
            tally["solved"] += 1
        elif slip.solved is Solved.PARTLY:
            tally["partly"] += 1
        match slip.satisfaction:
            case Satisfaction.SATISFIED:
                tally["satisfied"] += 1
            case Satisfaction.BASIC:
                tally["basic"] += 1
            case Satisfaction.UNSATISFIED:
                tally["unsatisfied"] += 1
    return rates_from_counts(RateCounts(**tally), weights)


def rates_from_counts(counts: RateCounts, weights: RateWeights = DEFAULT_WEIGHTS) -> Rates:
    """The rates for counters aggregated elsewhere (the SQL path); same result as compute_rates."""
    response = resolution = satisfaction = composite = None
    if counts.valid:
        response = Fraction(counts.contacted, counts.valid)
        resolution = Fraction(counts.solved, counts.valid)
        satisfaction = (
            counts.satisfied + weights.basic_satisfied_weight * counts.basic
        ) / counts.valid
        composite = (
            weights.response_weight * response
            + weights.resolution_weight * resolution
            + weights.satisfaction_weight * satisfaction
        )
    return Rates(
        valid=counts.valid,
        missing=counts.missing,
        contacted=counts.contacted,
        solved=counts.solved,
        partly=counts.partly,
        satisfied=counts.satisfied,
        basic=counts.basic,
        unsatisfied=counts.unsatisfied,
        response_rate=response,
        resolution_rate=resolution,
        satisfaction_rate=satisfaction,
        composite=composite,
    )


def compare(current: Rates, previous: Rates) -> dict[str, Fraction | None]:
    """Change of each rate in percentage points, keyed by ``Rate`` value; None if either is None.

    80% now against 75% before gives ``Fraction(5)``.
    """
    changes: dict[str, Fraction | None] = {}
    for rate in Rate:
        now, before = current.rate(rate), previous.rate(rate)
        changes[rate.value] = None if now is None or before is None else (now - before) * 100
    return changes


@dataclass(frozen=True)
class OnTime:
    """The on-time rate of one period and scope (see the module docstring for the definition)."""

    resolved: int = 0  # resolutions with a deadline
    on_time: int = 0  # of which at or before it

    def __post_init__(self) -> None:
        if not 0 <= self.on_time <= self.resolved:
            raise ValueError(f"on time must be between 0 and resolved: {self}")

    @property
    def late(self) -> int:
        return self.resolved - self.on_time

    @property
    def rate(self) -> Fraction | None:
        return Fraction(self.on_time, self.resolved) if self.resolved else None

    def percent(self) -> str:
        """Like ``Rates.percent``: one decimal, half up ("83.3%"); "—" without resolutions."""
        return _percent(self.rate)


def on_time(resolutions: Iterable[tuple[datetime, datetime | None]]) -> OnTime:
    """The reference count over (resolved at, deadline in force then) pairs."""
    resolved = punctual = 0
    for at, deadline in resolutions:
        if deadline is None:
            continue
        resolved += 1
        punctual += at <= deadline
    return OnTime(resolved, punctual)


def _percent(value: Fraction | None) -> str:
    if value is None:
        return "—"
    tenths = math.floor(value * 1000 + Fraction(1, 2))
    return f"{tenths // 10}.{tenths % 10}%"
