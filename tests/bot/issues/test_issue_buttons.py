"""The worker card's and the 交办单's buttons are the transition table's legal actions for the
role, in every state (issue #12: they were re-encoded by hand and had drifted)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import GridBot, build
from bot.config import config_from_dict
from bot.core.errors import IllegalTransition
from bot.issues.model import TRANSITIONS, Action, IssueView, State, next_state
from bot.issues.policy import may
from bot.issues.presenter import IssueNotifier
from tests.support import factories as f


@pytest.fixture
async def gridbot(tmp_path: Path) -> AsyncIterator[GridBot]:
    """The bot's services on a real database; nothing talks to Telegram (never started)."""
    data = copy.deepcopy(f.community_data())
    data["storage"] = {"path": str(tmp_path / "gridbot.sqlite3")}
    bot = await build(config_from_dict(data, f.ENV), clock=f.FakeClock())
    try:
        yield bot
    finally:
        await bot.db.close()


async def assigned_issue(gridbot: GridBot) -> IssueView:
    outcome = await gridbot.services.features.issues.report(
        chat_id=f.G1_CHAT, user_id=f.RESIDENT, display_name="王阿姨", text="#报事 3号楼路灯坏了"
    )
    return replace(outcome.issue, handler="property")


def legal_for(user: int, issue: IssueView, gridbot: GridBot) -> set[Action]:
    """What the table allows in the issue's state and the policy lets ``user`` do."""
    legal = set()
    for action in TRANSITIONS:
        try:
            next_state(issue.state, action)
        except IllegalTransition:  # IssueFinished included
            continue
        if may(user, action, issue, gridbot.config):
            legal.add(action)
    return legal


def offered(notify: IssueNotifier, markup: dict[str, object] | None, scope: str) -> set[Action]:
    """The actions a message's buttons stand for, read from their labels (每个按钮一个动作)."""
    by_label = {}
    for action in TRANSITIONS:
        try:
            by_label[notify.t(f"issues.buttons.{action.value}")] = action
        except KeyError:  # no button is labelled for it (重办, 关闭: no one presses those)
            continue
    rows = (markup or {}).get("inline_keyboard", [])
    assert isinstance(rows, list)
    found = set()
    for row in rows:
        for button in row:
            assert button["callback_data"].startswith(f"{scope}:")
            found.add(by_label[button["text"]])
    return found


@pytest.mark.parametrize("state", list(State), ids=[s.value for s in State])
async def test_card_and_order_offer_exactly_the_legal_actions(
    gridbot: GridBot, state: State
) -> None:
    issue = replace(await assigned_issue(gridbot), state=state)
    notify = IssueNotifier(gridbot.services, "gridbot")
    for staff in (f.WORKER_G1, f.LEADER_G1):
        card = offered(notify, notify.card_buttons(issue, staff), "i")
        assert card == legal_for(staff, issue, gridbot), state
    order = offered(notify, notify.order_buttons(issue), "h")
    assert order == legal_for(f.PROPERTY_USER, issue, gridbot), state
    # Another grid's worker may do nothing here, and is offered nothing.
    assert notify.card_buttons(issue, f.WORKER_G2) is None


async def test_return_request_card_offers_recategorise(gridbot: GridBot) -> None:
    """改类别 is legal while a return is requested; the card used to leave it out."""
    issue = replace(await assigned_issue(gridbot), state=State.RETURN_REQUESTED)
    notify = IssueNotifier(gridbot.services, "gridbot")
    labels = {
        b["text"]
        for row in notify.card_buttons(issue, f.WORKER_G1)["inline_keyboard"]
        for b in row
    }
    assert labels == {"同意退单", "驳回退单", "改类别"}
