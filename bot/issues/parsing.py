"""Reading a resident's text: type from the hashtag, location, category, duplicates.

Pure functions over text and config, no I/O: the issue service calls them, tests table them.
Whether an emergency word is meant now is read in bot/issues/emergency.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, NamedTuple

from bot.config import CategoryConfig, Config, EmergencyService
from bot.core.errors import InvalidInput
from bot.issues.model import IssueType

HASHTAGS: Final = {
    "报事": IssueType.REPORT,
    "求助": IssueType.HELP,
    "投诉": IssueType.COMPLAINT,
    "举报": IssueType.WRONGDOING,
    "建议": IssueType.SUGGESTION,
    "咨询": IssueType.CONSULT,
}
# Chinese writers often omit the space ("#投诉楼上装修"), so the tag needs no word boundary.
_HASHTAG: Final = re.compile(r"^\s*[#＃](" + "|".join(HASHTAGS) + r")\s*")

# Jaccard similarity of character bigrams at or above which two reports are "likely the same".
# 0.5 means at least half of all distinct bigrams of the two texts are shared: rewordings of the
# same sentence score 0.5–0.8, different problems in the same place stay well below 0.3.
SIMILARITY_THRESHOLD: Final = 0.5

# For two reports from the same building, compared without the building: different problems
# there share almost nothing (0.0–0.1), the same one in other words 0.2–0.45 (issue #13 item 10).
SAME_BUILDING_THRESHOLD: Final = 0.2

_CN_DIGITS: Final = {c: str(i) for i, c in enumerate("零一二三四五六七八九十")}
_NUM: Final = r"(\d{1,3}|[一二三四五六七八九十]{1,3})"
_BUILDING_UNIT: Final = re.compile(
    _NUM + r"\s*(?:号楼|号|栋|幢|座|楼)\s*" + _NUM + r"\s*(?:单元|门)"
)
_DASHED: Final = re.compile(r"(?<![\d-])(\d{1,3})\s*-\s*(\d{1,2})(?![\d])")
_BUILDING: Final = re.compile(_NUM + r"\s*(?:号楼|栋|幢|座)")
_NOISE: Final = re.compile(r"[\s\W_]+")


@dataclass(frozen=True)
class Location:
    building: str | None = None
    unit: str | None = None

    @property
    def short(self) -> str | None:
        """The form groups see: "3-2", or "3" for a building without a unit."""
        if self.building and self.unit:
            return f"{self.building}-{self.unit}"
        return self.building


def split_hashtag(text: str) -> tuple[IssueType | None, str]:
    """``"#投诉 楼上装修"`` → (COMPLAINT, "楼上装修"); text without a leading hashtag is kept."""
    match = _HASHTAG.match(text)
    if match is None:
        return None, text.strip()
    return HASHTAGS[match.group(1)], text[match.end() :].strip()


def _number(token: str) -> str:
    """Arabic digits as they are; 一..九十九 (as people write building numbers) to digits."""
    if token.isdigit():
        return str(int(token))
    if "十" not in token:
        return "".join(_CN_DIGITS[c] for c in token)
    tens, _, ones = token.partition("十")
    value = int(_CN_DIGITS[tens]) * 10 if tens else 10
    return str(value + (int(_CN_DIGITS[ones]) if ones else 0))


def parse_location(text: str) -> Location:
    """Building and unit from "3号楼2单元", "3栋2单元", "三号楼二单元", "3-2"; else building."""
    for pattern in (_BUILDING_UNIT, _DASHED):
        match = pattern.search(text)
        if match:
            return Location(_number(match.group(1)), _number(match.group(2)))
    match = _BUILDING.search(text)
    return Location(_number(match.group(1))) if match else Location()


def check_description(text: str, config: Config) -> str:
    """The stripped description; InvalidInput when empty or over ``max_report_chars``."""
    text = text.strip()
    if not text:
        raise InvalidInput("issues.errors.empty")
    limit = config.issues.max_report_chars
    if len(text) > limit:
        raise InvalidInput("issues.errors.too_long", limit=limit, length=len(text))
    return text


def suggest_category(text: str, config: Config) -> CategoryConfig:
    """The category whose keywords match best; the default category when none matches.

    Best = most distinct keywords found, then the longest keyword found (电梯故障 beats 电梯),
    then the order of the config (earlier wins), so the result never depends on dict order.
    """
    best: tuple[int, int] = (0, 0)
    chosen: CategoryConfig | None = None
    for category in config.issues.categories:
        found = [word for word in category.keywords if word and word in text]
        score = (len(found), max((len(word) for word in found), default=0))
        if score > best:
            best, chosen = score, category
    if chosen is not None:
        return chosen
    default = config.category(config.issues.default_category)
    assert default is not None  # checked when the config is loaded
    return default


@lru_cache(maxsize=1024)
def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of ``text`` without spaces and punctuation (a lone char is its own).

    Cached: every report is compared with every open issue of its grid, so the same open
    issues' texts come back on every report (issue #7's profile). 1,024 entries hold ten
    grids' hundred candidates; 8,192 cost some 16 MB in the memory benchmark.
    """
    chars = _NOISE.sub("", text.lower())
    if len(chars) < 2:
        return frozenset({chars}) if chars else frozenset()
    return frozenset(chars[i : i + 2] for i in range(len(chars) - 1))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' character bigrams, 0.0–1.0."""
    return _jaccard(bigrams(a), bigrams(b))


