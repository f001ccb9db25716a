"""Inline keyboards as the Bot API's JSON: what presenters build, the outbox stores and sends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Markup = dict[str, Any]
Button = dict[str, str]


def button(label: str, data: str) -> Button:
    """A button labelled ``label`` whose press brings back ``data`` (never trusted)."""
    return {"text": label, "callback_data": data}


def rows(buttons: Sequence[Button], width: int) -> Markup:
    """``buttons`` in rows of ``width``, the last row holding what is left."""
    grid = [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]
    return {"inline_keyboard": grid}
