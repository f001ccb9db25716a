"""Role × action, grants from the registry feeding the issue loop, group bindings (issue #4)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.errors import InvalidInput, NotPermitted, UserError
from bot.core.permissions import Grant, GridScope, RegistryAction, Role, may
from bot.issues.model import Action
from tests.support.factories import (
    G1_CHAT,
    LEADER_G1,
    PROPERTY_USER,
    RESIDENT,
    SECRETARY,
    STRANGER,
    WORKER_G1,
    WORKER_G2,
    make_config,
)
from tests.support.registry import RegistryWorld, registry_world

ADMIN = 901
HEAD = 902


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[RegistryWorld]:
    async with registry_world(tmp_path) as world:
        yield world


GRANTS = {ADMIN: [Grant(Role.ADMIN)], HEAD: [Grant(Role.BUILDING_HEAD, "g1")]}
A = RegistryAction
# (user, action, grid, allowed): one row per role × registry action that matters.
TABLE = [
    pytest.param(RESIDENT, A.GRANT, "", False, id="resident-grant"),
    pytest.param(HEAD, A.GRANT, "", False, id="building_head-grant"),
    pytest.param(WORKER_G1, A.GRANT, "", False, id="worker-grant"),
    pytest.param(LEADER_G1, A.GRANT, "", False, id="leader-grant"),
    pytest.param(SECRETARY, A.GRANT, "", True, id="secretary-grant"),
    pytest.param(ADMIN, A.GRANT, "", True, id="admin-grant"),
    pytest.param(PROPERTY_USER, A.GRANT, "", False, id="handler-grant"),
    pytest.param(RESIDENT, A.BIND, "", False, id="resident-bind"),
    pytest.param(ADMIN, A.BIND, "", True, id="admin-bind"),
    pytest.param(SECRETARY, A.IMPORT, "", True, id="secretary-import"),
    pytest.param(WORKER_G1, A.IMPORT, "", False, id="worker-import"),
    pytest.param(WORKER_G1, A.VERIFY, "g1", True, id="worker-verify-own-grid"),
    pytest.param(WORKER_G2, A.VERIFY, "g1", False, id="worker-verify-other-grid"),
    pytest.param(HEAD, A.VERIFY, "g1", False, id="building_head-verify"),
    pytest.param(RESIDENT, A.VERIFY, "g1", False, id="resident-verify"),
    pytest.param(SECRETARY, A.LEDGER, "", True, id="secretary-ledger"),
    pytest.param(WORKER_G1, A.LEDGER, "", False, id="worker-ledger"),
    pytest.param(RESIDENT, A.LEDGER, "", False, id="resident-ledger"),
    pytest.param(WORKER_G1, A.READ_SENSITIVE, "g1", True, id="worker-sensitive-own-grid"),
    pytest.param(WORKER_G2, A.READ_SENSITIVE, "g1", False, id="worker-sensitive-other-grid"),
    pytest.param(LEADER_G1, A.READ_SENSITIVE, "g1", False, id="leader-sensitive"),
    pytest.param(SECRETARY, A.READ_SENSITIVE, "g1", True, id="secretary-sensitive"),
    pytest.param(ADMIN, A.READ_SENSITIVE, "g1", False, id="admin-sensitive"),
    pytest.param(PROPERTY_USER, A.READ_SENSITIVE, "g1", False, id="handler-sensitive"),
    pytest.param(RESIDENT, A.READ_SENSITIVE, "g1", False, id="resident-sensitive"),
    pytest.param(SECRETARY, A.SEE_REQUESTER, "", True, id="secretary-see-names"),
    pytest.param(RESIDENT, A.SEE_REQUESTER, "", False, id="resident-see-names"),
]


@pytest.mark.parametrize(("user", "action", "grid", "allowed"), TABLE)
def test_registry_policy_table(
    user: int, action: RegistryAction, grid: str, allowed: bool
) -> None:
    grants = GRANTS.get(user, [])
    assert may(user, action, GridScope(grid), make_config(), grants=grants) is allowed


async def test_a_resident_cannot_grant_roles(world: RegistryWorld) -> None:
    with pytest.raises(NotPermitted) as refused:
        await world.registry.grant(RESIDENT, STRANGER, "网格员", "g1")
    assert refused.value.key == "registry.errors.denied_grant"
    assert await world.registry.repo.grants_of(STRANGER) == []


async def test_granted_worker_can_triage_in_the_issue_loop_then_revoked_cannot(
    world: RegistryWorld,
) -> None:
    outcome = await world.issues.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text="#报事 3号楼路灯坏了"
    )
    number = outcome.issue.number
    with pytest.raises(NotPermitted):
        await world.issues.act(STRANGER, number, Action.ACCEPT)
    granted = await world.registry.grant(SECRETARY, STRANGER, "网格员", "g1")
    assert granted.changed and granted.role is Role.WORKER
    _, role = await world.issues.act(STRANGER, number, Action.ACCEPT)
    assert role is Role.WORKER
    await world.registry.revoke(SECRETARY, STRANGER, "网格员", "g1")
    with pytest.raises(NotPermitted):
        await world.issues.act(STRANGER, number, Action.ACCEPT)
    events = await world.registry.repo.role_events(STRANGER)
    assert [(e[0], e[1], e[2], e[3]) for e in events] == [
        ("grant", "worker", "g1", SECRETARY),
        ("revoke", "worker", "g1", SECRETARY),
    ]


async def test_grants_survive_a_restart(world: RegistryWorld) -> None:
    await world.registry.grant(SECRETARY, ADMIN, "管理员", None)
    world.registry.roles.replace([])
    await world.registry.load_roles()
    assert world.registry.may(ADMIN, RegistryAction.GRANT)


async def test_grid_roles_need_a_known_grid(world: RegistryWorld) -> None:
    with pytest.raises(InvalidInput) as missing:
        await world.registry.grant(SECRETARY, STRANGER, "网格员", None)
    assert missing.value.key == "registry.errors.grid_needed"
    with pytest.raises(InvalidInput):
        await world.registry.grant(SECRETARY, STRANGER, "网格员", "g9")
    with pytest.raises(InvalidInput):
        await world.registry.grant(SECRETARY, STRANGER, "经办人", None)


async def test_bind_is_for_community_staff_only(world: RegistryWorld) -> None:
    with pytest.raises(NotPermitted):
        await world.registry.bind(RESIDENT, -5555, "g1")  # a Telegram group admin, say
    await world.registry.bind(SECRETARY, -5555, "g2")
    assert await world.registry.grid_of_chat(-5555) == "g2"
    assert await world.registry.grid_of_chat(G1_CHAT) == "g1"  # from the config


async def test_handler_sees_only_issues_assigned_to_them(world: RegistryWorld) -> None:
    first = await world.issues.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text="#报事 3号楼路灯坏了"
    )
    await world.issues.report(
        chat_id=G1_CHAT, user_id=RESIDENT, display_name="李四", text="#报事 5号楼电梯坏了"
    )
    number = first.issue.number
    await world.issues.act(WORKER_G1, number, Action.ACCEPT)
    issue, role = await world.issues.act(WORKER_G1, number, Action.ASSIGN)
    await world.issues.core.transition(
        issue, Action.ASSIGN, actor_id=WORKER_G1, role=role, changes={"handler": "property"}
    )
    queue = await world.issues.handler_queue(PROPERTY_USER)
    assert [i.number for i in queue] == [number]


async def test_only_the_households_grid_worker_decides_a_claim(world: RegistryWorld) -> None:
    from tests.support.registry import as_csv, sample_rows

    await world.registry.import_sheet(as_csv(sample_rows()), "a.csv", None)
    household = await world.registry.find_room("1-1-101")
    await world.registry.consent(RESIDENT, "李四")
    await world.registry.claim(RESIDENT, household.id, "tenant")
    for other in (WORKER_G2, STRANGER, RESIDENT):
        with pytest.raises(NotPermitted):
            await world.registry.decide(other, RESIDENT, household.id, approve=True)
    decision = await world.registry.decide(WORKER_G1, RESIDENT, household.id, approve=False)
    assert (decision.approved, decision.relation, decision.name) == (False, "tenant", "李四")
    with pytest.raises(UserError):  # a second press on the same card
        await world.registry.decide(WORKER_G1, RESIDENT, household.id, approve=True)
