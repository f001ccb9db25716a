"""Registry repository: buildings, units, households, persons and their household links,
role grants (with their audit events), group bindings and sensitive data (issue #4).

Rows come back as frozen dataclasses of plain values; the rules live in
``bot.registry.service*``. Every write joins the caller's transaction when there is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.clock import from_db, from_db_or_none, to_db
from storage.db import Database, Row, Transaction

_HOUSEHOLD_SQL = (
    "SELECT h.*, u.name AS unit, b.name AS building, u.id AS unit_id, b.id AS building_id,"
    " b.community AS community"
    " FROM households h JOIN units u ON u.id = h.unit_id JOIN buildings b ON b.id = u.building_id"
)


@dataclass(frozen=True)
class HouseholdRecord:
    id: int
    building: str
    unit: str
    room: str
    area_centi: int
    owner_names: str
    phone: str
    grid: str
    owner_key: str = ""  # 业主编号 from the sheet: one owner's units share it (issue #13 item 15)
    community: str = "default"  # its building's community (0020_building_community)

    @classmethod
    def _from_row(cls, row: Row) -> HouseholdRecord:
        return cls(
            id=row["id"],
            building=row["building"],
            unit=row["unit"],
            room=row["room"],
            area_centi=row["area_centi"],
            owner_names=row["owner_names"],
            phone=row["phone"],
            grid=row["grid"],
            owner_key=row["owner_key"],
            community=row["community"],
        )


@dataclass(frozen=True)
class HouseholdData:
    """A household as the import sheet describes it (no id yet)."""

    building: str
    unit: str
    room: str
    area_centi: int
    owner_names: str
    phone: str
    grid: str
    owner_key: str = ""  # 业主编号, optional (issue #13 item 15)
    community: str = "default"  # the community of ``grid`` (issue #15): its buildings


@dataclass(frozen=True)
class PersonRecord:
    user_id: int
    display_name: str
    consent_given_at: datetime
    sensitive_consent_at: datetime | None


@dataclass(frozen=True)
class LinkRecord:
    user_id: int
    household_id: int
    relation: str
    state: str
    requested_at: datetime
    verified_by: int | None
    verified_at: datetime | None

    @classmethod
    def _from_row(cls, row: Row) -> LinkRecord:
        return cls(
            user_id=row["user_id"],
            household_id=row["household_id"],
            relation=row["relation"],
            state=row["state"],
            requested_at=from_db(row["requested_at"]),
            verified_by=row["verified_by"],
            verified_at=from_db_or_none(row["verified_at"]),
        )


@dataclass(frozen=True)
class GrantRecord:
    user_id: int
    role: str
    grid: str  # '' = the whole community
    granted_by: int
    granted_at: datetime
    community: str = "default"  # which community a grant without a grid is for (0021)


@dataclass(frozen=True)
class SensitiveRecord:
    household_id: int
    living_alone: bool
    health: str
    disability: str


def _grant(row: Row) -> GrantRecord:
    return GrantRecord(
        row["user_id"],
        row["role"],
        row["grid"],
        row["granted_by"],
        from_db(row["granted_at"]),
        row["community"],
    )


class RegistryRepo:
    """Every SQL statement about the registry."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- households ----------------------------------------------------------------------------

    async def households(self) -> list[HouseholdRecord]:
        rows = await self.db.fetchall(_HOUSEHOLD_SQL + " ORDER BY b.name, u.name, h.room")
        return [HouseholdRecord._from_row(r) for r in rows]

    async def household(self, household_id: int) -> HouseholdRecord | None:
        row = await self.db.fetchone(_HOUSEHOLD_SQL + " WHERE h.id = ?", (household_id,))
        return None if row is None else HouseholdRecord._from_row(row)

    async def find_households(
        self, building: str, unit: str, room: str, *, community: str | None = None
    ) -> list[HouseholdRecord]:
        """The households with this address: one per community that has it (``community``
        None: in every community)."""
        rows = await self.db.fetchall(
            _HOUSEHOLD_SQL + " WHERE b.name = ? AND u.name = ? AND h.room = ?"
            " AND (CAST(? AS TEXT) IS NULL OR b.community = ?) ORDER BY b.community",
            (building, unit, room, community, community),
        )
        return [HouseholdRecord._from_row(row) for row in rows]

    async def buildings(self) -> list[tuple[int, str, str]]:
        """(id, name, community) of every building."""
        rows = await self.db.fetchall("SELECT id, name, community FROM buildings")
        return [(r["id"], r["name"], r["community"]) for r in rows]

    async def units(self, building_id: int) -> list[tuple[int, str]]:
        rows = await self.db.fetchall(
            "SELECT id, name FROM units WHERE building_id = ?", (building_id,)
        )
        return [(r["id"], r["name"]) for r in rows]

    async def households_in_unit(self, unit_id: int) -> list[HouseholdRecord]:
        rows = await self.db.fetchall(_HOUSEHOLD_SQL + " WHERE u.id = ?", (unit_id,))
        return [HouseholdRecord._from_row(r) for r in rows]

    async def save_households(
        self,
        added: Sequence[HouseholdData],
        changed: Sequence[tuple[int, HouseholdData]],
        now: datetime,
    ) -> None:
        """Insert ``added`` and overwrite ``changed`` (by id) in one transaction."""
        stamp = to_db(now)
        async with self.db.writing() as tx:
            for data in added:
                unit_id = await _unit_id(tx, data.community, data.building, data.unit)
                await tx.insert(
                    "INSERT INTO households (unit_id, room, area_centi, owner_names, phone, grid,"
                    " owner_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        unit_id,
                        data.room,
                        data.area_centi,
                        data.owner_names,
                        data.phone,
                        data.grid,
                        data.owner_key,
                        stamp,
                        stamp,
                    ),
                )
            for household_id, data in changed:
                await tx.execute(
                    "UPDATE households SET area_centi = ?, owner_names = ?, phone = ?, grid = ?,"
                    " owner_key = ?, updated_at = ? WHERE id = ?",
                    (
                        data.area_centi,
                        data.owner_names,
                        data.phone,
                        data.grid,
                        data.owner_key,
                        stamp,
                        household_id,
                    ),
                )

    # -- persons and links ---------------------------------------------------------------------

    async def person(self, user_id: int) -> PersonRecord | None:
        row = await self.db.fetchone("SELECT * FROM persons WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        sensitive = row["sensitive_consent_at"]
        return PersonRecord(
            row["user_id"],
            row["display_name"],
            from_db(row["consent_given_at"]),
            from_db_or_none(sensitive),
        )

    async def add_person(self, user_id: int, display_name: str, now: datetime) -> None:
        async with self.db.writing() as tx:
            await tx.execute(
                "INSERT INTO persons (user_id, display_name, consent_given_at) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name",
                (user_id, display_name, to_db(now)),
            )

    async def set_sensitive_consent(self, user_id: int, now: datetime | None) -> None:
        async with self.db.writing() as tx:
            await tx.execute(
                "UPDATE persons SET sensitive_consent_at = ? WHERE user_id = ?",
                (None if now is None else to_db(now), user_id),
            )

    async def request_link(
        self, user_id: int, household_id: int, relation: str, now: datetime
    ) -> None:
        """A new (or renewed) pending claim; a verified link is left as it is."""
        async with self.db.writing() as tx:
            await tx.execute(
                "INSERT INTO person_households (user_id, household_id, relation, requested_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (user_id, household_id) DO UPDATE SET"
                " relation = excluded.relation, state = 'pending',"
                " requested_at = excluded.requested_at"
                " WHERE person_households.state != 'verified'",
                (user_id, household_id, relation, to_db(now)),
            )

    async def decide_link(
        self, user_id: int, household_id: int, state: str, by: int, now: datetime
    ) -> bool:
        """Settle a pending claim; False if there was none (already decided: a stale button)."""
        async with self.db.writing() as tx:
            changed = await tx.execute(
                "UPDATE person_households SET state = ?, verified_by = ?, verified_at = ?"
                " WHERE user_id = ? AND household_id = ? AND state = 'pending'",
                (state, by, to_db(now), user_id, household_id),
            )
        return changed == 1

    async def links_of(self, user_id: int) -> list[LinkRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM person_households WHERE user_id = ? ORDER BY requested_at", (user_id,)
        )
        return [LinkRecord._from_row(r) for r in rows]

    async def pending_links(self) -> list[LinkRecord]:
        """Every claim waiting for a grid worker's decision, oldest first (issue #18 item 6)."""
        rows = await self.db.fetchall(
            "SELECT * FROM person_households WHERE state = 'pending'"
            " ORDER BY requested_at, user_id"
        )
        return [LinkRecord._from_row(r) for r in rows]

    async def link(self, user_id: int, household_id: int) -> LinkRecord | None:
        row = await self.db.fetchone(
            "SELECT * FROM person_households WHERE user_id = ? AND household_id = ?",
            (user_id, household_id),
        )
        return None if row is None else LinkRecord._from_row(row)

    # -- role grants ---------------------------------------------------------------------------

    async def grants_of(self, user_id: int) -> list[GrantRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM role_grants WHERE user_id = ? ORDER BY granted_at", (user_id,)
        )
        return [_grant(r) for r in rows]

    async def all_grants(self) -> list[GrantRecord]:
        return [_grant(r) for r in await self.db.fetchall("SELECT * FROM role_grants")]

    async def grant(
        self,
        user_id: int,
        role: str,
        grid: str,
        by: int,
        now: datetime,
        community: str = "default",
    ) -> bool:
        """Record a grant and its audit event; False if the user already held it."""
        async with self.db.writing() as tx:
            added = await tx.execute(
                "INSERT INTO role_grants (user_id, role, grid, community, granted_by, granted_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (user_id, role, grid, community, by, to_db(now)),
            )
            if added:
                await _role_event(tx, user_id, role, grid, community, "grant", by, now)
        return added == 1

    async def revoke(
        self,
        user_id: int,
        role: str,
        grid: str,
        by: int,
        now: datetime,
        community: str = "default",
    ) -> bool:
        async with self.db.writing() as tx:
            removed = await tx.execute(
                "DELETE FROM role_grants WHERE user_id = ? AND role = ? AND grid = ?"
                " AND community = ?",
                (user_id, role, grid, community),
            )
            if removed:
                await _role_event(tx, user_id, role, grid, community, "revoke", by, now)
        return removed == 1

    async def role_events(self, user_id: int) -> list[tuple[str, str, str, int, datetime]]:
        """(action, role, grid, actor, at) for ``user_id``, oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM role_events WHERE user_id = ? ORDER BY id", (user_id,)
        )
        return [(r["action"], r["role"], r["grid"], r["actor_id"], from_db(r["at"])) for r in rows]

    # -- group bindings ------------------------------------------------------------------------

    async def bind(self, chat_id: int, grid: str, by: int, now: datetime) -> None:
        async with self.db.writing() as tx:
            await tx.execute(
                "INSERT INTO group_bindings (chat_id, grid, bound_by, bound_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET grid = excluded.grid,"
                " bound_by = excluded.bound_by, bound_at = excluded.bound_at",
                (chat_id, grid, by, to_db(now)),
            )

    async def binding(self, chat_id: int) -> str | None:
        row = await self.db.fetchone(
            "SELECT grid FROM group_bindings WHERE chat_id = ?", (chat_id,)
        )
        return None if row is None else str(row["grid"])

    # -- sensitive data ------------------------------------------------------------------------

    async def put_sensitive(self, record: SensitiveRecord, consent_by: int, now: datetime) -> None:
        async with self.db.writing() as tx:
            await tx.execute(
                "INSERT INTO sensitive_data (household_id, living_alone, health, disability,"
                " consent_by, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (household_id)"
                " DO UPDATE SET living_alone = excluded.living_alone, health = excluded.health,"
                " disability = excluded.disability, consent_by = excluded.consent_by,"
                " updated_at = excluded.updated_at",
                (
                    record.household_id,
                    int(record.living_alone),
                    record.health,
                    record.disability,
                    consent_by,
                    to_db(now),
                ),
            )

    async def sensitive(self, household_id: int) -> SensitiveRecord | None:
        row = await self.db.fetchone(
            "SELECT * FROM sensitive_data WHERE household_id = ?", (household_id,)
        )
        if row is None:
            return None
        return SensitiveRecord(
            row["household_id"], bool(row["living_alone"]), row["health"], row["disability"]
        )


async def _unit_id(tx: Transaction, community: str, building: str, unit: str) -> int:
    await tx.execute(
        "INSERT INTO buildings (community, name) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (community, building),
    )
    row = await tx.fetchone(
        "SELECT id FROM buildings WHERE community = ? AND name = ?", (community, building)
    )
    assert row is not None
    await tx.execute(
        "INSERT INTO units (building_id, name) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (row["id"], unit),
    )
    found = await tx.fetchone(
        "SELECT id FROM units WHERE building_id = ? AND name = ?", (row["id"], unit)
    )
    assert found is not None
    return int(found["id"])


async def _role_event(
    tx: Transaction,
    user_id: int,
    role: str,
    grid: str,
    community: str,
    action: str,
    by: int,
    now: datetime,
) -> None:
    await tx.execute(
        "INSERT INTO role_events (user_id, role, grid, community, action, actor_id, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (user_id, role, grid, community, action, by, to_db(now)),
    )
