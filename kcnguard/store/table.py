"""A typed face over one collection: records in, records out, versions where writers need them.

Every domain builds its store on RecordTable (the pipeline's in kcnguard.store.repository, the API's in
api/<concept>/store.py) instead of calling the document store, so how a record becomes a document and
back is written once per collection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from kcnguard.store.base import CREATE, Doc, DocumentStore, Query, Write, WriteResult
from kcnguard.store.schema import Collection

M = TypeVar("M")
T = TypeVar("T")

Body = dict[str, Any]


@dataclass(frozen=True)
class Versioned(Generic[T]):
    record: T
    version: str


@dataclass(frozen=True)
class RecordPage(Generic[T]):
    items: list[T]
    total: int
    total_capped: bool = False  # more than Query.count_up_to matched; total is that cap


def _dump(record: Any) -> Body:
    return record.model_dump(mode="json")


class RecordTable(Generic[M]):
    """One collection's records of type M, each stored under `key(record)` (or, for records that do not hold
    their id, under the `doc_id` each write names).

    By default M is a pydantic model stored as its JSON dump; `load` and `dump` convert otherwise (a score's
    document holds its case's review status beside it, an API key is a plain dataclass). With
    `refresh_on_write`, every write is made visible to search before returning: for small registries that
    are listed right after they change (brands, enterprises, agencies, the Board's content).
    """

    def __init__(
        self,
        docs: DocumentStore,
        collection: Collection,
        model: type[M],
        key: Callable[[M], str] | None,
        *,
        load: Callable[[Body], M] | None = None,
        dump: Callable[[M], Body] | None = None,
        refresh_on_write: bool = False,
    ) -> None:
        docs.know([collection])
        self.docs = docs
        self.collection = collection
        self.name = collection.name
        self.model = model
        self.key = key
        self.load: Callable[[Body], M] = load or model.model_validate  # type: ignore[attr-defined]
        self.dump: Callable[[M], Body] = dump or _dump
        self.refresh_on_write = refresh_on_write

    # Reads ----------------------------------------------------------------------------------

    def get(self, doc_id: str) -> M | None:
        doc = self.docs.get(self.name, doc_id)
        return self.load(doc.body) if doc else None

    def get_versioned(self, doc_id: str) -> Versioned[M] | None:
        doc = self.docs.get(self.name, doc_id)
        return self._versioned(doc) if doc else None

    def get_many(self, ids: Sequence[str]) -> dict[str, M]:
        """The records found among `ids`, by id, in one round trip."""
        return {i: self.load(d.body) for i, d in self.docs.mget(self.name, list(ids)).items()}

    def get_many_versioned(self, ids: Sequence[str]) -> dict[str, Versioned[M]]:
        return {i: self._versioned(d) for i, d in self.docs.mget(self.name, list(ids)).items()}

    def search(self, query: Query) -> RecordPage[M]:
        page = self.docs.search(self.name, query)
        return RecordPage([self.load(d.body) for d in page.docs], page.total, page.total_capped)

    def search_versioned(self, query: Query) -> RecordPage[Versioned[M]]:
        page = self.docs.search(self.name, query)
        return RecordPage([self._versioned(d) for d in page.docs], page.total, page.total_capped)

    def count(self, query: Query | None = None) -> int:
        return self.docs.count(self.name, query)

    # The stored documents as they are, not validated into records: for read-only figures and rows over many
    # records, where validating each one again would cost more than the rest of the work (the store holds
    # only validated records, so nothing is lost).

    def get_bodies(self, ids: Sequence[str]) -> dict[str, Body]:
        return {i: d.body for i, d in self.docs.mget(self.name, list(ids)).items()}

    def search_bodies(self, query: Query) -> RecordPage[Body]:
        page = self.docs.search(self.name, query)
        return RecordPage([d.body for d in page.docs], page.total, page.total_capped)

    def search_versioned_bodies(self, query: Query) -> RecordPage[Versioned[Body]]:
        """With versions, for a reader that skips some documents before loading (`load`) the rest."""
        page = self.docs.search(self.name, query)
        return RecordPage([Versioned(d.body, d.version) for d in page.docs], page.total, page.total_capped)

    # Writes ---------------------------------------------------------------------------------

    def put(self, record: M, if_version: str | None = None, *, doc_id: str | None = None) -> Versioned[M]:
        """Write the record (under `doc_id` when its id is not part of it); with `if_version`, only if the
        stored one is still at that version, else ConflictError."""
        doc = self.docs.put(self.name, doc_id or self._key(record), self.dump(record), if_version=if_version)
        self._written()
        return Versioned(record, doc.version)

    def create(self, record: M, *, doc_id: str | None = None) -> Versioned[M]:
        """Write the record only if its id is free; ConflictError when it is taken."""
        return self.put(record, if_version=CREATE, doc_id=doc_id)

    def create_many(self, records: Sequence[M]) -> list[WriteResult]:
        """`create` for many in one round trip; each succeeds or conflicts on its own."""
        results = self.docs.bulk_write(self.name, [Write(self._key(r), self.dump(r), CREATE) for r in records])
        self._written()
        return results

    def delete(self, doc_id: str) -> bool:
        deleted = self.docs.delete(self.name, doc_id)
        self._written()
        return deleted

    def refresh(self) -> None:
        """Make every write so far visible to search."""
        self.docs.refresh(self.name)

    def _written(self) -> None:
        if self.refresh_on_write:
            self.refresh()

    def _key(self, record: M) -> str:
        if self.key is None:
            raise TypeError(f"{self.name} records do not hold their id: name it with doc_id")
        return self.key(record)

    def _versioned(self, doc: Doc) -> Versioned[M]:
        return Versioned(self.load(doc.body), doc.version)
