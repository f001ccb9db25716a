"""Inline keyboards of the issue loop and the callback data they carry (issue #3).

Callback data is only a short id, never trusted: the service checks who pressed it every time.

    i:<verb>:<number>[:<arg>]   grid worker on the card: acc, asg, rej, mrg, trf, cat, back,
                                rap (approve return), rrf (refuse return)
    h:<verb>:<number>           handler on the 交办单: con, prg, done, ret
    s:<slip>[:<a1>[:<a2>[:<a3>[:ok]]]]   the feedback slip, one answer per step
    p:<field>:<value>           the private guided report (网格悄悄话)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from bot.config import Config
from bot.core.parsing import is_number
from bot.issues.model import IssueView, State

Markup = dict[str, Any]
Text = Callable[..., str]

REJECT_REASONS: Final = ("duplicate", "not_ours", "incomplete", "solved")
DEADLINE_CHOICES: Final = ("eod", "3wd", "7d", "15d", "30d")
CONTACTED: Final = {"y": True, "n": False}
SOLVED: Final = {"s": "solved", "p": "partly", "n": "not_solved"}
SATISFACTION: Final = {"1": "satisfied", "2": "basic", "3": "unsatisfied"}


@dataclass(frozen=True)
class Callback:
    """Parsed callback data: ``i:asg:12:property`` → ("i", "asg", 12, ("property",))."""

    scope: str
    verb: str
    number: int
    args: tuple[str, ...] = ()


def parse(data: str | None) -> Callback | None:
    """The parsed data of an ``i:`` or ``h:`` button; None for anything malformed."""
    parts = (data or "").split(":")
    if len(parts) < 3 or parts[0] not in ("i", "h") or not is_number(parts[2]):
        return None
    return Callback(parts[0], parts[1], int(parts[2]), tuple(parts[3:]))


def parse_slip(data: str | None) -> tuple[int, tuple[str, ...]] | None:
    """``s:7:y:n`` → (7, ("y", "n")); None when malformed."""
    parts = (data or "").split(":")
    if len(parts) < 2 or parts[0] != "s" or not is_number(parts[1]) or len(parts) > 6:
        return None
    return int(parts[1]), tuple(parts[2:])


def button(label: str, data: str) -> dict[str, str]:
    return {"text": label, "callback_data": data}


def rows(buttons: Sequence[dict[str, str]], width: int = 3) -> Markup:
    grid = [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]
    return {"inline_keyboard": grid}


def card(t: Text, issue: IssueView) -> Markup | None:
    """The grid worker's buttons for the issue's current state; None when nothing is left."""
    n = issue.number
    verbs: list[tuple[str, str]] = []
    if issue.state is State.NEW:
        verbs.append(("accept", f"i:acc:{n}"))
    if issue.state in (State.NEW, State.ACCEPTED):
        verbs += [
            ("assign", f"i:asg:{n}"),
            ("reject", f"i:rej:{n}"),
            ("merge", f"i:mrg:{n}"),
            ("transfer", f"i:trf:{n}"),
        ]
    if issue.state is State.RETURN_REQUESTED:
        verbs += [("approve_return", f"i:rap:{n}"), ("refuse_return", f"i:rrf:{n}")]
    if issue.state in (State.ASSIGNED, State.IN_PROGRESS):
        verbs.append(("set_deadline", f"i:ddl:{n}"))
    if issue.state in (State.NEW, State.ACCEPTED, State.ASSIGNED, State.IN_PROGRESS):
        verbs.append(("recategorise", f"i:cat:{n}"))
    if not verbs:
        return None
    return rows([button(t(f"issues.buttons.{label}"), data) for label, data in verbs])


def handler_order(t: Text, issue: IssueView) -> Markup | None:
    """The handler's buttons on the 交办单 for the issue's current state."""
    n = issue.number
    verbs: list[tuple[str, str]] = []
    if issue.state is State.ASSIGNED:
        verbs.append(("contacted", f"h:con:{n}"))
    if issue.state in (State.ASSIGNED, State.IN_PROGRESS):
        verbs += [
            ("progress", f"h:prg:{n}"),
            ("resolve", f"h:done:{n}"),
            ("request_return", f"h:ret:{n}"),
        ]
    if not verbs:
        return None
    return rows([button(t(f"issues.buttons.{label}"), data) for label, data in verbs], 2)


def choices(t: Text, number: int, verb: str, options: Sequence[tuple[str, str]]) -> Markup:
    """One button per (key, label) option, plus 返回 to the card's buttons."""
    buttons = [button(label, f"i:{verb}:{number}:{key}") for key, label in options]
    buttons.append(button(t("issues.buttons.back"), f"i:back:{number}"))
    return rows(buttons, 2)


def handler_options(config: Config) -> list[tuple[str, str]]:
    return [(h.key, h.name) for h in config.community.handlers]


def grid_options(config: Config, current: str) -> list[tuple[str, str]]:
    return [(g.key, g.name) for g in config.community.grids if g.key != current]


def category_options(config: Config, current: str) -> list[tuple[str, str]]:
    return [(c.key, c.name) for c in config.issues.categories if c.key != current]


def deadline_options(t: Text) -> list[tuple[str, str]]:
    """改时限: limits counted from now (bot.core.workcal's forms)."""
    return [(limit, t(f"issues.deadlines.{limit}")) for limit in DEADLINE_CHOICES]


def reject_options(t: Text) -> list[tuple[str, str]]:
    return [(key, t(f"issues.reject_reasons.{key}")) for key in REJECT_REASONS]


def merge_hint(t: Text, number: int, targets: Sequence[int]) -> Markup:
    """可能重复: merge ``number`` into one of ``targets``."""
    return rows(
        [button(t("issues.buttons.merge_into", target=m), f"i:mrg:{number}:{m}") for m in targets]
    )


def slip_step(t: Text, slip_id: int, answers: tuple[str, ...]) -> Markup:
    """The buttons for the next unanswered question (or 提交 once all three are answered)."""
    base = ":".join(("s", str(slip_id), *answers))
    step: list[tuple[str, str]]
    if len(answers) == 0:
        step = [("yes", "y"), ("no", "n")]
    elif len(answers) == 1:
        step = [(label, key) for key, label in SOLVED.items()]
    elif len(answers) == 2:
        step = [(label, key) for key, label in SATISFACTION.items()]
    else:
        step = [("submit", "ok")]
    return rows([button(t(f"issues.buttons.{label}"), f"{base}:{key}") for label, key in step])


def slip_link(t: Text, number: int, url: str) -> Markup:
    """The group fallback: a URL button that opens the private chat on the slip."""
    return {
        "inline_keyboard": [[{"text": t("issues.buttons.open_slip", number=number), "url": url}]]
    }
