"""Personal data in the registry's tables (issue #12; see storage.privacy.declare)."""

from __future__ import annotations

from storage.privacy.declare import Declaration, Erase, PersonalTable, own

# The household sheet's owner names and phone are the community's record of the household;
# /forget blanks them where the person is its verified owner. The household, its area and its
# room stay: owners' votes count areas and electors, not names.
_OWNED = (
    "id IN (SELECT household_id FROM person_households WHERE user_id = :user"
    " AND relation = 'owner' AND state = 'verified')"
)

PERSONAL_DATA = Declaration(
    tables=(
        PersonalTable(
            "households",
            mine=_OWNED,
            forget={"owner_names": Erase.LABEL, "phone": Erase.EMPTY},
            names=("owner_names",),
            exports=(
                (
                    "households",
                    "SELECT b.name AS building, u.name AS unit, h.room, h.area_centi,"
                    " l.relation, l.state, l.requested_at, l.verified_at"
                    " FROM person_households l JOIN households h ON h.id = l.household_id"
                    " JOIN units u ON u.id = h.unit_id JOIN buildings b ON b.id = u.building_id"
                    " WHERE l.user_id = :user",
                ),
            ),
            kept={
                "room": "the household's address in the community's sheet, not the person",
                # 业主编号 (migration 0011): an opaque number from the property's sheet that
                # links the units of one owner, so owners' votes count heads (民法典 278).
                "owner_key": "the sheet's owner number, kept for the owners' headcount",
            },
        ),
        PersonalTable(
            "persons",
            mine="user_id = :user",
            forget=Erase.DELETE,
            names=("display_name",),
            exports=(own("profile", "persons"),),
        ),
        # Exported with the households above.
        PersonalTable(
            "person_households",
            mine="user_id = :user",
            forget=Erase.DELETE,
            ids={"verified_by": Erase.PSEUDONYM},
        ),
        PersonalTable(
            "role_grants",
            mine="user_id = :user",
            forget=Erase.DELETE,
            ids={"granted_by": Erase.PSEUDONYM},
            exports=(own("role_grants", "role_grants"),),
        ),
        PersonalTable(
            "role_events",
            mine="user_id = :user",
            forget={"user_id": Erase.PSEUDONYM},
            ids={"actor_id": Erase.PSEUDONYM},
            exports=(own("role_events", "role_events"),),
        ),
        PersonalTable(
            "group_bindings",
            ids={"bound_by": Erase.PSEUDONYM},
            kept={"chat_id": "a group's id"},
        ),
        PersonalTable(
            "sensitive_data",
            mine="consent_by = :user",
            forget=Erase.DELETE,
            exports=(("sensitive_data", "SELECT * FROM sensitive_data WHERE consent_by = :user"),),
        ),
    ),
    not_personal={
        "buildings": "building names (3号楼)",
        "units": "unit names (2单元)",
    },
)
