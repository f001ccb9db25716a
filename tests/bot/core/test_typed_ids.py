"""Ids people type go through bot.core.parsing.parse_id too (issue #13 item 4): a superscript
digit or a 30-digit number is a usage error, never a ValueError or an OverflowError later."""

from __future__ import annotations

import pytest

from bot.consult.meetings_model import parse_invited
from bot.core.errors import InvalidInput


@pytest.mark.parametrize("word", ["²", "9" * 30, "-5"])
def test_meeting_invitees_must_be_ids(word: str) -> None:
    with pytest.raises(InvalidInput):
        parse_invited(["邀请", word])


def test_meeting_invitees_are_kept_in_order_without_repeats() -> None:
    assert parse_invited(["邀请", "502，501", "502"]) == (502, 501)
