"""SQLite's SQL as PostgreSQL runs it: the repositories and the migrations are written once.

Statements are translated when first prepared and the result is cached per statement text
(:class:`Dialect`), so the cost is paid once per distinct statement, not per call. What is
translated, and why each rule is enough for gridbot's SQL:

- ``?`` and ``:name`` placeholders become ``$n`` (asyncpg speaks only those); a named
  statement remembers the order of its names so a dict of parameters becomes a tuple;
- ``INSERT OR IGNORE`` becomes ``ON CONFLICT DO NOTHING``; ``INSERT OR REPLACE`` and an
  ``ON CONFLICT DO UPDATE`` without a target get the table's primary key as their target
  (PostgreSQL requires one);
- an insert whose new id is wanted (``Transaction.insert``, SQLite's ``lastrowid``) gets
  ``RETURNING <primary key>``;
- ``group_concat(x)`` → ``string_agg(x::text, ',')``; ``json_extract(col, '$.a.b')`` →
  ``col::jsonb #>> '{a,b}'``; ``json_object`` → ``json_build_object``; ``IFNULL`` →
  ``COALESCE``; SQLite's ``temp.`` schema of temporary tables → ``pg_temp.``;
- ``SELECT * FROM table`` names the table's columns, leaving out the ``rowid`` column that the
  PostgreSQL schema adds to stand in for SQLite's implicit one (see :func:`migration`).

Booleans summed (``SUM(state = 'open')``) need no rewrite: the backend defines
``sum(boolean)`` (storage.backends.postgres). Anything else SQLite-only fails loudly at
prepare time, on PostgreSQL's test run, rather than being guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# String literals, double-quoted identifiers and comments are copied through untouched.
_LITERAL = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|--[^\n]*")
_PLACEHOLDER = re.compile(r"\?|(?<![:\w]):([A-Za-z_]\w*)")
_INSERT_TABLE = re.compile(r"^\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+(\w+)", re.IGNORECASE)
_OR_IGNORE = re.compile(r"\bINSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_OR_REPLACE = re.compile(r"\bINSERT\s+OR\s+REPLACE\s+INTO\s+(\w+)\s*\(([^)]*)\)", re.IGNORECASE)
_UNTARGETED_UPDATE = re.compile(r"\bON\s+CONFLICT\s+DO\s+UPDATE\b", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_GROUP_CONCAT = re.compile(r"\bgroup_concat\(([^()]*)\)", re.IGNORECASE)
_JSON_EXTRACT = re.compile(r"\bjson_extract\((\w+(?:\.\w+)?),\s*'\$\.([\w.]+)'\)", re.IGNORECASE)
_JSON_OBJECT = re.compile(r"\bjson_object\(", re.IGNORECASE)
_IFNULL = re.compile(r"\bIFNULL\(", re.IGNORECASE)
_TEMP_SCHEMA = re.compile(r"\btemp\.", re.IGNORECASE)
_SELECT_STAR = re.compile(r"\bSELECT\s+\*\s+FROM\s+(\w+)\b(?!\s*\()", re.IGNORECASE)


CACHE_LIMIT = 4096


@dataclass(frozen=True)
class Schema:
    """What the translation needs to know of the tables: columns in order, primary keys."""

    columns: Mapping[str, Sequence[str]] = field(default_factory=dict)
    primary_keys: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Statement:
    sql: str
    names: tuple[str, ...] | None  # the order of named parameters, None for positional

    def arguments(self, params: Sequence[Any] | Mapping[str, Any]) -> tuple[Any, ...]:
        if self.names is None:
            if isinstance(params, Mapping):
                if not params or "$1" not in self.sql:
                    return ()  # SQLite takes a dict for a statement without placeholders too
                raise TypeError(f"positional statement given named parameters: {self.sql}")
            return tuple(params)
        if not isinstance(params, Mapping):
            raise TypeError(f"named statement given positional parameters: {self.sql}")
        return tuple(params[name] for name in self.names)


class Dialect:
    """Translates and caches statements for one PostgreSQL database's schema."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._cache: dict[tuple[str, bool], Statement] = {}

    def statement(self, sql: str, *, returning_id: bool = False) -> Statement:
        key = (sql, returning_id)
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= CACHE_LIMIT:
                # Statements built per call (an IN list per length) must not grow it forever;
                # the steady set of a running bot is a few hundred.
                self._cache.clear()
            found = self._cache[key] = self._translate(sql, returning_id)
        return found

    def _translate(self, sql: str, returning_id: bool) -> Statement:
        if _CREATE_TABLE.match(sql):
            return Statement(migration(sql), None)  # a table made at run time, as a migration's
        # json_extract carries its path as a literal: rewrite before literals are set aside.
        sql = _JSON_EXTRACT.sub(_json_path, sql)
        literals: list[str] = []

        def keep(match: re.Match[str]) -> str:
            literals.append(match.group(0))
            return f"\x00{len(literals) - 1}\x00"

        masked = _LITERAL.sub(keep, sql)
        masked, names = _placeholders(masked)
        table_match = _INSERT_TABLE.match(masked)
        table = table_match.group(1).lower() if table_match else None
        if _OR_IGNORE.search(masked):
            masked = _OR_IGNORE.sub("INSERT INTO", masked)
            masked = _before_returning(masked, " ON CONFLICT DO NOTHING")
        replace = _OR_REPLACE.search(masked)
        if replace:
            columns = [c.strip() for c in replace.group(2).split(",")]
            key = self._key(replace.group(1))
            sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
            plain = f"INSERT INTO {replace.group(1)} ({replace.group(2)})"
            masked = masked[: replace.start()] + plain + masked[replace.end() :]
            masked = _before_returning(
                masked, f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}"
            )
        if table and _UNTARGETED_UPDATE.search(masked):
            target = ", ".join(self._key(table))
            masked = _UNTARGETED_UPDATE.sub(f"ON CONFLICT ({target}) DO UPDATE", masked)
        masked = _GROUP_CONCAT.sub(r"string_agg((\1)::text, ',')", masked)
        masked = _JSON_OBJECT.sub("json_build_object(", masked)
        masked = _IFNULL.sub("COALESCE(", masked)
        masked = _TEMP_SCHEMA.sub("pg_temp.", masked)
        masked = _SELECT_STAR.sub(self._star, masked)
        if returning_id and table and not _RETURNING.search(masked):
            masked = f"{masked.rstrip().rstrip(';')} RETURNING {self._key(table)[0]}"
        text = re.sub(r"\x00(\d+)\x00", lambda m: literals[int(m.group(1))], masked)
        return Statement(text, names)

    def _key(self, table: str) -> Sequence[str]:
        key = self.schema.primary_keys.get(table.lower())
        if not key:
            raise ValueError(f"table {table!r} has no primary key to upsert or return on")
        return key

    def _star(self, match: re.Match[str]) -> str:
        columns = self.schema.columns.get(match.group(1).lower())
        if not columns:
            return match.group(0)
        listed = ", ".join(c for c in columns if c != "rowid")
        return f"SELECT {listed} FROM {match.group(1)}"


