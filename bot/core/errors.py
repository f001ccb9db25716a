"""Errors a person should be told about, raised by services and rendered by handlers.

Services never render text (style.md): each error carries a catalogue key and the values for its
placeholders. ``refs`` names placeholders whose value is itself a catalogue key (a state or an
action name), so the handler renders those first and the message reads 「已交办」, not
``assigned``. Render with ``error.render(renderer.text)``.

    UserError
    ├── NotPermitted           仅网格员可操作 / 仅本网格 / 仅被交办的经办人 / 看不到此事项 …
    ├── NotFound               issue or slip number unknown
    ├── IllegalTransition      the state machine refuses the action in the current state
    │   └── IssueFinished      closed / merged / rejected: a stale button
    ├── InvalidInput           empty or over-long report, missing reason, unknown handler …
    └── StaleSlip              the feedback slip was answered already or has expired
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any


class UserError(Exception):
    """Something a person did that cannot be done; the message comes from the catalogue."""

    key: str = "issues.errors.generic"

    def __init__(
        self,
        key: str | None = None,
        *,
        refs: Mapping[str, str] | None = None,
        **values: Any,
    ) -> None:
        self.key = key or type(self).key
        self.values: Mapping[str, Any] = MappingProxyType(dict(values))
        self.refs: Mapping[str, str] = MappingProxyType(dict(refs or {}))
        super().__init__(self.key, dict(values))

    def render(self, text: Callable[..., str]) -> str:
        """The message in the renderer's locale; ``text`` is ``Renderer.text``."""
        values = {**self.values, **{name: text(ref) for name, ref in self.refs.items()}}
        return text(self.key, **values)


class NotPermitted(UserError):
    key = "issues.errors.only_worker"


class NotFound(UserError):
    key = "issues.errors.not_found"


class IllegalTransition(UserError):
    key = "issues.errors.illegal"


class IssueFinished(IllegalTransition):
    key = "issues.errors.finished"


class InvalidInput(UserError):
    key = "issues.errors.invalid"


class StaleSlip(UserError):
    key = "issues.errors.slip_stale"
