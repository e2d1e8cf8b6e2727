"""A date exactly as the store sorts and compares it, for keyset paging over a date field.

Both backends compare dates at millisecond precision, but not the same milliseconds: Elasticsearch
(and kcnguard.store.checked.date_value) truncate the microseconds, while SQLite's strftime rounds
them (12.1236 s → 12.124). A keyset cursor computed one way and compared the other way can step
over a case, so cursors use the backend's own reading: for SQLite, SQLite itself computes it.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime
from typing import Any

from kcnguard.store import Store
from kcnguard.store.checked import date_value
from kcnguard.store.sqlite import SqliteDocumentStore

_local = threading.local()


def _sqlite_ms(value: Any) -> str:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = sqlite3.connect(":memory:", check_same_thread=True)
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    (out,) = conn.execute("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ?)", (text,)).fetchone()
    if out is None:
        raise ValueError(f"not a date SQLite can read: {text[:80]!r}")
    return str(out)


def store_date(store: Store, value: Any) -> str:
    """`value` (a datetime or ISO string) as the store's date columns hold it."""
    if isinstance(store.docs, SqliteDocumentStore):
        return _sqlite_ms(value)
    return date_value(value)
