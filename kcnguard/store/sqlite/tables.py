"""The SQLite store's tables: their names, the columns and indexes a declaration asks for, and migration.

Each collection is a table (rid, id, version, body as JSON) with a generated column per declared field,
an index per field and the declaration's composite indexes; text fields are folded into one FTS5 table,
and each many-valued keyword field gets a side table of (document, value) rows.
"""

from __future__ import annotations

import json
import sqlite3

from kcnguard.store import checked
from kcnguard.store.base import Doc
from kcnguard.store.schema import Collection, Field, Kind

# Dates are compared as UTC ISO strings with milliseconds, the form checked.date_value gives query values.
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%fZ"


class Tables:
    """The quoted names of one namespace's tables."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def table(self, collection: str, suffix: str = "") -> str:
        return f'"{self.namespace}__{collection}{suffix}"'

    @property
    def meta(self) -> str:
        return self.table("_meta")

    def fts(self, collection: str) -> str:
        return self.table(collection, "__fts")

    def fts_content(self, collection: str) -> str:
        return self.table(collection, "__fts_content")

    def side(self, collection: str, name: str) -> str:
        """The side table of a many-valued keyword field (see _create_values)."""
        return self.table(collection, f"__{name}")


def json_path(path: str) -> str:
    # Paths come from declarations only; quoting each step keeps any character in a key harmless.
    return "$" + "".join(f'."{step}"' for step in path.split("."))


def value_sql(field: Field, sql: str) -> str:
    return _date_sql(sql) if field.kind is Kind.DATE else sql


def _date_sql(sql: str) -> str:
    """`sql` as a UTC ISO date with its milliseconds truncated, as checked.date_value and Elasticsearch give them.

    strftime rounds to the millisecond (12.1236 s → 12.124); when the written fraction has a fourth digit and the
    rounded milliseconds differ from the written ones, the value was rounded up, so one millisecond comes off
    (carries into the second, minute or day included). Offsets are whole minutes, so the written milliseconds
    are the UTC ones too.
    """
    rounded = f"strftime('{_DATE_FORMAT}', {sql})"
    up = (
        f"substr({sql}, 20, 1) = '.' AND substr({sql}, 21, 4) GLOB '[0-9][0-9][0-9][0-9]'"
        f" AND substr(strftime('%f', {sql}), 4, 3) <> substr({sql}, 21, 3)"
    )
    return f"CASE WHEN {up} THEN strftime('{_DATE_FORMAT}', {sql}, '-0.001 seconds') ELSE {rounded} END"


def listed(field: Field) -> bool:
    """A many-valued keyword field, kept in a side table of its own (see _create_values)."""
    return field.many and field.kind is Kind.KEYWORD


def listed_fields(coll: Collection) -> list[tuple[str, Field]]:
    return [(name, f) for name, f in coll.fields.items() if listed(f)]


def column(name: str) -> str:
    return f'"f_{name}"'


def create_meta(conn: sqlite3.Connection, tables: Tables) -> None:
    conn.execute(f"CREATE TABLE IF NOT EXISTS {tables.meta} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def create(conn: sqlite3.Connection, tables: Tables, coll: Collection) -> None:
    """The collection's table, columns, indexes, side tables and FTS5 table; what exists is kept or migrated."""
    table = tables.table(coll.name)
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {table} ("
        "rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, version INTEGER NOT NULL, body TEXT NOT NULL)"
    )
    # New declared fields become new columns; existing rows get them for free (virtual columns).
    present = {row[1] for row in conn.execute(f"PRAGMA table_xinfo({table})")}
    (table_sql,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table.strip('"'),)
    ).fetchone()
    for name, f in coll.fields.items():
        if f.many:
            continue
        expr = value_sql(f, f"json_extract(body, '{json_path(f.path)}')")
        if f"f_{name}" in present and expr not in table_sql:
            # A column from an older expression (dates once rounded their milliseconds): replace it, and
            # the indexes over it, which the loops below build again.
            _drop_column(conn, table, f"f_{name}")
        elif f"f_{name}" in present:
            continue
        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column(name)} GENERATED ALWAYS AS ({expr}) VIRTUAL")
    for name, f in coll.fields.items():
        if not f.many:
            index = tables.table(coll.name, f"__{name}")
            conn.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({column(name)})")
    for parts in coll.indexes:
        names = [p.split()[0] for p in parts]
        cols = ", ".join(column(n) + p[len(n) :] for n, p in zip(names, parts, strict=True))
        index = tables.table(coll.name, "__" + "_".join(names))
        conn.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({cols}, id)")
    for name, f in listed_fields(coll):
        _create_values(conn, tables, coll, name, f)
    if coll.text_fields:
        _create_text(conn, tables, coll)


