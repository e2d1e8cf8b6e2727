"""The document store beneath the typed Store: one interface over SQLite and Elasticsearch.

Documents are JSON objects in named collections. Each write returns an opaque version;
writing with `if_version` fails with ConflictError when the document moved on since, so
a stale write never overwrites (Elasticsearch's if_seq_no/if_primary_term, a counter in
SQLite). Only the fields a collection declares in kcnguard.store.schema are searchable.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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


class DocumentStore(ABC):
    @abstractmethod
    def setup(self) -> None:
        """Create tables or index templates and indices for every collection (idempotent)."""

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
