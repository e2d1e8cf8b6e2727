"""The embedded document store: one SQLite file, safe across threads and processes.

Each collection is a table with a generated column per declared field (sqlite/tables.py); queries are
translated in sqlite/where.py, text searches paged in sqlite/text_pages.py, writes made in
sqlite/writes.py. The file runs in WAL mode so readers never wait for the writer, and every write
batch takes the write lock up front (BEGIN IMMEDIATE), so two processes never deadlock upgrading a
read into a write.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from kcnguard.errors import StoreUnavailable
from kcnguard.sqlite_file import SqliteFile
from kcnguard.store import checked
from kcnguard.store.base import Capabilities, Doc, DocumentStore, Page, Query, Write, WriteResult
from kcnguard.store.schema import Collection
from kcnguard.store.sqlite import tables as tables_sql
from kcnguard.store.sqlite import writes as writes_sql
from kcnguard.store.sqlite.tables import Tables, doc_of
from kcnguard.store.sqlite.text_pages import fts_page, walked_text_page
from kcnguard.store.sqlite.where import counting_where, row_order, where

log = logging.getLogger(__name__)

_NAMESPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

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


class SqliteDocumentStore(DocumentStore):
    # A text search reads at most this many rows of the filters' index, best first, one by one (see
    # text_pages.walked_text_page); the first walk_sample of them tell whether the words are common enough.
    walk_rows = 8000
    walk_sample = 500

    def __init__(self, path: Path, namespace: str = "kcnguard", busy_timeout: float = 15.0) -> None:
        super().__init__()
        if not _NAMESPACE.match(namespace):
            raise ValueError(f"namespace {namespace!r} must be 1-64 letters, digits, '_', '.' or '-'")
        self.path = Path(path)
        self.namespace = namespace
        self.busy_timeout = busy_timeout
        self._tables = Tables(namespace)
        self._db = SqliteFile(self.path, busy_timeout, unavailable=self._unavailable, closed=self._closed_error)

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(search_visible_after_seconds=0.0)  # a committed write is in the next search

    # Connections ----------------------------------------------------------------------------

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

    def _create(self, collections: Sequence[Collection]) -> None:
        # One transaction under the write lock: two processes setting up at once take turns, and the
        # second finds everything in place.
        with self._db.write("setup") as conn:
            tables_sql.create_meta(conn, self._tables)
            for coll in collections:
                tables_sql.create(conn, self._tables, coll)

    def drop(self) -> None:
        """Remove this namespace's tables (tests, and an operator's reset)."""
        with self._db.write("drop") as conn:
            tables_sql.drop(conn, self._tables, self.collections)

    def ping(self) -> None:
        with self._db.unavailable_as_error("ping"):
            self._db.connection().execute(f"SELECT count(*) FROM {self._tables.meta}").fetchone()

    # Reads ----------------------------------------------------------------------------------

    def get(self, collection: str, doc_id: str) -> Doc | None:
        table = self._tables.table(self.collection(collection).name)
        with self._db.unavailable_as_error("get"):
            row = (
                self._db.connection()
                .execute(f"SELECT id, version, body FROM {table} WHERE id = ?", (doc_id,))
                .fetchone()
            )
        return doc_of(row) if row else None

    def mget(self, collection: str, ids: Sequence[str]) -> dict[str, Doc]:
        table = self._tables.table(self.collection(collection).name)
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Doc] = {}
        with self._db.unavailable_as_error("mget"):
            conn = self._db.connection()
            for start in range(0, len(wanted), _MGET_CHUNK):
                chunk = wanted[start : start + _MGET_CHUNK]
                marks = ",".join("?" * len(chunk))
                for row in conn.execute(f"SELECT id, version, body FROM {table} WHERE id IN ({marks})", chunk):
                    found[row[0]] = doc_of(row)
        return found

    def search(self, collection: str, query: Query) -> Page:
        q = checked.check(self.collection(collection), query)
        where_sql, params = where(self._tables, q)
        table = self._tables.table(q.collection.name)
        with self._db.unavailable_as_error("search"):
            conn = self._db.connection()
            total, capped = -1, False
            if q.count and q.words and q.size > 0:
                found = walked_text_page(conn, self._tables, q, self.walk_rows, self.walk_sample) or fts_page(
                    conn, self._tables, q, where_sql, params
                )
                if found is not None:
                    return found
            if q.count:
                counted, counted_params = counting_where(self._tables, q, where_sql, params)
                if q.count_up_to is None:
                    count_sql = f"SELECT count(*) FROM {table} AS t WHERE {counted}"
                    total = conn.execute(count_sql, counted_params).fetchone()[0]
                else:
                    # Stop after count_up_to + 1 matches: counting 300,000 flagged scores to print a total nobody
                    # can page through (MAX_WINDOW) is what made a queue page slow.
                    count_sql = f"SELECT count(*) FROM (SELECT 1 FROM {table} AS t WHERE {counted} LIMIT ?)"
                    total = conn.execute(count_sql, [*counted_params, q.count_up_to + 1]).fetchone()[0]
                    capped = total > q.count_up_to
                    total = min(total, q.count_up_to)
                if q.size == 0 or (q.offset >= total and not capped):
                    return Page([], total, capped)
            order = row_order(q)
            sql = (
                f"SELECT t.id, t.version, t.body FROM {table} AS t WHERE {where_sql} ORDER BY {order} LIMIT ? OFFSET ?"
            )
            rows = conn.execute(sql, [*params, q.size, q.offset]).fetchall()
        return Page([doc_of(r) for r in rows], total if q.count else q.offset + len(rows), capped)

    # Writes ---------------------------------------------------------------------------------

    def bulk_write(self, collection: str, writes: Sequence[Write]) -> list[WriteResult]:
        return writes_sql.bulk_write(self._db, self._tables, self.collection(collection), writes)

    def delete(self, collection: str, doc_id: str) -> bool:
        return writes_sql.delete(self._db, self._tables, self.collection(collection), doc_id)

    def refresh(self, collection: str) -> None:
        self.collection(collection)  # every committed write is already visible

    def close(self) -> None:
        self._db.close()
