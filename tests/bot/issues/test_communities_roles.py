"""A person's role in one community gives nothing in another (issue #15 item 1).

Two communities in one database: 阅海湾 ("yhw": grids g1, g2, worker 101, secretary 201, the
property company ``property``) and 金沙湖 ("jsh": grid h1, worker 121, secretary 221,
``jsh-property``). Every action is called on the service as a forged button would reach it:
the service, not the buttons shown, refuses it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import config_from_dict
from bot.core.errors import InvalidInput, NotPermitted
from bot.core.permissions import Grant, Role, roles_of
from tests.support import factories as f
from tests.support.factories import IssueWorld, issue_world


async def _report(world: IssueWorld, chat: int, text: str) -> int:
    outcome = await world.service.report(
        chat_id=chat, user_id=f.RESIDENT, display_name="王阿姨", text=text
    )
    return outcome.issue.number


async def test_a_report_belongs_to_the_community_of_its_grid(tmp_path: Path) -> None:
    async with issue_world(tmp_path, f.make_two_communities()) as world:
        a = await _report(world, f.G1_CHAT, "#报事 3号楼路灯坏了")
        b = await _report(world, f.H1_CHAT, "#报事 5号楼电梯停运")

        rows = await world.db.fetchall("SELECT number, community FROM issues ORDER BY number")

    assert [(r[0], r[1]) for r in rows] == [(a, "yhw"), (b, "jsh")]


async def test_the_one_community_form_keeps_the_default_key(tmp_path: Path) -> None:
    async with issue_world(tmp_path) as world:
        await _report(world, f.G2_CHAT, "#报事 垃圾没人清")
        row = await world.db.fetchone("SELECT community FROM issues")

    assert row is not None and row[0] == "default"


@pytest.mark.parametrize(
    "user",
    [
        pytest.param(f.WORKER_G1, id="worker-of-A"),
        pytest.param(f.LEADER_G1, id="leader-of-A"),
        pytest.param(f.SECRETARY, id="secretary-of-A"),
        pytest.param(f.PROPERTY_USER, id="handler-of-A"),
    ],
)
async def test_staff_of_one_community_cannot_triage_the_others_issue(
    tmp_path: Path, user: int
) -> None:
    async with issue_world(tmp_path, f.make_two_communities()) as world:
        number = await _report(world, f.H1_CHAT, "#报事 5号楼电梯停运")

        for act in (
            lambda: world.service.accept(user, number),
            lambda: world.service.assign(user, number, "jsh-property"),
            lambda: world.service.reject(user, number, "不归我们管"),
        ):
            with pytest.raises(NotPermitted) as refused:
                await act()
            assert refused.value.key == "issues.errors.other_community"
        issue = await world.service.load(number)

    assert issue.state.value == "new"


async def test_the_own_communitys_staff_still_triage(tmp_path: Path) -> None:
    async with issue_world(tmp_path, f.make_two_communities()) as world:
        number = await _report(world, f.H1_CHAT, "#报事 5号楼电梯停运")
        await world.service.accept(f.WORKER_H1, number)
        await world.service.assign(f.SECRETARY_B, number, "jsh-property")
        issue = await world.service.load(number)

    assert (issue.state.value, issue.handler) == ("assigned", "jsh-property")


async def test_an_issue_is_never_assigned_to_another_communitys_handler(tmp_path: Path) -> None:
    async with issue_world(tmp_path, f.make_two_communities()) as world:
        number = await _report(world, f.H1_CHAT, "#报事 5号楼电梯停运")

        with pytest.raises(InvalidInput):
            await world.service.assign(f.WORKER_H1, number, "property")
        issue = await world.service.load(number)

    assert issue.handler is None


async def test_a_handler_of_one_community_cannot_act_on_the_others_issue(tmp_path: Path) -> None:
    async with issue_world(tmp_path, f.make_two_communities()) as world:
        number = await _report(world, f.H1_CHAT, "#报事 5号楼电梯停运")
        await world.service.assign(f.WORKER_H1, number, "jsh-property")

        with pytest.raises(NotPermitted):
            await world.service.handler_contacted(f.PROPERTY_USER, number)
        with pytest.raises(NotPermitted):
            await world.service.handler_resolve(f.PROPERTY_USER, number, "已处理")
        await world.service.handler_resolve(f.PROPERTY_B, number, "已处理")
        issue = await world.service.load(number)

    assert issue.state.value == "resolved"


async def test_transfer_stays_inside_the_community(tmp_path: Path) -> None:
    async with issue_world(tmp_path, f.make_two_communities()) as world:
        number = await _report(world, f.G1_CHAT, "#报事 3号楼路灯坏了")

        with pytest.raises(InvalidInput):
            await world.service.transfer(f.WORKER_G1, number, "h1")
        await world.service.transfer(f.WORKER_G1, number, "g2")
        issue = await world.service.load(number)

    assert issue.grid == "g2"


def test_roles_are_scoped_by_the_grids_community() -> None:
    config = f.make_two_communities()

    assert Role.SECRETARY in roles_of(f.SECRETARY, config, "g1")
    assert Role.SECRETARY not in roles_of(f.SECRETARY, config, "h1")
    assert Role.SECRETARY in roles_of(f.SECRETARY_B, config, "h1")
    # a grant without a grid would not say which community: with several it counts nowhere
    grants = [Grant(Role.SECRETARY, "")]
    assert Role.SECRETARY not in roles_of(f.STRANGER, config, "h1", grants=grants)
    assert Role.SECRETARY in roles_of(f.STRANGER, f.make_config(), "g1", grants=grants)
    # a company serving both communities acts under each community's key, on that one only
    assert Role.HANDLER not in roles_of(f.PROPERTY_USER, config, "h1", "jsh-property")


async def test_a_company_serving_both_communities_works_each_under_its_key(
    tmp_path: Path,
) -> None:
    data = f.two_communities_data()
    data["communities"][1]["handlers"][0]["user_id"] = f.PROPERTY_USER
    async with issue_world(tmp_path, config_from_dict(data, f.ENV)) as world:
        a = await _report(world, f.G1_CHAT, "#报事 3号楼路灯坏了")
        b = await _report(world, f.H1_CHAT, "#报事 8号楼门禁坏了")
        await world.service.assign(f.WORKER_G1, a, "property")
        await world.service.assign(f.WORKER_H1, b, "jsh-property")
        queue = await world.service.handler_queue(f.PROPERTY_USER)
        await world.service.handler_resolve(f.PROPERTY_USER, b, "已修好")
        issue = await world.service.load(b)

    assert [(i.number, i.handler) for i in queue] == [(a, "property"), (b, "jsh-property")]
    assert issue.state.value == "resolved"
