"""A date exactly as the store sorts and compares it, for keyset paging over a date field.

Both backends compare dates as UTC ISO strings truncated to the millisecond: Elasticsearch and
kcnguard.store.checked.date_value drop the microseconds, and the SQLite store's date columns do the
same (kcnguard.store.sqlite.tables; setup() rebuilds columns from the older, rounding expression).
A cursor computed in Python therefore compares the way the store does, whichever backend.
"""

from __future__ import annotations

from typing import Any

from kcnguard.store import Store
from kcnguard.store.checked import date_value


def store_date(store: Store, value: Any) -> str:  # `store` kept for callers written when it mattered
    """`value` (a datetime or ISO string) as the store's date columns hold it."""
    return date_value(value)
