"""The embedded document store (see store.py): one SQLite file, safe across threads and processes."""

from kcnguard.store.sqlite.store import SqliteDocumentStore

__all__ = ["SqliteDocumentStore"]
