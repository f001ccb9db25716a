"""Every message key the issue services raise, and every state/action/type name, is catalogued."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.errors import IllegalTransition, InvalidInput
from bot.core.permissions import Role
from bot.core.rendering import Renderer
from bot.issues.model import Action, IssueType, State, next_state

SERVICES = Path(__file__).parents[3] / "bot"


def used_error_keys() -> set[str]:
    keys: set[str] = set()
    for module in SERVICES.rglob("*.py"):
        keys |= set(re.findall(r'"(issues\.errors\.[a-z_]+)"', module.read_text("utf-8")))
    return keys


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_catalogue_has_every_key(locale: str) -> None:
    renderer = Renderer(locale)
    keys = used_error_keys()
    assert "issues.errors.only_worker" in keys
    names = [f"issues.states.{s.value}" for s in State]
    names += [f"issues.actions.{a.value}" for a in Action]
    names += [f"issues.types.{t.value}" for t in IssueType]
    names += [f"issues.roles.{r.value}" for r in Role]
    for key in sorted(keys) + names:
        assert renderer.text(key), key


def test_illegal_transition_renders_in_chinese() -> None:
    with pytest.raises(IllegalTransition) as refused:
        next_state(State.ASSIGNED, Action.ACCEPT)
    assert refused.value.render(Renderer("zh_CN").text) == "事项当前状态为「已交办」，不能受理。"


def test_too_long_renders_the_limit() -> None:
    error = InvalidInput("issues.errors.too_long", limit=2000, length=10000)
    assert "2000" in error.render(Renderer("zh_CN").text)
