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

What each table holds and how it is erased is declared by its feature
(``storage/<feature>/personal_data.py``, see ``storage.privacy.declare``); this module runs
the declarations. Free text of reports (MASK) and transport copies (SCRUB) need more than one
statement and are done here by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.clock import to_db
from storage.consult.personal_data import PERSONAL_DATA as CONSULT
from storage.db import Database, Row, Transaction
from storage.issues.open_cache import issues_changed
from storage.issues.personal_data import PERSONAL_DATA as ISSUES
from storage.privacy.declare import Declaration, Erase, Period, PersonalTable, sql_value
from storage.registry.personal_data import PERSONAL_DATA as REGISTRY
from storage.schedule.personal_data import PERSONAL_DATA as SCHEDULE
from storage.transport.personal_data import PERSONAL_DATA as TRANSPORT
from storage.votes.personal_data import PERSONAL_DATA as VOTES

# Every feature's declaration. Order matters where one table's rows are found through
# another's: a table is updated before the ones declared after it, and deleted after them.
DECLARATIONS: tuple[Declaration, ...] = (TRANSPORT, ISSUES, REGISTRY, SCHEDULE, CONSULT, VOTES)
TABLES: tuple[PersonalTable, ...] = tuple(t for d in DECLARATIONS for t in d.tables)

# Where an update's sender and chat sit in a raw Telegram update.
_UPDATE_PEOPLE = (
    "$.message.from.id",
    "$.message.chat.id",
    "$.edited_message.from.id",
    "$.callback_query.from.id",
    "$.my_chat_member.from.id",
)


@dataclass(frozen=True)
class ReportedText:
    """A free-text field the service masks before erasure or retention writes it back."""

    issue_id: int
    description: str
    location: str | None
    result: str | None = None  # the handler's 办结 note, which may name or call the resident


def _plain(row: Row) -> dict[str, Any]:
    return {key: row[key] for key in row.keys()}


class PersonalDataRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def export(self, user_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every declared /mydata section for ``user_id``, as plain JSON-able values."""
        data: dict[str, list[dict[str, Any]]] = {}
        for table in TABLES:
            for section, sql in table.exports:
                rows = await self.db.fetchall(sql, {"user": user_id})
                data[section] = [_plain(row) for row in rows]
        return data

    async def reported_texts(self, user_id: int) -> list[ReportedText]:
        rows = await self.db.fetchall(
            "SELECT i.id, i.description, i.location, i.result FROM issues i"
            " JOIN issue_reporters r ON r.issue_id = i.id WHERE r.user_id = ?",
            (user_id,),
        )
        return [_text(r) for r in rows]

    async def display_names(self, user_id: int) -> set[str]:
        """The names the person is held under (every declared name column of their rows)."""
        found: set[str] = set()
        for table in TABLES:
            for column in table.names:
                rows = await self.db.fetchall(
                    f"SELECT {column} FROM {table.table} WHERE {table.mine}", {"user": user_id}
                )
                found.update(str(r[0]) for r in rows if r[0])
        return found

    async def forget(
        self, user_id: int, label: str, texts: Sequence[ReportedText], scrub: Sequence[str]
    ) -> None:
        """Erase ``user_id`` as the declarations say: first their rows that stay are
        rewritten (after deleting those ``keep_only`` does not keep), then their id is
        replaced where it names them in others' rows, then their own rows are deleted
        (children before parents).

        ``texts`` are their reports' masked free text; ``scrub`` are strings (names, phone
        numbers) whose presence makes a delivered message or a stored update theirs too.
        """
        params = {"user": user_id, "label": label}
        async with self.db.writing() as tx:
            issues_changed(self.db, tx)  # texts rewritten, issues perhaps deleted
            await _rewrite_texts(tx, texts)
            for table in TABLES:
                if table.mine and table.keep_only:
                    await tx.execute(
                        f"DELETE FROM {table.table} WHERE ({table.mine})"
                        f" AND NOT ({table.keep_only})",
                        params,
                    )
            for table in TABLES:
                if table.mine and not isinstance(table.forget, Erase):
                    await _update(tx, table.table, table.mine, table.forget, params)
            for table in TABLES:
                for column, erase in table.ids.items():
                    await _update(tx, table.table, f"{column} = :user", {column: erase}, params)
            for table in reversed(TABLES):
                if table.mine and table.forget is Erase.DELETE:
                    await tx.execute(f"DELETE FROM {table.table} WHERE {table.mine}", params)
            await _scrub_transport(tx, user_id, scrub)

    async def closed_texts(self, closed_before: datetime, label: str) -> list[ReportedText]:
        """Free text of issues closed before the cutoff that still name a reporter."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT i.id, i.description, i.location, i.result FROM issues i"
            " JOIN issue_reporters r ON r.issue_id = i.id"
            " WHERE i.closed_at IS NOT NULL AND i.closed_at < ? AND r.user_id > 0",
            (to_db(closed_before),),
        )
        return [_text(r) for r in rows]

    async def expire(
        self, cutoffs: Mapping[Period, datetime], label: str, texts: Sequence[ReportedText]
    ) -> None:
        """Retention: apply every declared retention rule with its period's cutoff; ``texts``
        are the masked free text of the issues the CLOSED rules reach."""
        async with self.db.writing() as tx:
            issues_changed(self.db, tx)
            await _rewrite_texts(tx, texts)
            for table in TABLES:
                for rule in table.retention:
                    params = {"cutoff": to_db(cutoffs[rule.period]), "label": label}
                    if rule.erase is Erase.DELETE:
                        await tx.execute(f"DELETE FROM {table.table} WHERE {rule.rows}", params)
                    elif not isinstance(rule.erase, Erase):
                        await _update(tx, table.table, rule.rows, rule.erase, params)


async def _update(
    tx: Transaction, table: str, where: str, columns: Mapping[str, Erase], params: dict[str, Any]
) -> None:
    """One UPDATE setting every column with a generic handling (SQLite evaluates all the new
    values from the old row, so a pseudonymised id still selects the row)."""
    sets = [
        f"{column} = {value}"
        for column, erase in columns.items()
        if (value := sql_value(column, erase)) is not None
    ]
    if sets:
        await tx.execute(f"UPDATE {table} SET {', '.join(sets)} WHERE {where}", params)


def _text(row: Row) -> ReportedText:
    return ReportedText(row["id"], row["description"], row["location"], row["result"])


async def _rewrite_texts(tx: Transaction, texts: Sequence[ReportedText]) -> None:
    for text in texts:
        await tx.execute(
            "UPDATE issues SET description = ?, location = ?, result = ? WHERE id = ?",
            (text.description, text.location, text.result, text.issue_id),
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
        "UPDATE outbox SET payload = '{}', attachment = NULL, error = NULL,"
        " chat_id = CASE WHEN chat_id = :user THEN 0 ELSE chat_id END"
        f" WHERE state != 'pending' AND (chat_id = :user{' OR ' + about if scrub else ''})",
        params,
    )
