"""Personal data in the issue loop's tables (issue #12; see storage.privacy.declare).

The ledger stays whole: a forgotten reporter's issues, slips and events remain, under a
pseudonym and the label 已注销居民, with phone numbers masked in the text.
"""

from __future__ import annotations

from storage.privacy.declare import (
    Declaration,
    Erase,
    Period,
    PersonalTable,
    Retention,
    own,
)

_REPORTED = "id IN (SELECT issue_id FROM issue_reporters WHERE user_id = :user)"
_CLOSED = "SELECT id FROM issues WHERE closed_at IS NOT NULL AND closed_at < :cutoff"
# Of those, the ones that still name a reporter: each sweep touches only the newly expired.
_STILL_NAMED = (
    "SELECT r.issue_id FROM issue_reporters r JOIN issues i ON i.id = r.issue_id"
    " WHERE r.user_id > 0 AND i.closed_at IS NOT NULL AND i.closed_at < :cutoff"
)
# Events written by one of the reporters (a slip's comment, a reopen's reason).
_BY_REPORTER = (
    "actor_id > 0 AND actor_id IN"
    " (SELECT user_id FROM issue_reporters r WHERE r.issue_id = issue_events.issue_id)"
)
_TEXT = {
    "description": Erase.MASK,
    "location": Erase.MASK,
    "result": Erase.MASK,
    "voice_file_id": Erase.NULL,  # the reporter's own voice (issue #18 item 2)
    # where the resident was when they sent their location or venue (issue #18 item 3)
    "latitude": Erase.NULL,
    "longitude": Erase.NULL,
    "place": Erase.NULL,
}
_REPORTER = {"display_name": Erase.LABEL, "chat_id": Erase.ZERO, "user_id": Erase.PSEUDONYM}
_SLIP = {"user_id": Erase.PSEUDONYM, "comment": Erase.NULL}

PERSONAL_DATA = Declaration(
    tables=(
        PersonalTable(
            "issues",
            mine=_REPORTED,
            forget=_TEXT,
            ids={"source_chat_id": Erase.ZERO},
            exports=(("reports", f"SELECT * FROM issues WHERE {_REPORTED} ORDER BY number"),),
            retention=(Retention(Period.CLOSED, f"id IN ({_CLOSED})", _TEXT),),
            kept={
                "handler": "the handling unit's key (物业), not a person",
                "reason": "a worker's reason for returning or rejecting",
                "source_message_id": "a message number, meaningless without the chat",
                "respond_by": "a deadline",
                "resolve_by": "a deadline",
            },
        ),
        # Declared before issue_reporters: its rows are found through the reporters' ids.
        PersonalTable(
            "issue_events",
            mine=f"actor_id = :user AND {_BY_REPORTER}",
            forget={"note": Erase.NULL},
            ids={"actor_id": Erase.PSEUDONYM},
            kept={
                "actor_role": "the role the actor acted in (网格员, 居民)",
                "resolve_by": "the deadline a resolution was judged by (按期办结率)",
            },
            exports=(
                (
                    "report_events",
                    "SELECT issue_id, at, action, from_state, to_state, note FROM issue_events"
                    " WHERE issue_id IN (SELECT issue_id FROM issue_reporters"
                    " WHERE user_id = :user) ORDER BY id",
                ),
            ),
            retention=(
                Retention(
                    Period.CLOSED,
                    f"issue_id IN ({_STILL_NAMED}) AND {_BY_REPORTER}",
                    {"note": Erase.NULL, "actor_id": Erase.PSEUDONYM},
                ),
            ),
        ),
        PersonalTable(
            "issue_reporters",
            mine="user_id = :user",
            forget=_REPORTER,
            names=("display_name",),
            exports=(own("reported_as", "issue_reporters", "issue_id, display_name, added_at"),),
            retention=(
                Retention(Period.CLOSED, f"user_id > 0 AND issue_id IN ({_CLOSED})", _REPORTER),
            ),
            kept={"message_id": "a message number, meaningless without the chat"},
        ),
        PersonalTable(
            "feedback_slips",
            mine="user_id = :user",
            forget=_SLIP,
            exports=(own("feedback_slips", "feedback_slips"),),
            retention=(
                Retention(Period.CLOSED, f"user_id > 0 AND issue_id IN ({_CLOSED})", _SLIP),
            ),
            kept={"handler": "the handling unit's key (物业), not a person"},
        ),
        PersonalTable(
            "album_parts",
            mine="user_id = :user",
            forget=Erase.DELETE,
            retention=(Retention(Period.HANDLED, "received_at < :cutoff", Erase.DELETE),),
        ),
        PersonalTable(
            "issue_drafts",
            mine="user_id = :user",
            forget=Erase.DELETE,
            exports=(own("report_draft", "issue_drafts", "seq, draft, updated_at"),),
            retention=(
                Retention(
                    Period.DRAFT,
                    "draft IS NOT NULL AND updated_at < :cutoff",
                    {"draft": Erase.NULL},
                ),
            ),
        ),
    ),
    not_personal={
        "issue_photos": "photos of the reported problem, kept with the ledger's issue",
        # Rollups (issue #15 item 2): counts per community, day, grid, handler and category.
        "issue_rollup": "counts of issues, resolutions and slips; nobody's id or words",
        "open_rollup": "counts of open issues per deadline day",
        "rollup_issues": "which grid, handler and category an issue is counted under",
        "rollup_days": "the local calendar: when each day starts",
        "rollup_settings": "the time zone of the rollups' days",
    },
)
