"""接龙 and meeting catalogues (issue #6): the English keys match the Chinese ones."""

from __future__ import annotations

import pytest

from bot.core.rendering import _catalogue


@pytest.mark.parametrize("feature", ["jielong", "meetings"])
def test_en_catalogue_has_the_same_keys(feature: str) -> None:
    assert set(_catalogue("en", feature)) == set(_catalogue("zh_CN", feature))