def _create_values(conn: sqlite3.Connection, tables: Tables, coll: Collection, name: str, f: Field) -> None:
    """The side table of a many-valued keyword field: one row per (document, value), filled once from the
    documents already stored."""
    side = tables.side(coll.name, name)
    known = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (side.strip('"'),))
    if known.fetchone():
        return
    conn.execute(f"CREATE TABLE {side} (rid INTEGER NOT NULL, value NOT NULL, PRIMARY KEY (rid, value)) WITHOUT ROWID")
    conn.execute(f"CREATE INDEX {tables.side(coll.name, f'{name}__value')} ON {side} (value, rid)")
    conn.execute(
        f"INSERT OR IGNORE INTO {side} (rid, value) SELECT t.rid, j.value FROM {tables.table(coll.name)} AS t, "
        f"json_each(t.body, '{json_path(f.path)}') AS j WHERE j.value IS NOT NULL"
    )


def _drop_column(conn: sqlite3.Connection, table: str, column_name: str) -> None:
    for index in [row[1] for row in conn.execute(f"PRAGMA index_list({table})")]:
        if column_name in {row[2] for row in conn.execute(f'PRAGMA index_info("{index}")')}:
            conn.execute(f'DROP INDEX "{index}"')
    conn.execute(f'ALTER TABLE {table} DROP COLUMN "{column_name}"')


def _create_text(conn: sqlite3.Connection, tables: Tables, coll: Collection) -> None:
    fts = tables.fts(coll.name)
    conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(text, tokenize='unicode61 remove_diacritics 2')")
    # When the declared text fields change, the folded text of every document is rebuilt.
    signature = json.dumps([coll.fields[n].path for n in coll.text_fields])
    key = f"fts:{coll.name}"
    row = conn.execute(f"SELECT value FROM {tables.meta} WHERE key = ?", (key,)).fetchone()
    if row and row[0] == signature:
        return
    conn.execute(f"DELETE FROM {fts}")
    for rid, body in conn.execute(f"SELECT rid, body FROM {tables.table(coll.name)}").fetchall():
        conn.execute(
            f"INSERT INTO {fts} (rowid, text) VALUES (?, ?)", (rid, checked.folded_text(coll, json.loads(body)))
        )
    conn.execute(f"INSERT OR REPLACE INTO {tables.meta} (key, value) VALUES (?, ?)", (key, signature))


def drop(conn: sqlite3.Connection, tables: Tables, collections: list[Collection]) -> None:
    for coll in collections:
        conn.execute(f"DROP TABLE IF EXISTS {tables.table(coll.name)}")
        conn.execute(f"DROP TABLE IF EXISTS {tables.fts(coll.name)}")
        for name, _ in listed_fields(coll):
            conn.execute(f"DROP TABLE IF EXISTS {tables.side(coll.name, name)}")
    conn.execute(f"DROP TABLE IF EXISTS {tables.meta}")


def doc_of(row: tuple[str, int, str]) -> Doc:
    """A document from its row's (id, version, body)."""
    return Doc(row[0], json.loads(row[2]), str(row[1]))
