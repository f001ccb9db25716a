"""Several communities in one deployment (issue #15 item 1): the ``[[communities]]`` form, the
``[street_office]``, the single ``[community]`` form unchanged, and the problems reported."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bot.config import ConfigError, config_from_dict
from bot.config.schema import DEFAULT_COMMUNITY
from tests.support import factories as f


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_from_dict(data, f.ENV)
    return caught.value.problems


def test_the_single_community_form_is_the_default_community() -> None:
    config = f.make_config()

    assert [c.key for c in config.communities] == [DEFAULT_COMMUNITY]
    assert config.community.name == "阅海湾社区"
    assert not config.several
    assert config.street_office.staff == ()
    assert config.community_of_grid("g2") is config.community


def test_several_communities_are_read_with_their_own_people() -> None:
    config = f.make_two_communities()

    assert [(c.key, c.name) for c in config.communities] == [
        ("yhw", "阅海湾社区"),
        ("jsh", "金沙湖社区"),
    ]
    assert config.several
    assert [g.key for g in config.grids] == ["g1", "g2", "h1"]
    yhw, jsh = config.communities
    assert config.community_of_grid("h1") is jsh
    assert config.community_of_handler("property") is yhw
    assert config.secretaries_of_grid("g1") == (f.SECRETARY,)
    assert config.secretaries_of_grid("h1") == (f.SECRETARY_B,)
    assert config.street_office.name == "阅海街道"
    assert config.is_street_staff(f.STREET_STAFF)
    # the shared sections are written once and hold for every community
    assert config.rules_of("yhw") == config.rules_of("jsh") == config.schedule.rules


def test_code_that_assumes_one_community_fails_loudly_with_several() -> None:
    with pytest.raises(LookupError):
        _ = f.make_two_communities().community


def test_a_community_may_have_its_own_civic_rules() -> None:
    data = f.two_communities_data()
    data["communities"][1]["rules"] = [
        {"key": "jsh-clean", "template": "opinion_day", "days": [2], "time": "09:00"}
    ]
    config = config_from_dict(data, f.ENV)

    assert [r.key for r in config.rules_of("jsh")] == ["jsh-clean"]
    assert config.rules_of("yhw") == config.schedule.rules


def test_a_grid_key_used_in_two_communities_is_reported_with_both_places() -> None:
    data = f.two_communities_data()
    data["communities"][1]["grids"][0]["key"] = "g2"

    assert _problems(data) == [
        "communities[1].grids[0].key：与 communities[0].grids[1] 重复",
    ]


def test_a_group_bound_to_two_communities_is_reported() -> None:
    data = f.two_communities_data()
    data["communities"][1]["grids"][0]["chat_id"] = f.G1_CHAT

    assert _problems(data) == [
        "communities[1].grids[0].chat_id：与 communities[0].grids[0] 重复",
    ]


def test_community_and_handler_keys_are_unique_and_unknown_keys_named() -> None:
    data = f.two_communities_data()
    data["communities"][1]["key"] = "yhw"
    data["communities"][1]["handlers"][0]["key"] = "property"
    data["communities"][1]["secretary"] = [221]

    assert _problems(data) == [
        "communities[1].secretary：未知的配置项（是否想写 secretaries？）",
        "communities[1].key：与 communities[0] 重复",
        "communities[1].handlers[0].key：与 communities[0].handlers[0] 重复",
    ]


def test_a_community_needs_a_key_and_both_forms_at_once_are_refused() -> None:
    data = f.two_communities_data()
    del data["communities"][0]["key"]
    data["community"] = copy.deepcopy(f.community_data()["community"])

    assert _problems(data) == [
        "community：[community] 与 [[communities]] 只能二选一：一个社区写 [community]，"
        "多个社区写 [[communities]]",
        "communities[0].key：必须填写",
    ]


def test_the_street_office_needs_its_staff() -> None:
    data = f.two_communities_data()
    data["street_office"] = {"name": "阅海街道"}

    assert _problems(data) == ["street_office.staff：至少需要一名街道工作人员的 Telegram 用户 ID"]


def test_one_property_company_may_serve_two_communities_under_two_keys() -> None:
    data = f.two_communities_data()
    data["communities"][1]["handlers"][0]["user_id"] = f.PROPERTY_USER

    config = config_from_dict(data, f.ENV)

    assert [h.key for h in config.handlers_of_user(f.PROPERTY_USER)] == [
        "property",
        "jsh-property",
    ]
