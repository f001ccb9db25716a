"""Personal data is declared per feature (issue #12): the declarations are checked against the
schema after all migrations, so a migration cannot add personal data nobody erases."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import Database
from storage.privacy.declare import Erase, PersonalTable
from storage.privacy.personal_data import DECLARATIONS, TABLES
from tests.support import postgres as pg_support

# Column names that suggest personal data: each must be declared, or kept with a reason.
LOOKS_PERSONAL = re.compile(
    r"name|phone|text|body|comment|content|user_id|room|note|location|description|draft|raw"
    r"|payload|attachment|error|health|disability|living|owner|chat_id|_by$|actor|author"
    r"|convenor|starter|volunteer|elector|consent|title|topic|place|question|options|reason"
)
# Tables the database machinery owns (migration bookkeeping), not a feature.
MACHINERY = {"schema_migrations"}


@pytest.fixture
async def schema(tmp_path: Path) -> AsyncIterator[dict[str, list[str]]]:
    db = await Database.open(tmp_path / "g.sqlite3")
    try:
        found: dict[str, list[str]] = {}
        if pg_support.ACTIVE:
            # The translated schema; leaving out the rowid column the translation adds to every
            # table and the sent marks' table, which PostgreSQL keeps beside the others (on
            # SQLite it is a file of its own): outbox ids and message ids, nobody's data.
            for row in await db.fetchall(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND column_name != 'rowid'"
                " AND table_name != 'sent_marks' ORDER BY table_name, ordinal_position"
            ):
                found.setdefault(row[0], []).append(row[1])
            yield found
            return
        tables = await db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        for (table,) in tables:
            found[table] = [r["name"] for r in await db.fetchall(f"PRAGMA table_info({table})")]
        yield found
    finally:
        await db.close()


def declared() -> dict[str, PersonalTable]:
    return {t.table: t for t in TABLES}


def not_personal() -> dict[str, str]:
    return {table: why for d in DECLARATIONS for table, why in d.not_personal.items()}


def uncovered(schema: dict[str, list[str]]) -> list[str]:
    """Tables nobody declared, and personal-looking columns of declared tables that are
    neither handled on /forget nor kept with a reason."""
    tables = declared()
    found = sorted(set(schema) - set(tables) - set(not_personal()) - MACHINERY)
    for table, declaration in tables.items():
        if declaration.forget == "delete":
            continue  # the whole row goes
        found += [
            f"{table}.{column}"
            for column in schema.get(table, ())
            if LOOKS_PERSONAL.search(column) and column not in declaration.columns()
        ]
    return found


def test_personal_data_every_table_and_personal_column_is_declared(
    schema: dict[str, list[str]],
) -> None:
    assert uncovered(schema) == [], "declare these in storage/<feature>/personal_data.py"


@pytest.mark.parametrize(
    ("table", "column", "caught"),
    [
        pytest.param("volunteers", "id", "volunteers", id="new-table"),
        pytest.param("meeting_people", "phone", "meeting_people.phone", id="new-phone-column"),
        pytest.param("issues", "resident_note", "issues.resident_note", id="new-note-column"),
    ],
)
def test_personal_data_check_catches_a_migration_adding_undeclared_data(
    schema: dict[str, list[str]], table: str, column: str, caught: str
) -> None:
    schema.setdefault(table, []).append(column)
    assert uncovered(schema) == [caught]


def test_personal_data_declarations_name_real_tables_and_columns(
    schema: dict[str, list[str]],
) -> None:
    names = [t.table for t in TABLES] + list(not_personal())
    assert len(names) == len(set(names)), "a table is declared twice"
    for table in TABLES:
        assert table.table in schema, table.table
        assert table.columns() <= set(schema[table.table]), table.table
    for table in not_personal():
        assert table in schema, table


def test_personal_data_tables_declared_not_personal_hold_no_ids_names_or_text(
    schema: dict[str, list[str]],
) -> None:
    suspicious = {
        f"{table}.{column}"
        for table in not_personal()
        for column in schema[table]
        if LOOKS_PERSONAL.search(column)
    }
    # Each checked by hand: building and unit numbers, group chat ids, the agenda and the
    # resolutions the convenor wrote, the communities' names from the config.
    assert suspicious == {
        "buildings.name",
        "district_communities.name",
        "units.name",
        "chat_migrations.old_chat_id",
        "chat_migrations.new_chat_id",
        "meeting_chats.chat_id",
        "meeting_agenda.text",
        "meeting_resolutions.text",
    }


def test_personal_data_dedicated_handlings_only_where_code_does_them() -> None:
    """MASK and SCRUB are done by named code (issue text, transport copies): declaring them
    elsewhere would erase nothing."""
    dedicated = {
        (t.table, column, str(erase))
        for t in TABLES
        for rules in (t.forget, *(r.erase for r in t.retention))
        if not isinstance(rules, str)
        for column, erase in rules.items()
        if erase in (Erase.MASK, Erase.SCRUB)
    }
    assert dedicated == {
        ("issues", "description", "mask"),
        ("issues", "location", "mask"),
        ("issues", "result", "mask"),
        ("inbox", "raw", "scrub"),
        ("inbox", "error", "scrub"),
        ("outbox", "chat_id", "scrub"),
        ("outbox", "payload", "scrub"),
        ("outbox", "attachment", "scrub"),
        ("outbox", "error", "scrub"),
    }
