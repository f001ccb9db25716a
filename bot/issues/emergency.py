"""Is an emergency word in a report happening now? (issue #13 item 9)

"万一着火怎么办" and "楼道着火了" share the keyword 着火; only the second should make the bot
post 火警 119 in the group and mark the issue urgent. Each mention of a keyword is read in its
clause (the text between two punctuation marks):

* negated (没有着火, 不是漏气, 没闻到煤气味): no emergency;
* hypothetical (万一/如果/要是/假如/怕/担心/会不会/会 …) or a drill (消防演习): a worry about a
  risk, a normal report;
* over (昨天着火了已经扑灭): past and put out, a normal report (put out without a time word,
  刚才冒烟了，已经处理好了, is in doubt);
* in doubt (好像着火了, 是不是漏气, 昨天着火了 without a word that it is over, 着火了怎么办):
  the grid workers are asked privately to check; the group is not told;
* anything else is live: the emergency reply in the group, the alert, the urgent limit.

Pure functions over text and config, no I/O; a service is live when one of its mentions is,
in doubt when none is live and one is in doubt. Cue lists are tuned on the phrasings in
tests/bot/services/test_issues_emergency.py; a phrasing that slips through belongs there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Final

from bot.config import Config, EmergencyService

_CLAUSE: Final = re.compile(r"[，,。.！!？?；;：:\n~～…]+")
# A negator right before the keyword, or with one verb between: 没有着火, 没闻到煤气味.
# "没想到着火了" keeps its fire: 想到 is not one of the verbs.
_NEGATED: Final = re.compile(
    r"(?<![有是])(?:没有|没|不是|并不是|并非|并没有|未|无|不存在)"
    r"人?(?:有|在|发生|闻到|看到|看见|见到|发现|出现|听到)?\s*$"
)
# Anywhere in the clause: the speaker imagines it (万一着火怎么办, 电动车在楼道充电怕着火).
_HYPOTHETICAL: Final = re.compile(
    r"万一|如果|要是|假如|假设|倘若|一旦|以防|防止|预防|以免|避免|会不会|容易|隐患|"
    r"(?<!恐)怕|担心|害怕|小心|可能会|迟早|早晚|风险|"
    r"演习|演练|模拟|培训|宣传|讲座|知识"  # a drill or a talk about it
)
# "会" right before the keyword: what could happen (充电会起火), not what is happening.
_COULD: Final = re.compile(r"(?<!不)会\s*$")
_PAST: Final = re.compile(
    r"昨天|昨晚|前天|前晚|上周|上星期|上个月|上月|去年|之前|以前|曾经|上次|那次|前几天|前些天"
)
# Said after the mention, in its clause or the next one: it is over. "还没扑灭" is not.
_OVER: Final = re.compile(
    r"扑灭|灭了|已灭|熄灭|没事了|处理好|处理完|解决了|修好|已经好了|已处理|送医了|抓到了"
)
_UNFINISHED: Final = re.compile(r"(?:没|未|不)(?:有)?\s*$")
_UNSURE: Final = re.compile(r"好像|似乎|疑似|是不是|恐怕|不确定|可能|有没有|吗")
_WHAT_TO_DO: Final = re.compile(r"怎么办|咋办|怎么弄")


class Reading(Enum):
    LIVE = "live"
    DOUBT = "doubt"
    NONE = "none"  # negated, hypothetical or over


@dataclass(frozen=True)
class EmergencyReading:
    live: tuple[EmergencyService, ...] = ()
    doubtful: tuple[EmergencyService, ...] = ()


def read_emergency(text: str, config: Config) -> EmergencyReading:
    """The configured services with a live mention in ``text``, and those only in doubt."""
    live: list[EmergencyService] = []
    doubtful: list[EmergencyService] = []
    for service in config.issues.emergency:
        readings = {read_mention(text, start, word) for word, start in _mentions(text, service)}
        if Reading.LIVE in readings:
            live.append(service)
        elif Reading.DOUBT in readings:
            doubtful.append(service)
    return EmergencyReading(tuple(live), tuple(doubtful))


def _mentions(text: str, service: EmergencyService) -> list[tuple[str, int]]:
    """(keyword, where) for every occurrence, keyword by keyword, left to right: what a
    ``re.finditer`` of each escaped keyword gave, by ``str.find`` (every report is read for
    every keyword of every service, and most keywords are absent: one ``in`` each)."""
    found = []
    for word in service.keywords:
        if not word or word not in text:
            continue
        start = text.find(word)
        while start != -1:
            found.append((word, start))
            start = text.find(word, start + len(word))
    return found


def read_mention(text: str, start: int, word: str) -> Reading:
    """How the keyword ``word`` found at ``start`` of ``text`` is meant."""
    before, after, question = _clause_around(text, start, start + len(word))
    clause = before + word + after
    if _NEGATED.search(before):
        return Reading.NONE
    if _HYPOTHETICAL.search(clause) or _COULD.search(before):
        return Reading.NONE
    past = bool(_PAST.search(clause))
    if _is_over(_this_and_next_clause(text, start)):  # past and over; without a time word, ask
        return Reading.NONE if past else Reading.DOUBT
    if _WHAT_TO_DO.search(after):  # "着火怎么办" asks what to do, "着火了怎么办" may be a cry
        return Reading.DOUBT if after.startswith("了") else Reading.NONE
    if past or _UNSURE.search(clause) or question:
        return Reading.DOUBT
    return Reading.LIVE


def _clause_around(text: str, start: int, end: int) -> tuple[str, str, bool]:
    """The text of the keyword's clause before and after it; whether the clause is a question."""
    left = max((m.end() for m in _CLAUSE.finditer(text, 0, start)), default=0)
    right_match = _CLAUSE.search(text, end)
    right = right_match.start() if right_match else len(text)
    question = right_match is not None and bool(set(right_match.group()) & {"？", "?"})
    return text[left:start], text[end:right], question


def _this_and_next_clause(text: str, start: int) -> str:
    """From the mention to the end of the clause after it: where "已经扑灭" would be said.
    Not further: "楼下着火了！电梯昨天修好了" is a fire now and a lift mended yesterday."""
    ends = _CLAUSE.finditer(text, start)
    first, second = next(ends, None), next(ends, None)
    if first is None or not (set(first.group()) <= {"，", ","}):
        return text[start : first.start() if first else len(text)]
    return text[start : second.start() if second else len(text)]


def _is_over(rest: str) -> bool:
    """Whether the text after a mention says it is over (已经扑灭), not that it is not (还没灭)."""
    return any(not _UNFINISHED.search(rest[: m.start()]) for m in _OVER.finditer(rest))
