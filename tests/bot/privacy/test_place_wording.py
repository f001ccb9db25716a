"""A masked place is worded by the reader's catalogue (issue #12 item 5): the privacy service
hands out the parts (building, unit or masked free text), the presenter words them, so an
English group reads "Building 3", never "3号楼"."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from bot.app import build
from bot.config import config_from_dict
from bot.core.rendering import Renderer
from bot.issues.presenter import IssueNotifier
from bot.privacy.presenter import place_text
from bot.privacy.service import Audience, Place, mask_location
from tests.support import factories as f

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def test_the_service_hands_out_parts_not_words() -> None:
    assert mask_location("3", None, "3号楼301室") == Place(building="3")
    assert mask_location("3", "2", "3号楼2单元501室") == Place(building="3", unit="2")
    assert mask_location(None, None, "小区东门 电话13812345678") == Place(
        text="小区东门 电话138****5678"
    )


@pytest.mark.parametrize(
    ("locale", "place", "words"),
    [
        ("en", Place(building="3"), "Building 3"),
        ("zh_CN", Place(building="3"), "3号楼"),
        ("en", Place(building="3", unit="2"), "3-2"),
        ("zh_CN", Place(building="3", unit="2"), "3-2"),
        ("en", Place(), ""),
    ],
)
def test_a_place_is_worded_in_the_readers_language(locale: str, place: Place, words: str) -> None:
    assert place_text(Renderer(locale), place) == words


async def test_an_english_group_reads_a_building_only_location_without_chinese(
    tmp_path: Path,
) -> None:
    data = copy.deepcopy(f.community_data())
    data["storage"] = {"path": str(tmp_path / "gridbot.sqlite3")}
    data["locale"] = "en"
    bot = await build(config_from_dict(data, f.ENV), clock=f.FakeClock())
    try:
        outcome = await bot.services.features.issues.report(
            chat_id=f.G1_CHAT,
            user_id=f.RESIDENT,
            display_name="王阿姨",
            text="#报事 3号楼路灯坏了",
        )
        issue = outcome.issue
        assert (issue.building, issue.unit) == ("3", None)
        notify = IssueNotifier(bot.services, "gridbot")
        where = notify.fields(issue, Audience.GROUP)["where"]
        assert where == "Building 3"
        assert not _CJK.search(where)
    finally:
        await bot.db.close()
