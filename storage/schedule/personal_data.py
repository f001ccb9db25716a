"""Personal data in the schedule's tables (issue #12; see storage.privacy.declare).

窗帘之约 data is sensitive (living alone, whereabouts): the person's own enrolment goes
entirely; where they were someone else's volunteer or answered for them, only the link goes.
"""

from __future__ import annotations

from storage.privacy.declare import Declaration, Erase, PersonalTable, own

_ENROLMENT = "enrolment_id IN (SELECT id FROM checkin_enrolments WHERE user_id = :user)"

PERSONAL_DATA = Declaration(
    tables=(
        PersonalTable(
            "schedule_rule_state",
            ids={"changed_by": Erase.PSEUDONYM},
        ),
        PersonalTable(
            "checkin_enrolments",
            mine="user_id = :user",
            forget=Erase.DELETE,
            ids={"volunteer_id": Erase.NULL, "enrolled_by": Erase.PSEUDONYM},
            exports=(
                own("checkin_enrolment", "checkin_enrolments"),
                (
                    "checkin_volunteer_for",
                    "SELECT id AS enrolment_id, grid FROM checkin_enrolments"
                    " WHERE volunteer_id = :user",
                ),
            ),
        ),
        PersonalTable(
            "checkin_days",
            mine=_ENROLMENT,
            forget=Erase.DELETE,
            ids={"confirmed_by": Erase.PSEUDONYM},
            exports=(
                ("checkin_days", f"SELECT * FROM checkin_days WHERE {_ENROLMENT} ORDER BY day"),
            ),
        ),
        PersonalTable(
            "checkin_alerts",
            mine=_ENROLMENT,
            forget=Erase.DELETE,
            ids={"outcome_by": Erase.PSEUDONYM},
            exports=(
                (
                    "checkin_alerts",
                    f"SELECT * FROM checkin_alerts WHERE {_ENROLMENT} ORDER BY day",
                ),
            ),
        ),
    ),
    not_personal={
        "schedule_runs": "which scheduled work was done (keys name rules, digests, issue numbers)",
        "schedule_clock": "the moment the last sweep looked up to",
        "schedule_bot_clock": "the moment each bot's last sweep looked up to",
        "district_communities": "each bot's communities and street office, by key and name",
    },
)