def _placeholders(sql: str) -> tuple[str, tuple[str, ...] | None]:
    names: list[str] = []
    positional = 0

    def number(match: re.Match[str]) -> str:
        nonlocal positional
        name = match.group(1)
        if name is None:
            positional += 1
            return f"${positional}"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    text = _PLACEHOLDER.sub(number, sql)
    if positional and names:
        raise ValueError(f"a statement mixes ? and :name placeholders: {sql}")
    return text, (tuple(names) if names else None)


def _before_returning(sql: str, clause: str) -> str:
    match = _RETURNING.search(sql)
    if match is None:
        return sql.rstrip().rstrip(";") + clause
    return sql[: match.start()].rstrip() + clause + " " + sql[match.start() :]


def _json_path(match: re.Match[str]) -> str:
    return f"(({match.group(1)})::jsonb #>> '{{{','.join(match.group(2).split('.'))}}}')"


# --- migrations -------------------------------------------------------------------------

_INT_PK = re.compile(r"\b(\w+)\s+INTEGER\s+PRIMARY\s+KEY\b")
_CREATE_TABLE = re.compile(r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.IGNORECASE)
_TYPES = (
    # Telegram's chat and user ids do not fit PostgreSQL's 32-bit INTEGER; SQLite's is 64-bit.
    # Upper case only: the migrations write types in capitals and names in lower case, so a
    # column called "blob" keeps its name.
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
)


def migration(statement: str) -> str:
    """One statement of a SQLite migration as PostgreSQL DDL.

    ``INTEGER PRIMARY KEY`` (SQLite's rowid alias) becomes a BIGINT identity, so inserts that
    leave the id out still get one. Every table gets a ``rowid`` column as well, since a few
    statements use SQLite's implicit rowid (insertion order, a unique negative pseudonym): on
    a table with an integer key it is that key, as in SQLite; elsewhere an identity.
    """
    text = statement
    masked_literals: list[str] = []

    def keep(match: re.Match[str]) -> str:
        if match.group(0).startswith("--"):
            return ""  # an inline comment would swallow the column added after it
        masked_literals.append(match.group(0))
        return f"\x00{len(masked_literals) - 1}\x00"

    text = _LITERAL.sub(keep, text)
    table = _CREATE_TABLE.match(text)
    int_pk = _INT_PK.search(text) if table else None
    if int_pk:
        text = _INT_PK.sub(
            r"\1 BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", text, count=1
        )
    for pattern, replacement in _TYPES:
        text = pattern.sub(replacement, text)
    if table:
        closing = text.rstrip().rfind(")")
        rowid = (
            f"rowid BIGINT GENERATED ALWAYS AS ({int_pk.group(1)}) STORED"
            if int_pk
            else "rowid BIGINT GENERATED ALWAYS AS IDENTITY"
        )
        text = f"{text[:closing].rstrip()},\n    {rowid}\n{text[closing:]}"
    return re.sub(r"\x00(\d+)\x00", lambda m: masked_literals[int(m.group(1))], text)
