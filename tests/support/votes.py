"""Votes test building blocks (issue #6): unit 3-2 with 12 households of known areas, owners
verified through the registry service."""

from __future__ import annotations

from bot.app import GridBot
from bot.registry.service import RegistryService
from sandbox.models import SentRecord
from tests.support import factories as f
from tests.support.harness import World, step
from tests.support.registry import as_csv

# 3-2-101 … 3-2-602: rooms x01 are 80 m², rooms x02 are 120 m² (1200 m² in all), grid g1.
ROOMS = [f"{floor}0{room}" for floor in range(1, 7) for room in (1, 2)]
AREA = {r: 80 if r.endswith("1") else 120 for r in ROOMS}
OWNER = {room: 600 + i for i, room in enumerate(ROOMS, start=1)}  # 3-2-101 → 601 …
TENANT = 699


def unit_sheet() -> bytes:
    rows: list[list[object]] = [
        ["3号楼", 2, room, AREA[room], f"业主{room}", "", "g1"] for room in ROOMS
    ]
    return as_csv(rows)


async def seed_unit(
    gridbot: GridBot, owners: dict[str, int] | None = None, tenant: str | None = None
) -> None:
    """Import unit 3-2 and verify each room's owner (``owners``: room → user id)."""
    registry: RegistryService = gridbot.services.features.registry
    await registry.import_sheet(unit_sheet(), "住户.csv", None)
    links = [(room, user, "owner") for room, user in (owners or OWNER).items()]
    if tenant is not None:
        links.append((tenant, TENANT, "tenant"))
    for room, user, relation in links:
        household = await registry.find_room(f"3-2-{room}")
        await registry.consent(user, f"住户{user}")
        await registry.claim(user, household.id, relation)
        await registry.decide(f.WORKER_G1, user, household.id, True)


async def add_people(world: World, gridbot: GridBot, users: list[int]) -> None:
    """Residents in the sandbox, members of the g1 group, each with a private chat."""
    for user in users:
        world.server.add_user("住户", str(user), id=user)
        await world.server.join(f.G1_CHAT, user)
        await world.server.start_private(user)
    await step(world, gridbot)


def current(world: World, record: SentRecord) -> str:
    """The text of a message as it is now (after edits)."""
    found = [
        r
        for r in world.server.sent
        if r.chat_id == record.chat_id and r.message_id == record.message_id
    ]
    return found[-1].text or ""
