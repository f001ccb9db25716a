"""How a feature declares the personal data its tables hold (issue #12).

Each ``storage/<feature>/personal_data.py`` says once, next to its SQL, which tables and
columns hold personal data (names, phones, rooms, residents' own words, Telegram user ids)
and what happens to them on ``/forget`` and on retention; ``/mydata`` exports the sections
it names. ``storage.privacy.personal_data`` runs the declarations, and a test compares them
with the schema after all migrations, so a new table or a column named like personal data
(``name``, ``phone``, ``text``, ``user_id``, …) cannot arrive undeclared.

Every WHERE clause is SQL over the table's own columns, with named parameters: ``:user``
(the person's Telegram id) for ``mine`` and ``ids``, ``:cutoff`` for retention.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Erase(StrEnum):
    """What happens to a column (or, DELETE, to the whole row)."""

    DELETE = "delete"  # the row goes: it is only the person's
    NULL = "null"
    EMPTY = "empty"  # '' in a NOT NULL text column
    ZERO = "zero"  # a private chat's id (positive) becomes 0; a group's id stays
    LABEL = "label"  # the "forgotten" label (已注销居民): the record stays, the name goes
    PSEUDONYM = "pseudonym"  # a Telegram id becomes -rowid: unique, never a real id
    MASK = "mask"  # free text the service rewrites: phones masked, the person's names → label
    SCRUB = "scrub"  # a transport copy, emptied when it holds the person's id, name or phone


# The SQL that each column-level handling writes (MASK and SCRUB are done by dedicated code).
SQL_VALUE: Mapping[Erase, str] = {
    Erase.NULL: "NULL",
    Erase.EMPTY: "''",
    Erase.LABEL: ":label",
    Erase.PSEUDONYM: "-rowid",
}


def sql_value(column: str, erase: Erase) -> str | None:
    """The new value of ``column`` under ``erase``; None when generic SQL does not apply."""
    if erase is Erase.ZERO:
        return f"CASE WHEN {column} > 0 THEN 0 ELSE {column} END"
    return SQL_VALUE.get(erase)


class Period(StrEnum):
    """How long a kind of data is kept (the lengths are in bot.privacy.personal_data)."""

    CLOSED = "closed"  # after the issue was closed: privacy.retention_days
    DRAFT = "draft"  # an untouched private report draft
    HANDLED = "handled"  # a raw update after it was handled


Columns = Mapping[str, Erase]


@dataclass(frozen=True)
class Retention:
    """After ``period``, rows matching ``rows`` (with ``:cutoff``) get ``erase``."""

    period: Period
    rows: str
    erase: Columns | Erase


@dataclass(frozen=True)
class PersonalTable:
    """A table holding personal data.

    ``mine`` selects the person's own rows (None: only ``ids`` name them); ``forget`` is what
    /forget does to those rows: DELETE, or a handling per column. ``ids`` are columns naming
    someone by Telegram id in rows that are not theirs (a worker who verified, a convenor):
    /forget applies the handling where the column equals the person. ``names`` are columns
    holding the person's name: /forget also scrubs copies of those names elsewhere.
    ``keep_only``: of the person's rows, only those matching it stay (rewritten by
    ``forget``); the others are deleted first, since the record needs nothing from them and a
    kept row must not lead the bot to write to a pseudonym (an invitation to a meeting not
    yet held). ``exports`` are /mydata sections (key, SELECT with :user). ``kept`` are
    columns whose name looks personal but are not, each with the reason.
    """

    table: str
    mine: str | None = None
    forget: Columns | Erase = field(default_factory=dict)
    ids: Columns = field(default_factory=dict)
    names: tuple[str, ...] = ()
    keep_only: str | None = None
    exports: tuple[tuple[str, str], ...] = ()
    retention: tuple[Retention, ...] = ()
    kept: Mapping[str, str] = field(default_factory=dict)

    def columns(self) -> set[str]:
        """Every column this declaration accounts for."""
        forgotten = set() if isinstance(self.forget, Erase) else set(self.forget)
        return forgotten | set(self.ids) | set(self.names) | set(self.kept)


def own(section: str, table: str, columns: str = "*") -> tuple[str, str]:
    """A /mydata section of the person's own rows (``user_id = :user``)."""
    return section, f"SELECT {columns} FROM {table} WHERE user_id = :user"


@dataclass(frozen=True)
class Declaration:
    """One feature's personal data, and its tables that hold none (each with the reason)."""

    tables: tuple[PersonalTable, ...]
    not_personal: Mapping[str, str] = field(default_factory=dict)
