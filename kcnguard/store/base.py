"""The document store beneath the typed Store: one interface over SQLite and Elasticsearch.

Documents are JSON objects in named collections. Each write returns an opaque version;
writing with `if_version` fails with ConflictError when the document moved on since, so
a stale write never overwrites (Elasticsearch's if_seq_no/if_primary_term, a counter in
SQLite). Only the fields a collection declares (kcnguard.store.schema) are searchable, and a
store serves only the collections it has been told of (`know`).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kcnguard.store.schema import Collection

# Passed as if_version to mean "only if the document does not exist yet".
CREATE = "create"


@dataclass(frozen=True)
class Doc:
    id: str
    body: dict[str, Any]
    version: str


@dataclass(frozen=True)
class Write:
    id: str
    body: dict[str, Any]
    if_version: str | None = None  # None: unconditional; CREATE: only if absent; else: only at that version


@dataclass(frozen=True)
class WriteResult:
    id: str
    ok: bool
    version: str | None = None
    error: str | None = None  # "conflict", or the backend's message

    @property
    def conflict(self) -> bool:
        return self.error == "conflict"


@dataclass
class Query:
    """A search over declared fields. Every part narrows; an empty query matches everything."""

    filters: dict[str, Any] = field(default_factory=dict)  # field -> value, or a list meaning any of them
    ranges: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> (gte or None, lte or None)
    text: str | None = None  # words that must all appear in the collection's text fields
    sort: list[tuple[str, str]] = field(default_factory=list)  # (field, "asc" | "desc"); ties by id
    size: int = 20
    offset: int = 0
    # False: skip counting every match (keyset paging over big collections needs no total);
    # Page.total is then only offset + the documents returned.
    count: bool = True
    # With count: stop counting past this many matches (Page.total is then at most this, total_capped says
    # there were more), as Elasticsearch's track_total_hits=N does. None counts every match.
    count_up_to: int | None = None


@dataclass(frozen=True)
class Page:
    docs: list[Doc]
    total: int
    total_capped: bool = False  # more than Query.count_up_to documents matched; total is that cap


# Deep pages cost both backends dearly; Elasticsearch refuses past 10,000 by default.
MAX_WINDOW = 10_000


@dataclass(frozen=True)
class Capabilities:
    """What differs between backends, stated so callers never ask which backend they have."""

    # How long after a write until search finds it: a keyset reader over a recent range stops this far
    # short of now, so a document written just before a newer one cannot appear after the reader passed it.
    search_visible_after_seconds: float


class DocumentStore(ABC):
    def __init__(self) -> None:
        self._collections: dict[str, Collection] = {}
        self._set_up = False
        self._knowing = threading.Lock()

    @property
    @abstractmethod
    def capabilities(self) -> Capabilities: ...

    @property
    def collections(self) -> list[Collection]:
        return list(self._collections.values())

    def know(self, collections: Iterable[Collection]) -> None:
        """Serve these collections too. A store already set up creates the new ones at once, so a process
        that set up its store may use a domain's collections without listing them beforehand."""
        with self._knowing:  # held while creating, so no thread uses a collection before it exists
            new = [c for c in collections if self._collections.get(c.name) is not c]
            if new and self._set_up:
                self._create(new)
            for coll in new:
                self._collections[coll.name] = coll

    def collection(self, name: str) -> Collection:
        try:
            return self._collections[name]
        except KeyError:
            raise ValueError(f"unknown collection {name!r}; known: {', '.join(self._collections)}") from None

    def setup(self) -> None:
        """Create tables or index templates and indices for every known collection (idempotent)."""
        self._create(self.collections)
        self._set_up = True

    @abstractmethod
    def _create(self, collections: Sequence[Collection]) -> None:
        """Create what these collections need, keeping what exists (idempotent, safe across processes)."""

    @abstractmethod
    def ping(self) -> None:
        """Raise StoreUnavailable when the backend cannot be reached."""

    @abstractmethod
    def get(self, collection: str, doc_id: str) -> Doc | None: ...

    @abstractmethod
    def mget(self, collection: str, ids: Sequence[str]) -> dict[str, Doc]: ...

    @abstractmethod
    def bulk_write(self, collection: str, writes: Sequence[Write]) -> list[WriteResult]:
        """Write many documents in one round trip; each succeeds or fails on its own."""

    def put(self, collection: str, doc_id: str, body: dict[str, Any], if_version: str | None = None) -> Doc:
        """Write one document; ConflictError when if_version no longer holds."""
        from kcnguard.errors import ConflictError, KcnGuardError

        (result,) = self.bulk_write(collection, [Write(doc_id, body, if_version)])
        if result.conflict:
            raise ConflictError(f"{collection}/{doc_id} changed since it was read")
        if not result.ok or result.version is None:
            raise KcnGuardError(f"{collection}/{doc_id}: {result.error}")
        return Doc(doc_id, body, result.version)

    @abstractmethod
    def delete(self, collection: str, doc_id: str) -> bool: ...

    @abstractmethod
    def search(self, collection: str, query: Query) -> Page: ...

    def count(self, collection: str, query: Query | None = None) -> int:
        q = query or Query()
        return self.search(collection, Query(q.filters, q.ranges, q.text, [], size=0, count_up_to=q.count_up_to)).total

    @abstractmethod
    def refresh(self, collection: str) -> None:
        """Make every write so far visible to search (Elasticsearch is near-real-time)."""

    @abstractmethod
    def close(self) -> None: ...
