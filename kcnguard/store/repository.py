"""The typed store every service uses: records in, records out, over either backend."""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from kcnguard.errors import ConflictError, StoreUnavailable
from kcnguard.records import Brand, Case, CaseState, CrawlRun, Listing, ScoredListing, StoredListing, Transition, utcnow
from kcnguard.records.base import Record
from kcnguard.records.case import review_status
from kcnguard.store import schema
from kcnguard.store.base import CREATE, Doc, DocumentStore, Page, Query, Write

log = logging.getLogger(__name__)

R = TypeVar("R", bound=Record)

# How often a listing upsert re-reads and retries when another writer got there first.
MAX_MERGE_ATTEMPTS = 8


@dataclass(frozen=True)
class Versioned(Generic[R]):
    record: R
    version: str


@dataclass(frozen=True)
class RecordPage(Generic[R]):
    items: list[R]
    total: int


@dataclass(frozen=True)
class ApiKey:
    key_hash: str
    name: str
    role: str
    scopes: list[str]
    owner_id: str | None
    created_at: str
    revoked_at: str | None = None
    revoked_by: str | None = None


def hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class Store:
    def __init__(self, docs: DocumentStore) -> None:
        self.docs = docs

    def setup(self) -> None:
        self.docs.setup()

    def ping(self) -> None:
        self.docs.ping()

    def close(self) -> None:
        self.docs.close()

    def refresh(self) -> None:
        for name in schema.COLLECTIONS:
            self.docs.refresh(name)

    # Brands ---------------------------------------------------------------------------------

    def put_brand(self, brand: Brand) -> Brand:
        """Create or replace a brand."""
        self.docs.put(schema.BRANDS.name, brand.brand_id, brand.to_doc())
        self._brands_changed()
        return brand

    def create_brand(self, brand: Brand) -> Brand:
        """Create a brand; ConflictError when its brand_id is taken, so nobody overwrites another's."""
        self.docs.put(schema.BRANDS.name, brand.brand_id, brand.to_doc(), if_version=CREATE)
        self._brands_changed()
        return brand

    def _brands_changed(self) -> None:
        # Brands change rarely and are listed right after (the scheduler, the classifier's
        # registry): make the change visible to search now rather than at Elasticsearch's next refresh.
        self.docs.refresh(schema.BRANDS.name)

    def get_brand(self, brand_id: str) -> Brand | None:
        doc = self.docs.get(schema.BRANDS.name, brand_id)
        return Brand.model_validate(doc.body) if doc else None

    def list_brands(self, owner_id: str | None = None, size: int = 1000, offset: int = 0) -> RecordPage[Brand]:
        query = Query(
            filters={"owner_id": owner_id} if owner_id else {}, sort=[("brand_id", "asc")], size=size, offset=offset
        )
        return _records(self.docs.search(schema.BRANDS.name, query), Brand)

    # Listings -------------------------------------------------------------------------------

    def upsert_listings(self, listings: Sequence[Listing]) -> list[StoredListing]:
        """Merge captures into the stored listings, keeping history; safe to replay."""
        pending: dict[str, list[Listing]] = {}
        for listing in listings:
            pending.setdefault(listing.key, []).append(listing)
        order = list(pending)
        done: dict[str, StoredListing] = {}
        for attempt in range(MAX_MERGE_ATTEMPTS):
            if not pending:
                break
            _pause(attempt)
            existing = self.docs.mget(schema.LISTINGS.name, list(pending))
            writes: list[Write] = []
            merged: dict[str, StoredListing] = {}
            for key, captures in pending.items():
                doc = existing.get(key)
                stored = StoredListing.model_validate(doc.body) if doc else None
                for capture in captures:
                    stored = stored.seen_again(capture) if stored else StoredListing.first(capture)
                assert stored is not None
                merged[key] = stored
                writes.append(Write(key, stored.to_doc(), doc.version if doc else CREATE))
            results = self.docs.bulk_write(schema.LISTINGS.name, writes)
            retry: dict[str, list[Listing]] = {}
            for result in results:
                if result.ok:
                    done[result.id] = merged[result.id]
                elif result.conflict:
                    retry[result.id] = pending[result.id]
                else:
                    raise RuntimeError(f"listing {result.id} could not be written: {result.error}")
            pending = retry
        if pending:
            raise ConflictError(f"listings kept changing under the writer: {sorted(pending)[:5]}")
        return [done[k] for k in order]

    def get_listing(self, key: str) -> Versioned[StoredListing] | None:
        doc = self.docs.get(schema.LISTINGS.name, key)
        return Versioned(StoredListing.model_validate(doc.body), doc.version) if doc else None

    def mark_removed(self, key: str, at: datetime | None = None) -> StoredListing | None:
        for attempt in range(MAX_MERGE_ATTEMPTS):
            _pause(attempt)
            current = self.get_listing(key)
            if current is None:
                return None
            if current.record.status == "removed":
                return current.record
            updated = current.record.model_copy(update={"status": "removed", "removed_at": at or utcnow()})
            try:
                self.docs.put(schema.LISTINGS.name, key, updated.to_doc(), if_version=current.version)
                return updated
            except ConflictError:
                continue
        raise ConflictError(f"listing {key} kept changing under the writer")

    def search_listings(self, query: Query) -> RecordPage[StoredListing]:
        return _records(self.docs.search(schema.LISTINGS.name, query), StoredListing)

    # Scores ---------------------------------------------------------------------------------

    def put_scored(self, scored: Sequence[ScoredListing]) -> None:
        # The review status comes from each listing's case (written before its score), so a re-score
        # never puts a decided listing back in the "new" queue.
        ids = {s.key: Case.make_id(s.listing.key, s.brand_id) for s in scored}
        cases = self.docs.mget(schema.CASES.name, list(ids.values())) if scored else {}
        writes = [
            Write(
                s.key,
                {**s.to_doc(), "listing_key": s.listing.key, "review_status": _status_of(cases.get(ids[s.key]))},
            )
            for s in scored
        ]
        failed = [r for r in self.docs.bulk_write(schema.SCORED.name, writes) if not r.ok]
        if failed:
            raise RuntimeError(f"{len(failed)} scores not written, first: {failed[0].id}: {failed[0].error}")

    def get_scored(self, listing_key: str, brand_id: str) -> ScoredListing | None:
        from kcnguard.records import scored_key

        doc = self.docs.get(schema.SCORED.name, scored_key(listing_key, brand_id))
        return _scored(doc) if doc else None

    def set_review_status(self, listing_key: str, brand_id: str, status: str) -> None:
        """Mirror a case's review status onto its score, so the queue can filter by it."""
        from kcnguard.records import scored_key

        key = scored_key(listing_key, brand_id)
        for attempt in range(MAX_MERGE_ATTEMPTS):
            _pause(attempt)
            doc = self.docs.get(schema.SCORED.name, key)
            if doc is None or doc.body.get("review_status") == status:
                return
            try:
                self.docs.put(schema.SCORED.name, key, {**doc.body, "review_status": status}, if_version=doc.version)
                return
            except ConflictError:
                continue
        raise ConflictError(f"score {key} kept changing under the writer")

    def search_scored(self, query: Query) -> RecordPage[ScoredListing]:
        page = self.docs.search(schema.SCORED.name, query)
        return RecordPage([_scored(d) for d in page.docs], page.total)

    def flagged(
        self, brand_id: str | None = None, size: int = 50, offset: int = 0, text: str | None = None
    ) -> RecordPage[ScoredListing]:
        filters: dict[str, Any] = {"flagged": True}
        if brand_id:
            filters["brand_id"] = brand_id
        return self.search_scored(Query(filters=filters, text=text, sort=[("score", "desc")], size=size, offset=offset))

    # Cases ----------------------------------------------------------------------------------

    def open_case(self, case: Case) -> tuple[Versioned[Case], bool]:
        """Create the case unless it exists; returns it and whether it was created now."""
        try:
            doc = self.docs.put(schema.CASES.name, case.case_id, case.to_doc(), if_version=CREATE)
            return Versioned(case, doc.version), True
        except ConflictError:
            current = self.get_case(case.case_id)
            if current is None:  # deleted between the two calls
                raise
            return current, False

    def open_cases(self, cases: Sequence[Case]) -> list[tuple[Versioned[Case], bool]]:
        """`open_case` for many in one bulk write: each case as stored, and whether it was created now."""
        if not cases:
            return []
        writes = [Write(c.case_id, c.to_doc(), if_version=CREATE) for c in cases]
        results = self.docs.bulk_write(schema.CASES.name, writes)
        existing = self.get_cases([r.id for r in results if r.conflict])
        out: list[tuple[Versioned[Case], bool]] = []
        for case, result in zip(cases, results, strict=True):
            if result.ok and result.version is not None:
                out.append((Versioned(case, result.version), True))
            elif result.conflict and result.id in existing:
                out.append((existing[result.id], False))
            elif result.conflict:  # deleted between the two calls
                raise ConflictError(f"case {case.case_id} was deleted while being opened")
            else:  # the backend refused the write: retried with the whole batch
                raise StoreUnavailable(f"case {case.case_id} not opened: {result.error}")
        return out

    def get_case(self, case_id: str) -> Versioned[Case] | None:
        doc = self.docs.get(schema.CASES.name, case_id)
        return Versioned(Case.model_validate(doc.body), doc.version) if doc else None

    def get_cases(self, case_ids: Sequence[str]) -> dict[str, Versioned[Case]]:
        """Cases by id in one round trip; by id, so a case written a moment ago is already there."""
        docs = self.docs.mget(schema.CASES.name, list(case_ids))
        return {i: Versioned(Case.model_validate(d.body), d.version) for i, d in docs.items()}

    def case_states(self, case_ids: Sequence[str]) -> dict[str, tuple[CaseState, str]]:
        """(state, review status) of cases by id: what a queue row shows, without reading each whole case."""
        docs = self.docs.mget(schema.CASES.name, list(case_ids))
        return {case_id: (CaseState(doc.body["state"]), _status_of(doc)) for case_id, doc in docs.items()}

    def save_case(self, case: Case, version: str) -> Versioned[Case]:
        """Write a changed case only if nobody changed it since `version`; else ConflictError."""
        doc = self.docs.put(schema.CASES.name, case.case_id, case.to_doc(), if_version=version)
        return Versioned(case, doc.version)

    def search_cases(self, query: Query) -> RecordPage[Case]:
        return _records(self.docs.search(schema.CASES.name, query), Case)

    # Crawl runs -----------------------------------------------------------------------------

    def put_crawl_run(self, run: CrawlRun) -> None:
        self.docs.put(schema.CRAWL_RUNS.name, run.job_id, run.to_doc())

    def search_crawl_runs(self, query: Query) -> RecordPage[CrawlRun]:
        return _records(self.docs.search(schema.CRAWL_RUNS.name, query), CrawlRun)

    # API keys -------------------------------------------------------------------------------

    def put_api_key(
        self, raw_key: str, name: str, role: str, scopes: Sequence[str] = (), owner_id: str | None = None
    ) -> ApiKey:
        key = ApiKey(hash_api_key(raw_key), name, role, list(scopes), owner_id, utcnow().isoformat())
        self.docs.put(schema.API_KEYS.name, key.key_hash, key.__dict__)
        return key

    def find_api_key(self, raw_key: str) -> ApiKey | None:
        """The key, revoked or not: the caller decides (authentication refuses revoked ones)."""
        doc = self.docs.get(schema.API_KEYS.name, hash_api_key(raw_key))
        return ApiKey(**doc.body) if doc else None

    def get_api_key(self, key_hash: str) -> ApiKey | None:
        doc = self.docs.get(schema.API_KEYS.name, key_hash)
        return ApiKey(**doc.body) if doc else None

    def list_api_keys(self, size: int = 100, offset: int = 0, role: str | None = None) -> tuple[list[ApiKey], int]:
        query = Query(filters={"role": role} if role else {}, sort=[("name", "asc")], size=size, offset=offset)
        page = self.docs.search(schema.API_KEYS.name, query)
        return [ApiKey(**d.body) for d in page.docs], page.total

    def revoke_api_key(self, key_hash: str, by: str) -> ApiKey | None:
        """Mark a key revoked (kept, so the record of who had it stays); None when there is no such key."""
        doc = self.docs.get(schema.API_KEYS.name, key_hash)
        if doc is None:
            return None
        key = ApiKey(**doc.body)
        if key.revoked_at is None:
            key = ApiKey(**{**doc.body, "revoked_at": utcnow().isoformat(), "revoked_by": by})
            self.docs.put(schema.API_KEYS.name, key_hash, key.__dict__)
        return key


def _pause(attempt: int) -> None:
    # Writers that lost a race and retry at once tend to collide again; a random pause spreads them out.
    if attempt:
        time.sleep(random.uniform(0, min(0.25, 0.005 * 2**attempt)))


def _records(page: Page, model: type[R]) -> RecordPage[R]:
    return RecordPage([model.model_validate(d.body) for d in page.docs], page.total)


def _status_of(case_doc: Doc | None) -> str:
    if case_doc is None:
        return "new"
    history = case_doc.body.get("history") or []
    return review_status(CaseState(case_doc.body["state"]), Transition.model_validate(history[-1]) if history else None)


def _scored(doc: Doc) -> ScoredListing:
    body = dict(doc.body)
    body.pop("listing_key", None)
    body.pop("review_status", None)
    return ScoredListing.model_validate(body)
