"""Personal data across tables: the /mydata copy, /forget, and the retention sweep (PIPL).

Why erasure needs more than DELETE: SQLite leaves deleted bytes in free pages and in freed
space inside pages, and in WAL mode the old page images stay in the ``-wal`` file until a
checkpoint. So ``storage.db`` turns on ``secure_delete`` for every connection (freed content is
overwritten with zeros; it costs some extra writes, which a community bot can afford), and
after an erasure commits :meth:`Database.checkpoint` runs ``wal_checkpoint(TRUNCATE)``, which
copies the clean pages home and empties the WAL file. A test reads the raw bytes of both files.

Erasure keeps the ledger whole: reporter rows, slips, events and role audits stay, but their
user id becomes a negative pseudonym (``-rowid``: unique, never a real Telegram id, and not
derivable from the person) and the name becomes the "forgotten" label (已注销居民).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.clock import to_db
from storage.db import Database, Row, Transaction, placeholders

# Where an update's sender and chat sit in a raw Telegram update.
_UPDATE_PEOPLE = (
    "$.message.from.id", "$.message.chat.id", "$.edited_message.from.id",
    "$.callback_query.from.id", "$.my_chat_member.from.id",
)  # fmt: skip


@dataclass(frozen=True)
class ReportedText:
    """A free-text field the service masks before erasure or retention writes it back."""

    issue_id: int
    description: str
    location: str | None


def _plain(row: Row) -> dict[str, Any]:
    return {key: row[key] for key in row.keys()}


class PersonalDataRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def export(self, user_id: int) -> dict[str, Any]:
        """Everything stored about ``user_id``, as plain JSON-able values."""
        q = self.db.fetchall
        issues = await q(
            "SELECT i.* FROM issues i JOIN issue_reporters r ON r.issue_id = i.id"
            " WHERE r.user_id = ? ORDER BY i.number",
            (user_id,),
        )
        events = await q(
            "SELECT e.issue_id, e.at, e.action, e.from_state, e.to_state, e.note"
            " FROM issue_events e JOIN issue_reporters r ON r.issue_id = e.issue_id"
            " WHERE r.user_id = ? ORDER BY e.id",
            (user_id,),
        )
        households = await q(
            "SELECT b.name AS building, u.name AS unit, h.room, h.area_centi, l.relation,"
            " l.state, l.requested_at, l.verified_at FROM person_households l"
            " JOIN households h ON h.id = l.household_id JOIN units u ON u.id = h.unit_id"
            " JOIN buildings b ON b.id = u.building_id WHERE l.user_id = ?",
            (user_id,),
        )
        tables = {
            "profile": await q("SELECT * FROM persons WHERE user_id = ?", (user_id,)),
            "households": households,
            "reports": issues,
            "report_events": events,
            "reported_as": await q(
                "SELECT issue_id, display_name, chat_id, added_at FROM issue_reporters"
                " WHERE user_id = ?",
                (user_id,),
            ),
            "feedback_slips": await q(
                "SELECT * FROM feedback_slips WHERE user_id = ?", (user_id,)
            ),
            "role_grants": await q("SELECT * FROM role_grants WHERE user_id = ?", (user_id,)),
            "report_draft": await q(
                "SELECT seq, draft, updated_at FROM issue_drafts WHERE user_id = ?",
                (user_id,),
            ),
            "role_events": await q("SELECT * FROM role_events WHERE user_id = ?", (user_id,)),
            "sensitive_data": await q(
                "SELECT * FROM sensitive_data WHERE consent_by = ?", (user_id,)
            ),
            # 窗帘之约 (issue #5): their own enrolment, its mornings and alerts. Someone who is
            # only another resident's volunteer gets no more than that link.
            "checkin_enrolment": await q(
                "SELECT * FROM checkin_enrolments WHERE user_id = ?", (user_id,)
            ),
            "checkin_days": await q(
                "SELECT d.* FROM checkin_days d JOIN checkin_enrolments e"
                " ON e.id = d.enrolment_id WHERE e.user_id = ? ORDER BY d.day",
                (user_id,),
            ),
            "checkin_alerts": await q(
                "SELECT a.* FROM checkin_alerts a JOIN checkin_enrolments e"
                " ON e.id = a.enrolment_id WHERE e.user_id = ? ORDER BY a.day",
                (user_id,),
            ),
            "checkin_volunteer_for": await q(
                "SELECT id AS enrolment_id, grid FROM checkin_enrolments WHERE volunteer_id = ?",
                (user_id,),
            ),
        }
        return {name: [_plain(row) for row in rows] for name, rows in tables.items()}

    async def reported_texts(self, user_id: int) -> list[ReportedText]:
        rows = await self.db.fetchall(
            "SELECT i.id, i.description, i.location FROM issues i"
            " JOIN issue_reporters r ON r.issue_id = i.id WHERE r.user_id = ?",
            (user_id,),
        )
        return [ReportedText(r["id"], r["description"], r["location"]) for r in rows]

    async def display_names(self, user_id: int) -> set[str]:
        rows = await self.db.fetchall(
            "SELECT display_name FROM persons WHERE user_id = ?"
            " UNION SELECT display_name FROM issue_reporters WHERE user_id = ?",
            (user_id, user_id),
        )
        return {str(r[0]) for r in rows if r[0]}

    async def forget(
        self, user_id: int, label: str, texts: Sequence[ReportedText], scrub: Sequence[str]
    ) -> None:
        """Erase ``user_id``: delete what is only theirs, pseudonymise what the ledger needs.

        ``texts`` are their reports' masked free text; ``scrub`` are strings (names, phone
        numbers) whose presence makes a delivered message or a stored update theirs too.
        """
        async with self.db.writing() as tx:
            await _rewrite_texts(tx, texts)
            await tx.execute(
                "UPDATE households SET phone = '' WHERE id IN (SELECT household_id"
                " FROM person_households WHERE user_id = ? AND relation = 'owner'"
                " AND state = 'verified')",
                (user_id,),
            )
            for sql in (
                "DELETE FROM sensitive_data WHERE consent_by = ?",
                *_FORGET_CHECKINS,
                "DELETE FROM person_households WHERE user_id = ?",
                "DELETE FROM persons WHERE user_id = ?",
                "DELETE FROM role_grants WHERE user_id = ?",
                "DELETE FROM issue_drafts WHERE user_id = ?",
                "UPDATE issue_reporters SET chat_id = 0 WHERE user_id = ? AND chat_id > 0",
                "UPDATE issue_reporters SET user_id = -rowid, display_name = ?2"
                " WHERE user_id = ?1",
                "UPDATE feedback_slips SET user_id = -id, comment = NULL WHERE user_id = ?",
                "UPDATE issue_events SET actor_id = -id WHERE actor_id = ?",
                "UPDATE role_events SET user_id = -id WHERE user_id = ?",
            ):
                await tx.execute(sql, (user_id, label) if "?2" in sql else (user_id,))
            await _scrub_transport(tx, user_id, scrub)

    async def purge_processed_updates(self, finished_before: datetime) -> int:
        """Delete stored updates (residents' raw messages) handled or given up on before then.
        Only pending ones matter for crash recovery; the newest row stays, because the
        intake resumes polling after the highest update id it holds."""
        async with self.db.writing() as tx:
            return await tx.execute(
                "DELETE FROM inbox WHERE state IN ('done', 'dead') AND finished_at < ?"
                " AND update_id < (SELECT MAX(update_id) FROM inbox)",
                (to_db(finished_before),),
            )

    async def drop_stale_drafts(self, untouched_since: datetime) -> int:
        """Clear private report drafts left unfinished since then (their message counter
        stays, so a new draft's buttons never share a reference with an old message)."""
        async with self.db.writing() as tx:
            return await tx.execute(
                "UPDATE issue_drafts SET draft = NULL WHERE draft IS NOT NULL AND updated_at < ?",
                (to_db(untouched_since),),
            )

    async def closed_texts(self, closed_before: datetime, label: str) -> list[ReportedText]:
        """Free text of issues closed before the cutoff that still name a reporter."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT i.id, i.description, i.location FROM issues i"
            " JOIN issue_reporters r ON r.issue_id = i.id"
            " WHERE i.closed_at IS NOT NULL AND i.closed_at < ? AND r.user_id > 0",
            (to_db(closed_before),),
        )
        return [ReportedText(r["id"], r["description"], r["location"]) for r in rows]

    async def anonymise_issues(self, texts: Sequence[ReportedText], label: str) -> int:
        """Retention: pseudonymise the reporters of these issues and store the masked text."""
        ids = [t.issue_id for t in texts]
        if not ids:
            return 0
        marks = placeholders(len(ids))
        async with self.db.writing() as tx:
            await _rewrite_texts(tx, texts)
            await tx.execute(
                f"UPDATE issue_reporters SET chat_id = 0 WHERE issue_id IN ({marks})"
                " AND chat_id > 0",
                ids,
            )
            await tx.execute(
                "UPDATE issue_reporters SET user_id = -rowid, display_name = ?"
                f" WHERE issue_id IN ({marks}) AND user_id > 0",
                [label, *ids],
            )
            await tx.execute(
                "UPDATE feedback_slips SET user_id = -id, comment = NULL"
                f" WHERE issue_id IN ({marks}) AND user_id > 0",
                ids,
            )
        return len(ids)


# 窗帘之约 data is sensitive (living alone, whereabouts): their own enrolment goes entirely;
# where they were someone else's volunteer or answered for them, only the link goes.
_FORGET_CHECKINS = (
    "DELETE FROM checkin_alerts WHERE enrolment_id IN"
    " (SELECT id FROM checkin_enrolments WHERE user_id = ?)",
    "DELETE FROM checkin_days WHERE enrolment_id IN"
    " (SELECT id FROM checkin_enrolments WHERE user_id = ?)",
    "DELETE FROM checkin_enrolments WHERE user_id = ?",
    "UPDATE checkin_enrolments SET volunteer_id = NULL WHERE volunteer_id = ?",
    "UPDATE checkin_days SET confirmed_by = -1 WHERE confirmed_by = ?",
    "UPDATE checkin_alerts SET outcome_by = -1 WHERE outcome_by = ?",
)


async def _rewrite_texts(tx: Transaction, texts: Sequence[ReportedText]) -> None:
    for text in texts:
        await tx.execute(
            "UPDATE issues SET description = ?, location = ? WHERE id = ?",
            (text.description, text.location, text.issue_id),
        )


async def _scrub_transport(tx: Transaction, user_id: int, scrub: Sequence[str]) -> None:
    """Empty stored updates from the person and delivered messages to or about them.

    An emptied update keeps its id (``{"update_id": n}``) so the intake still sees it as
    handled; only rows already delivered are emptied, so nothing still owed is lost.
    """
    who = " OR ".join(f"json_extract(raw, '{path}') = :user" for path in _UPDATE_PEOPLE)
    like = " OR ".join(f"raw LIKE :s{i}" for i in range(len(scrub)))
    params: dict[str, Any] = {
        "user": user_id,
        **{f"s{i}": f"%{s}%" for i, s in enumerate(scrub)},
    }
    await tx.execute(
        "UPDATE inbox SET raw = json_object('update_id', update_id), error = NULL"
        f" WHERE {who}{' OR ' + like if scrub else ''}",
        params,
    )
    about = " OR ".join(f"payload LIKE :s{i}" for i in range(len(scrub)))
    await tx.execute(
        "UPDATE outbox SET payload = '{}', attachment = NULL, error = NULL"
        f" WHERE state != 'pending' AND (chat_id = :user{' OR ' + about if scrub else ''})",
        params,
    )
