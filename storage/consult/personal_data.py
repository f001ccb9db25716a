"""Personal data in consultation's tables: 接龙, meetings, notices (issue #12; see
storage.privacy.declare).

What a record needs stays as counts: an attendance or an objection stays under the label
已注销居民, an acknowledgement under a pseudonym; a 接龙 entry or a suggestion is only theirs.
"""

from __future__ import annotations

from storage.privacy.declare import Declaration, Erase, PersonalTable

_BY_STAFF = "written by the staff member who posted it"

PERSONAL_DATA = Declaration(
    tables=(
        PersonalTable(
            "jielongs",
            ids={"starter_id": Erase.PSEUDONYM, "closed_by": Erase.PSEUDONYM},
            kept={"topic": "what the list is for, posted in the group", "chat_id": "a group's id"},
        ),
        PersonalTable(
            "jielong_entries",
            mine="user_id = :user",
            forget=Erase.DELETE,
            names=("name",),
            exports=(
                (
                    "jielong_entries",
                    "SELECT j.topic, e.name, e.joined_at FROM jielong_entries e"
                    " JOIN jielongs j ON j.id = e.jielong_id WHERE e.user_id = :user"
                    " ORDER BY e.id",
                ),
            ),
        ),
        PersonalTable(
            "meetings",
            ids={"convenor_id": Erase.PSEUDONYM},
            kept={"title": _BY_STAFF, "place": "where the meeting is held"},
        ),
        PersonalTable(
            "meeting_people",
            mine="user_id = :user",
            # An attendance is part of the meeting's record; an invitation or a sign-up is not.
            keep_only="signed_in_at IS NOT NULL",
            forget={"name": Erase.LABEL, "user_id": Erase.PSEUDONYM},
            names=("name",),
            exports=(
                (
                    "meetings_attended",
                    "SELECT m.title, p.name, p.invited, p.signed_up_at, p.signed_in_at"
                    " FROM meeting_people p JOIN meetings m ON m.id = p.meeting_id"
                    " WHERE p.user_id = :user ORDER BY m.starts_at",
                ),
            ),
        ),
        PersonalTable(
            "meeting_suggestions",
            mine="user_id = :user",
            forget=Erase.DELETE,
            names=("name",),
            exports=(
                (
                    "meeting_suggestions",
                    "SELECT m.title, s.name, s.text, s.via, s.created_at"
                    " FROM meeting_suggestions s JOIN meetings m ON m.id = s.meeting_id"
                    " WHERE s.user_id = :user ORDER BY s.id",
                ),
            ),
        ),
        PersonalTable(
            "meeting_objections",
            mine="user_id = :user",
            forget={"name": Erase.LABEL, "text": Erase.EMPTY, "user_id": Erase.PSEUDONYM},
            names=("name",),
            exports=(
                (
                    "meeting_objections",
                    "SELECT m.title, o.name, o.text, o.created_at"
                    " FROM meeting_objections o JOIN meetings m ON m.id = o.meeting_id"
                    " WHERE o.user_id = :user ORDER BY o.id",
                ),
            ),
        ),
        PersonalTable(
            "notices",
            ids={"author": Erase.PSEUDONYM},
            kept={"body": _BY_STAFF, "chat_id": "a group's id"},
        ),
        PersonalTable(
            "notice_acks",
            mine="user_id = :user",
            forget={"user_id": Erase.PSEUDONYM},
            exports=(
                (
                    "notice_acks",
                    "SELECT n.body, a.at FROM notice_acks a JOIN notices n ON n.id = a.notice_id"
                    " WHERE a.user_id = :user ORDER BY a.at",
                ),
            ),
        ),
        PersonalTable("notice_reminders", mine="user_id = :user", forget=Erase.DELETE),
    ),
    not_personal={
        "meeting_agenda": "agenda items, " + _BY_STAFF,
        "meeting_chats": "the groups a meeting was announced in",
        "meeting_resolutions": "resolutions, " + _BY_STAFF,
    },
)
