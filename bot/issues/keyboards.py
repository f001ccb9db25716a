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
from typing import Final

from bot.config import Config
from bot.core.markup import Markup, button, rows
from bot.core.parsing import is_number
from bot.core.permissions import Role
from bot.issues.model import TRANSITIONS, Action, IssueView, State
from bot.issues.policy import role_may

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


# The verb each action's button carries, in the order the buttons appear. Which of them a
# message offers is never re-encoded here: it is the actions the transition table allows in the
# issue's state (bot.issues.model.TRANSITIONS) that the role may take (bot.core.permissions),
# issue #12 (改类别 had drifted off the card of an issue awaiting a return decision).
CARD_VERBS: Final[dict[Action, str]] = {
    Action.ACCEPT: "acc",
    Action.ASSIGN: "asg",
    Action.REJECT: "rej",
    Action.MERGE: "mrg",
    Action.TRANSFER: "trf",
    Action.APPROVE_RETURN: "rap",
    Action.REFUSE_RETURN: "rrf",
    Action.SET_DEADLINE: "ddl",
    Action.RECATEGORISE: "cat",
}
ORDER_VERBS: Final[dict[Action, str]] = {
    Action.CONTACTED: "con",
    Action.PROGRESS: "prg",
    Action.RESOLVE: "done",
    Action.REQUEST_RETURN: "ret",
}
# The role whose actions each message offers: any grid staff role triages (worker, leader and
# secretary share one policy), the assigned handler handles.
CARD_ROLE: Final = Role.WORKER
ORDER_ROLE: Final = Role.HANDLER


def offered(state: State, role: Role, verbs: dict[Action, str]) -> list[Action]:
    """The actions ``role`` may take in ``state`` per the transition table, in button order."""
    return [a for a in verbs if state in TRANSITIONS[a][0] and role_may(role, a)]


def _buttons(
    t: Text, issue: IssueView, scope: str, role: Role, verbs: dict[Action, str], width: int
) -> Markup | None:
    actions = offered(issue.state, role, verbs)
    if not actions:
        return None
    labels = [
        button(t(f"issues.buttons.{a.value}"), f"{scope}:{verbs[a]}:{issue.number}")
        for a in actions
    ]
    return rows(labels, width)


def card(t: Text, issue: IssueView) -> Markup | None:
    """The grid worker's buttons for the issue's current state; None when nothing is left."""
    return _buttons(t, issue, "i", CARD_ROLE, CARD_VERBS, 3)


def handler_order(t: Text, issue: IssueView) -> Markup | None:
    """The handler's buttons on the 交办单 for the issue's current state."""
    return _buttons(t, issue, "h", ORDER_ROLE, ORDER_VERBS, 2)


def choices(t: Text, number: int, verb: str, options: Sequence[tuple[str, str]]) -> Markup:
    """One button per (key, label) option, plus 返回 to the card's buttons."""
    buttons = [button(label, f"i:{verb}:{number}:{key}") for key, label in options]
    buttons.append(button(t("issues.buttons.back"), f"i:back:{number}"))
    return rows(buttons, 2)


def handler_options(config: Config, grid: str) -> list[tuple[str, str]]:
    """The handlers of the community the issue's grid belongs to (a property company of
    another community is never offered; the service refuses it too)."""
    community = config.community_of_grid(grid)
    return [(h.key, h.name) for h in (community.handlers if community else ())]


def grid_options(config: Config, current: str) -> list[tuple[str, str]]:
    """Grids to 转办 to: the other grids of the issue's own community."""
    community = config.community_of_grid(current)
    grids = community.grids if community else ()
    return [(g.key, g.name) for g in grids if g.key != current]


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
        [button(t("issues.buttons.merge_into", target=m), f"i:mrg:{number}:{m}") for m in targets],
        3,
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
    return rows([button(t(f"issues.buttons.{label}"), f"{base}:{key}") for label, key in step], 3)


def slip_link(t: Text, number: int, url: str) -> Markup:
    """The group fallback: a URL button that opens the private chat on the slip."""
    return {
        "inline_keyboard": [[{"text": t("issues.buttons.open_slip", number=number), "url": url}]]
    }
