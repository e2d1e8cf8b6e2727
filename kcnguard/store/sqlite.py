"""The embedded document store: one SQLite file, safe across threads and processes.

Each collection is a table (rid, id, version, body as JSON) with a generated column per declared
field and indexes for the filter+sort queries the services run; text fields are folded into one
FTS5 table kept in step by the same transaction that writes the document. The file runs in WAL
mode so readers never wait for the writer, and every write batch takes the write lock up front
(BEGIN IMMEDIATE), so two processes never deadlock upgrading a read into a write.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kcnguard.errors import StoreUnavailable
from kcnguard.sqlite_file import SqliteFile
from kcnguard.store import checked, schema
from kcnguard.store.base import CREATE, Doc, DocumentStore, Page, Query, Write, WriteResult
from kcnguard.store.schema import Field, Kind
from kcnguard.store.words import index_text

log = logging.getLogger(__name__)

_NAMESPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

# Dates are compared as UTC ISO strings with milliseconds, the form checked.date_value gives query values.
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%fZ"

# Beyond the one index per field: the queries that must stay fast with millions of rows. The review
# queue (flagged scores of a brand, best first) is read by every inspector page.
COMPOSITE_INDEXES: dict[str, list[tuple[str, ...]]] = {
    # Every equality filter an inspector combines (a brand or a marketplace, with or without a status) leads an
    # index ending in the sort, so a page reads 50 index entries and a count reads only matching entries.
    "scored": [
        ("brand_id", "flagged", "score DESC"),
        ("brand_id", "flagged", "review_status", "score DESC"),
        # A brand on one marketplace: without these, the brand's or the marketplace's index was read row by row
        # to test the other filter (0.2-0.4 s at a million listings).
        ("brand_id", "marketplace", "flagged", "score DESC"),
        ("brand_id", "marketplace", "flagged", "review_status", "score DESC"),
        ("marketplace", "flagged", "score DESC"),
        ("marketplace", "flagged", "review_status", "score DESC"),
        ("flagged", "score DESC"),
        ("flagged", "review_status", "score DESC"),
        ("seller_id", "marketplace", "scored_at"),
    ],
    # A listing's page shows the seller's other listings on the same marketplace, newest first.
    "listings": [
        ("marketplace", "last_seen_at"),
        ("status", "last_seen_at"),
        ("seller_id", "marketplace", "last_seen_at"),
    ],
    "cases": [("brand_id", "state", "updated_at"), ("state", "updated_at")],
    "crawl_runs": [("brand_id", "started_at")],
}

# SQLite messages that mean the file, not the statement, is the problem: worth a retry once fixed.
_UNAVAILABLE = (
    "locked",
    "busy",
    "unable to open",
    "readonly",
    "read-only",
    "disk i/o",
    "not a database",
    "disk is full",
    "malformed",
    "no such table",
)

# Keep bound parameters well under SQLite's limit in mget.
_MGET_CHUNK = 500


def _json_path(path: str) -> str:
    # Paths come from schema.py only; quoting each step keeps any character in a key harmless.
    return "$" + "".join(f'."{step}"' for step in path.split("."))


def _value_sql(field: Field, sql: str) -> str:
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


def _listed(field: Field) -> bool:
    """A many-valued keyword field, kept in a side table of its own (see _setup_values)."""
    return field.many and field.kind is Kind.KEYWORD


def _listed_fields(coll: schema.Collection) -> list[tuple[str, Field]]:
    return [(name, f) for name, f in coll.fields.items() if _listed(f)]


def _column(name: str) -> str:
    return f'"f_{name}"'


class SqliteDocumentStore(DocumentStore):
    def __init__(self, path: Path, namespace: str = "kcnguard", busy_timeout: float = 15.0) -> None:
        if not _NAMESPACE.match(namespace):
            raise ValueError(f"namespace {namespace!r} must be 1-64 letters, digits, '_', '.' or '-'")
        self.path = Path(path)
        self.namespace = namespace
        self.busy_timeout = busy_timeout
        self._db = SqliteFile(self.path, busy_timeout, unavailable=self._unavailable, closed=self._closed_error)

    # Connections ----------------------------------------------------------------------------

    def _table(self, collection: str, suffix: str = "") -> str:
        return f'"{self.namespace}__{collection}{suffix}"'

    @staticmethod
    def _closed_error() -> Exception:
        return StoreUnavailable("kho dữ liệu đã đóng / the store was closed")

    def _unavailable(self, what: str, exc: sqlite3.Error) -> Exception | None:
        message = str(exc).lower()
        if not any(m in message for m in _UNAVAILABLE):
            return None
        if "no such table" in message:
            hint = "chưa khởi tạo kho: chạy `kcnguard setup` / the store is not set up: run setup() first"
        elif "locked" in message or "busy" in message:
            hint = (
                "tệp đang bị khoá bởi tiến trình khác / the file stayed locked by another process "
                f"for {self.busy_timeout:.0f}s; retry, or find the process holding it"
            )
        else:
            hint = (
                "kiểm tra thư mục tồn tại và ghi được, hoặc đặt KCNGUARD_STORE_URL / check that the folder "
                "exists and is writable and the file is a SQLite database, or set KCNGUARD_STORE_URL"
            )
        return StoreUnavailable(f"SQLite store {self.path} ({what}): {exc}. {hint}")

    # Schema ---------------------------------------------------------------------------------

    def setup(self) -> None:
        # One transaction under the write lock: two processes setting up at once take turns, and the
        # second finds everything in place.
        with self._db.write("setup") as conn:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table('_meta')} (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            for coll in schema.COLLECTIONS.values():
                self._setup_collection(conn, coll)

    def _setup_collection(self, conn: sqlite3.Connection, coll: schema.Collection) -> None:
        table = self._table(coll.name)
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
            expr = _value_sql(f, f"json_extract(body, '{_json_path(f.path)}')")
            if f"f_{name}" in present and expr not in table_sql:
                # A column from an older expression (dates once rounded their milliseconds): replace it, and
                # the indexes over it, which the loops below build again.
                self._drop_column(conn, table, f"f_{name}")
            elif f"f_{name}" in present:
                continue
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {_column(name)} GENERATED ALWAYS AS ({expr}) VIRTUAL")
        for name, f in coll.fields.items():
            if not f.many:
                index = self._table(coll.name, f"__{name}")
                conn.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({_column(name)})")
        for parts in COMPOSITE_INDEXES.get(coll.name, []):
            names = [p.split()[0] for p in parts]
            unknown = [n for n in names if n not in coll.fields or coll.fields[n].many]
            if unknown:
                raise ValueError(f"composite index on {coll.name} names undeclared fields {unknown}")
            cols = ", ".join(_column(n) + p[len(n) :] for n, p in zip(names, parts, strict=True))
            index = self._table(coll.name, "__" + "_".join(names))
            conn.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({cols}, id)")
        for name, f in _listed_fields(coll):
            self._setup_values(conn, coll, name, f)
        if coll.text_fields:
            self._setup_text(conn, coll)

    def _side(self, collection: str, name: str) -> str:
        """The side table of a many-valued keyword field (see _setup_values)."""
        return self._table(collection, f"__{name}")

    def _setup_values(self, conn: sqlite3.Connection, coll: schema.Collection, name: str, f: Field) -> None:
        """The side table of a many-valued keyword field: one row per (document, value), filled once from the
        documents already stored."""
        side = self._side(coll.name, name)
        known = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (side.strip('"'),))
        if known.fetchone():
            return
        conn.execute(
            f"CREATE TABLE {side} (rid INTEGER NOT NULL, value NOT NULL, PRIMARY KEY (rid, value)) WITHOUT ROWID"
        )
        conn.execute(f"CREATE INDEX {self._side(coll.name, f'{name}__value')} ON {side} (value, rid)")
        path = _json_path(f.path)
        conn.execute(
            f"INSERT OR IGNORE INTO {side} (rid, value) SELECT t.rid, j.value FROM {self._table(coll.name)} AS t, "
            f"json_each(t.body, '{path}') AS j WHERE j.value IS NOT NULL"
        )

    @staticmethod
    def _drop_column(conn: sqlite3.Connection, table: str, column: str) -> None:
        for index in [row[1] for row in conn.execute(f"PRAGMA index_list({table})")]:
            if column in {row[2] for row in conn.execute(f'PRAGMA index_info("{index}")')}:
                conn.execute(f'DROP INDEX "{index}"')
        conn.execute(f'ALTER TABLE {table} DROP COLUMN "{column}"')

    def _setup_text(self, conn: sqlite3.Connection, coll: schema.Collection) -> None:
        fts = self._table(coll.name, "__fts")
        conn.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(text, tokenize='unicode61 remove_diacritics 2')"
        )
        # When the declared text fields change, the folded text of every document is rebuilt.
        signature = json.dumps([coll.fields[n].path for n in coll.text_fields])
        key = f"fts:{coll.name}"
        row = conn.execute(f"SELECT value FROM {self._table('_meta')} WHERE key = ?", (key,)).fetchone()
        if row and row[0] == signature:
            return
        conn.execute(f"DELETE FROM {fts}")
        for rid, body in conn.execute(f"SELECT rid, body FROM {self._table(coll.name)}").fetchall():
            conn.execute(f"INSERT INTO {fts} (rowid, text) VALUES (?, ?)", (rid, self._text(coll, json.loads(body))))
        conn.execute(f"INSERT OR REPLACE INTO {self._table('_meta')} (key, value) VALUES (?, ?)", (key, signature))

    @staticmethod
    def _text(coll: schema.Collection, body: dict[str, Any]) -> str:
        return index_text(checked.pluck(body, coll.fields[n].path) for n in coll.text_fields)

    def drop(self) -> None:
        """Remove this namespace's tables (tests, and an operator's reset)."""
        with self._db.write("drop") as conn:
            for coll in schema.COLLECTIONS.values():
                conn.execute(f"DROP TABLE IF EXISTS {self._table(coll.name)}")
                conn.execute(f"DROP TABLE IF EXISTS {self._table(coll.name, '__fts')}")
                for name, _ in _listed_fields(coll):
                    conn.execute(f"DROP TABLE IF EXISTS {self._side(coll.name, name)}")
            conn.execute(f"DROP TABLE IF EXISTS {self._table('_meta')}")

    def ping(self) -> None:
        with self._db.unavailable_as_error("ping"):
            self._db.connection().execute(f"SELECT count(*) FROM {self._table('_meta')}").fetchone()

    # Reads ----------------------------------------------------------------------------------

    def get(self, collection: str, doc_id: str) -> Doc | None:
        coll = checked.collection(collection)
        with self._db.unavailable_as_error("get"):
            row = (
                self._db.connection()
                .execute(f"SELECT id, version, body FROM {self._table(coll.name)} WHERE id = ?", (doc_id,))
                .fetchone()
            )
        return _doc(row) if row else None

    def mget(self, collection: str, ids: Sequence[str]) -> dict[str, Doc]:
        coll = checked.collection(collection)
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Doc] = {}
        with self._db.unavailable_as_error("mget"):
            conn = self._db.connection()
            for start in range(0, len(wanted), _MGET_CHUNK):
                chunk = wanted[start : start + _MGET_CHUNK]
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT id, version, body FROM {self._table(coll.name)} WHERE id IN ({marks})"
                for row in conn.execute(sql, chunk):
                    found[row[0]] = _doc(row)
        return found

    def search(self, collection: str, query: Query) -> Page:
        q = checked.check(collection, query)
        where, params = self._where(q)
        table = self._table(q.collection.name)
        with self._db.unavailable_as_error("search"):
            conn = self._db.connection()
            total, capped = -1, False
            if q.count and q.words and q.size > 0:
                found = self._walked_text_page(conn, q, table) or self._text_page(conn, q, table, where, params)
                if found is not None:
                    return found
            if q.count:
                # Only a filter on a side table is written differently for counting.
                counted, counted_params = (
                    self._where(q, counting=True) if any(_listed(f.field) for f in q.filters) else (where, params)
                )
                if q.count_up_to is None:
                    count_sql = f"SELECT count(*) FROM {table} AS t WHERE {counted}"
                    total = conn.execute(count_sql, counted_params).fetchone()[0]
                else:
                    # Stop after count_up_to + 1 matches: counting 300,000 flagged scores to print a total nobody
                    # can page through (MAX_WINDOW) is what made a queue page cost a second.
                    count_sql = f"SELECT count(*) FROM (SELECT 1 FROM {table} AS t WHERE {counted} LIMIT ?)"
                    total = conn.execute(count_sql, [*counted_params, q.count_up_to + 1]).fetchone()[0]
                    capped = total > q.count_up_to
                    total = min(total, q.count_up_to)
                if q.size == 0 or (q.offset >= total and not capped):
                    return Page([], total, capped)
            order = _row_order(q)
            sql = f"SELECT t.id, t.version, t.body FROM {table} AS t WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
            rows = conn.execute(sql, [*params, q.size, q.offset]).fetchall()
        return Page([_doc(r) for r in rows], total if q.count else q.offset + len(rows), capped)

    # A text search reads at most this many rows of the filters' index, best first, one by one (see
    # _walked_text_page); the first walk_sample of them tell whether the words are common enough for it.
    walk_rows = 8000
    walk_sample = 500

    def _walked_text_page(self, conn: sqlite3.Connection, q: checked.CheckedQuery, table: str) -> Page | None:
        """A counted text-search page read by walking the filters' index in sort order, or None when that
        would not be quick.

        The full-text index answers "which documents hold these words" as a list of every one of them: a
        common word ("giày", "fake") lists a quarter of a million-row collection, ~25 ms to build before a
        filter or the sort can narrow it. Walking the rows that pass the other filters, best first, and
        testing each row's indexed words (the same folded words FTS5 holds, in its content table) finds a
        page, and a count capped at count_up_to, after a few thousand rows when the words are common or the
        filtered range is short. A sample of the first rows tells which; when the walk would read more than
        walk_rows rows, the full-text index is used instead.
        """
        cap = q.count_up_to
        if cap is None or not q.sort or not q.words or self.walk_rows <= 0:
            return None
        where, params = self._where(q, words=False)
        content = self._table(q.collection.name, "__fts_content")
        # Words are letters and digits only (kcnguard.store.words), and the content holds them space-separated:
        # a word is present exactly when ' word ' is in ' content '.
        has_words = " AND ".join("instr(' ' || c.c0 || ' ', ?) > 0" for _ in q.words)
        spaced = [f" {w} " for w in q.words]
        order = _row_order(q)
        walked = (
            f"SELECT {has_words} AS hit FROM {table} AS t JOIN {content} AS c ON c.id = t.rid "
            f"WHERE {where} ORDER BY {order} LIMIT ?"
        )
        rows_sql = f"SELECT count(*) FROM (SELECT 1 FROM {table} AS t WHERE {where} LIMIT ?)"
        rows = conn.execute(rows_sql, [*params, self.walk_rows + 1]).fetchone()[0]
        if rows > self.walk_sample:
            sampled = conn.execute(f"SELECT count(*) FROM ({walked}) WHERE hit", [*spaced, *params, self.walk_sample])
            share = sampled.fetchone()[0] / self.walk_sample
            if min(rows, (cap + 1) / share if share else float("inf")) > self.walk_rows:
                return None
        # The walk stops at whichever comes first: enough matches to know the count is capped, or walk_rows rows.
        count_sql = f"SELECT count(*) FROM (SELECT 1 FROM ({walked}) WHERE hit LIMIT ?)"
        hits = conn.execute(count_sql, [*spaced, *params, self.walk_rows, cap + 1]).fetchone()[0]
        capped = hits > cap
        if not capped and rows > self.walk_rows:
            return None  # the sample promised more matches than the range held: the full-text index decides
        total = min(hits, cap)
        if q.offset >= total and not capped:
            return Page([], total, capped)
        sql = (
            f"SELECT t.id, t.version, t.body FROM {table} AS t JOIN {content} AS c ON c.id = t.rid "
            f"WHERE {where} AND {has_words} ORDER BY {order} LIMIT ? OFFSET ?"
        )
        found = conn.execute(sql, [*params, *spaced, q.size, q.offset]).fetchall()
        return Page([_doc(r) for r in found], total, capped)

    def _text_page(
        self, conn: sqlite3.Connection, q: checked.CheckedQuery, table: str, where: str, params: list[Any]
    ) -> Page | None:
        """A counted page of a text search in one statement, or None when the page is empty.

        The text condition builds the list of every document holding the words (a fifth of a million-row
        collection for a common word, ~25 ms); counting and paging in two statements built it twice.
        """
        keys = [f"t.{_column(s.name)} AS k{i}" for i, s in enumerate(q.sort)]
        inner, limit = "", -1
        if q.count_up_to is not None:
            inner = "ORDER BY " + _row_order(q)
            # Enough matches to tell the count is capped, and to cut the page from when it lies past the cap.
            limit = max(q.count_up_to + 1, q.offset + q.size)
        ks = [f"k{i}" for i in range(len(q.sort))]
        # The page is cut from the matches' sort keys first; only its own rows read their bodies.
        sql = (
            f"WITH h AS MATERIALIZED (SELECT {', '.join(['t.rid AS rid', 't.id AS id', *keys])} "
            f"FROM {table} AS t WHERE {where} {inner} LIMIT ?), "
            f"p AS (SELECT * FROM h ORDER BY {_order(q, ks, 'id')} LIMIT ? OFFSET ?) "
            f"SELECT (SELECT count(*) FROM h), t.id, t.version, t.body FROM p JOIN {table} AS t ON t.rid = p.rid "
            f"ORDER BY {_order(q, [f'p.{k}' for k in ks], 'p.id')}"
        )
        rows = conn.execute(sql, [*params, limit, q.size, q.offset]).fetchall()
        if not rows:
            return None  # nothing matched, or the page lies beyond the matches: the plain count says which
        total = rows[0][0]
        capped = q.count_up_to is not None and total > q.count_up_to
        if capped:
            total = q.count_up_to
        return Page([_doc(r[1:]) for r in rows], total, capped)

    def _where(self, q: checked.CheckedQuery, words: bool = True, counting: bool = False) -> tuple[str, list[Any]]:
        """The WHERE clause of the query's filters, ranges and (unless `words` is False) its full-text words.

        A many-valued keyword (a case's agencies) is looked up in its side table: per row, while a page walks
        an index in sort order; as the list of matching rows when `counting` (SQLite would otherwise drive a
        sorted page from that list and sort every match, or count by probing every row)."""
        conds: list[str] = []
        params: list[Any] = []
        for flt in q.filters:
            marks = ",".join("?" * len(flt.values))
            if _listed(flt.field):
                side = self._side(q.collection.name, flt.name)
                if counting:
                    conds.append(f"t.rid IN (SELECT s.rid FROM {side} AS s WHERE s.value IN ({marks}))")
                else:
                    conds.append(f"EXISTS (SELECT 1 FROM {side} AS s WHERE s.value IN ({marks}) AND s.rid = t.rid)")
            elif flt.field.many:
                value = _value_sql(flt.field, "value")
                each = f"json_each(t.body, '{_json_path(flt.field.path)}')"
                conds.append(f"EXISTS (SELECT 1 FROM {each} WHERE {value} IN ({marks}))")
            else:
                conds.append(f"t.{_column(flt.name)} IN ({marks})")
            params.extend(flt.values)
        for rng in q.ranges:
            bounds = [(op, v) for op, v in ((">=", rng.gte), ("<=", rng.lte)) if v is not None]
            if not bounds:
                continue
            if rng.field.many:
                value = _value_sql(rng.field, "value")
                test = " AND ".join(f"{value} {op} ?" for op, _ in bounds)
                conds.append(f"EXISTS (SELECT 1 FROM json_each(t.body, '{_json_path(rng.field.path)}') WHERE {test})")
            else:
                conds.extend(f"t.{_column(rng.name)} {op} ?" for op, _ in bounds)
            params.extend(v for _, v in bounds)
        if words and q.words is not None:
            if not q.words:
                conds.append("0")
            else:
                fts = self._table(q.collection.name, "__fts")
                conds.append(f"t.rid IN (SELECT rowid FROM {fts} WHERE {fts} MATCH ?)")
                # Words hold letters and digits only, so quoting each makes it a plain term, never syntax.
                params.append(" ".join(f'"{w}"' for w in q.words))
        return (" AND ".join(conds) or "1"), params

    # Writes ---------------------------------------------------------------------------------

    def bulk_write(self, collection: str, writes: Sequence[Write]) -> list[WriteResult]:
        coll = checked.collection(collection)
        table = self._table(coll.name)
        fts = self._table(coll.name, "__fts") if coll.text_fields else None
        listed = self._listed_sql(coll)
        results: list[WriteResult] = []
        prepared: list[tuple[Write, str, str] | WriteResult] = []
        for w in writes:
            problem = checked.id_problem(w.id)
            if problem is None and not isinstance(w.body, dict):
                problem = "document body must be a JSON object"
            if problem is None:
                try:
                    body = json.dumps(w.body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
                    body.encode()  # a lone surrogate cannot be stored as UTF-8
                except (TypeError, ValueError) as exc:
                    problem = f"document is not JSON: {exc}"
            if problem is not None:
                prepared.append(WriteResult(str(w.id), False, error=problem))
            else:
                prepared.append((w, body, self._text(coll, w.body) if fts else ""))
        with self._db.write("bulk_write") as conn:
            for item in prepared:
                if isinstance(item, WriteResult):
                    results.append(item)
                    continue
                w, body, text = item
                row = conn.execute(f"SELECT rid, version FROM {table} WHERE id = ?", (w.id,)).fetchone()
                if w.if_version == CREATE and row is not None:
                    results.append(WriteResult(w.id, False, error="conflict"))
                    continue
                if w.if_version not in (None, CREATE) and (row is None or str(row[1]) != w.if_version):
                    results.append(WriteResult(w.id, False, error="conflict"))
                    continue
                if row is None:
                    rid = conn.execute(
                        f"INSERT INTO {table} (id, version, body) VALUES (?, 1, ?)", (w.id, body)
                    ).lastrowid
                    version = 1
                    if fts:
                        conn.execute(f"INSERT INTO {fts} (rowid, text) VALUES (?, ?)", (rid, text))
                    for _, insert in listed:
                        conn.execute(insert, (rid, body))
                else:
                    rid, version = row[0], row[1] + 1
                    conn.execute(f"UPDATE {table} SET version = ?, body = ? WHERE rid = ?", (version, body, rid))
                    if fts:
                        conn.execute(f"UPDATE {fts} SET text = ? WHERE rowid = ?", (text, rid))
                    for remove, insert in listed:
                        conn.execute(remove, (rid,))
                        conn.execute(insert, (rid, body))
                results.append(WriteResult(w.id, True, version=str(version)))
        return results

    def _listed_sql(self, coll: schema.Collection) -> list[tuple[str, str]]:
        """(remove a document's rows, insert them from its JSON body) for each side table of the collection."""
        return [
            (
                f"DELETE FROM {self._side(coll.name, name)} WHERE rid = ?",
                f"INSERT OR IGNORE INTO {self._side(coll.name, name)} (rid, value) SELECT ?, value "
                f"FROM json_each(?, '{_json_path(f.path)}') WHERE value IS NOT NULL",
            )
            for name, f in _listed_fields(coll)
        ]

    def delete(self, collection: str, doc_id: str) -> bool:
        coll = checked.collection(collection)
        with self._db.write("delete") as conn:
            row = conn.execute(f"SELECT rid FROM {self._table(coll.name)} WHERE id = ?", (doc_id,)).fetchone()
            if row is None:
                return False
            conn.execute(f"DELETE FROM {self._table(coll.name)} WHERE rid = ?", (row[0],))
            for remove, _ in self._listed_sql(coll):
                conn.execute(remove, (row[0],))
            if coll.text_fields:
                conn.execute(f"DELETE FROM {self._table(coll.name, '__fts')} WHERE rowid = ?", (row[0],))
        return True

    def refresh(self, collection: str) -> None:
        checked.collection(collection)  # every committed write is already visible

    def close(self) -> None:
        self._db.close()


def _order(q: checked.CheckedQuery, columns: list[str], id_column: str) -> str:
    """ORDER BY terms for the query's sort over `columns`; missing values last, ties by id."""
    terms = [f"{c} DESC" if s.descending else f"{c} ASC NULLS LAST" for s, c in zip(q.sort, columns, strict=True)]
    return ", ".join([*terms, f"{id_column} ASC"])


def _row_order(q: checked.CheckedQuery) -> str:
    """ORDER BY terms for the query's sort over the table's own columns (aliased t)."""
    return _order(q, [f"t.{_column(s.name)}" for s in q.sort], "t.id")


def _doc(row: tuple[str, int, str]) -> Doc:
    return Doc(row[0], json.loads(row[2]), str(row[1]))
