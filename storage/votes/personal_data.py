"""Personal data in the votes' tables (issue #12; see storage.privacy.declare).

A ballot stays, under a pseudonym: the count and its audit trail need it, not the person.
"""

from __future__ import annotations

from storage.privacy.declare import Declaration, Erase, PersonalTable

_PSEUDONYM = {"user_id": Erase.PSEUDONYM}
_ELECTOR = {"elector": "an elector's number within the vote (1, 2, …), not a person's id"}

PERSONAL_DATA = Declaration(
    tables=(
        PersonalTable(
            "votes",
            ids={"created_by": Erase.PSEUDONYM},
            kept={
                "title": "written by the convenor",
                "question": "written by the convenor",
                "options": "written by the convenor",
                "chat_id": "a group's id",
            },
        ),
        PersonalTable(
            "vote_electors",
            kept={"rooms": "the rooms that make up one elector: addresses, no names", **_ELECTOR},
        ),
        # Who may cast an elector's ballot: the person goes, the elector (its area and any ballot
        # already cast) stays, and no reminder is addressed to a pseudonym.
        PersonalTable("vote_elector_users", mine="user_id = :user", forget=Erase.DELETE),
        PersonalTable(
            "vote_ballots",
            mine="user_id = :user",
            forget=_PSEUDONYM,
            kept=_ELECTOR,
            exports=(
                (
                    "vote_ballots",
                    "SELECT v.title, b.choice, b.cast_at FROM vote_ballots b"
                    " JOIN votes v ON v.id = b.vote_id WHERE b.user_id = :user ORDER BY b.id",
                ),
            ),
        ),
        PersonalTable("vote_reminders", mine="user_id = :user", forget=Erase.DELETE),
        PersonalTable(
            "poll_answers",
            mine="user_id = :user",
            forget=_PSEUDONYM,
            exports=(
                (
                    "poll_answers",
                    "SELECT v.title, a.option_ids, a.at FROM poll_answers a"
                    " LEFT JOIN votes v ON v.poll_id = a.poll_id WHERE a.user_id = :user",
                ),
            ),
        ),
    ),
    not_personal={"poll_states": "a poll's counts"},
)