def _jaccard(left: frozenset[str], right: frozenset[str]) -> float:
    if not left or not right:
        return 0.0
    shared = len(left & right)
    return shared / (len(left) + len(right) - shared)


MAX_DUPLICATES: Final = 3


class Candidate(NamedTuple):
    """What duplicate detection needs of an open issue (a tuple: built hundreds of times
    per report, where a frozen dataclass showed in issue #7's profile)."""

    number: int
    category: str
    building: str | None
    description: str


def likely_duplicates(
    draft: Candidate, candidates: Iterable[tuple[int, str, str | None, str]], config: Config
) -> tuple[int, ...]:
    """Numbers of candidates about the same problem in the same building, or with similar text.

    In the same building, a candidate filed under another category is still one when its text
    is close or names the same thing (issue #13 item 10: "快递点把消防车道占了" went to 其他
    while six reports of the blocked 消防通道 were under 电动车充电/飞线/消防通道).

    At most ``MAX_DUPLICATES``, the likeliest first (same building, then the most similar
    text, then the newest): a worker on a phone needs a hint, not a list of fifty.
    """
    own = bigrams(draft.description)
    size = len(own)
    building, category = draft.building, draft.category
    scored: list[tuple[bool, float, int]] = []
    # _jaccard and the category test of _same_problem written out, each candidate unpacked as
    # the plain tuple it is (a Candidate, or a row of the same four fields): this loop runs
    # for up to a hundred open issues on every report, and the calls and attribute lookups
    # were half its time (issue #15 item 6).
    for number, other_category, other_building, description in candidates:
        other = bigrams(description)
        if own and other:
            shared = len(own & other)
            score = shared / (size + len(other) - shared)
        else:
            score = 0.0
        if (
            building is not None
            and other_building == building
            and (
                other_category == category
                or _same_problem(
                    draft, Candidate(number, other_category, other_building, description), config
                )
            )
        ):
            scored.append((True, score, number))
        elif score >= SIMILARITY_THRESHOLD:
            scored.append((False, score, number))
    scored.sort(reverse=True)
    return tuple(number for _, _, number in scored[:MAX_DUPLICATES])


def _same_problem(draft: Candidate, other: Candidate, config: Config) -> bool:
    """Two reports from one building: same category, same topic words, or close wording
    once the building is left out (it is in both, so it says nothing)."""
    if draft.category == other.category:
        return True
    if topics(draft.description, config) & topics(other.description, config):
        return True
    return similarity(_unplaced(draft.description), _unplaced(other.description)) >= (
        SAME_BUILDING_THRESHOLD
    )


def topics(text: str, config: Config) -> frozenset[str]:
    """The categories with a keyword in ``text``, whatever category the report was filed as."""
    return _topics(text, config.issues.categories)


@lru_cache(maxsize=1024)
def _topics(text: str, categories: tuple[CategoryConfig, ...]) -> frozenset[str]:
    """Cached like ``bigrams``: the same open issues come back on every report of their grid.
    A report against 100 open issues of its own building: 1.6 ms uncached, 0.33 ms with this
    and ``_unplaced`` cached (0.04 ms when the buildings differ, as before)."""
    return frozenset(
        category.key
        for category in categories
        if any(word and word in text for word in category.keywords)
    )


@lru_cache(maxsize=1024)
def _unplaced(text: str) -> str:
    for pattern in (_BUILDING_UNIT, _DASHED, _BUILDING):
        text = pattern.sub(" ", text)
    return text


def services_tuple(services: Sequence[EmergencyService]) -> tuple[tuple[str, str], ...]:
    return tuple((service.kind, service.number) for service in services)
