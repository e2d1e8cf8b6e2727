"""The typed store every service uses: records in, records out, over either backend.

`Store` knows the collections every deployment has (COLLECTIONS: the pipeline's and the case flow's)
and gives each a typed face (RecordTable); a service adds its own collections with `know` or `setup`.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from kcnguard.cases.collections import AUDIT, AUDIT_HEAD, CASE_INTENTS, OUTBOX
from kcnguard.errors import ConflictError, StoreUnavailable
from kcnguard.records import Brand, Case, CaseState, CrawlRun, Listing, ScoredListing, StoredListing, Transition, utcnow
from kcnguard.records.brand import BRANDS
from kcnguard.records.case import CASES, review_status
from kcnguard.records.crawl import CRAWL_RUNS
from kcnguard.records.listing import LISTINGS
from kcnguard.records.scoring import SCORED, scored_key
from kcnguard.store.api_keys import API_KEYS, ApiKey, hash_api_key
from kcnguard.store.base import CREATE, Capabilities, DocumentStore, Query, Write
from kcnguard.store.schema import Collection
from kcnguard.store.table import RecordPage, RecordTable, Versioned
from kcnguard.webhooks.collections import WEBHOOK_DELIVERIES, WEBHOOKS

log = logging.getLogger(__name__)

M = TypeVar("M")

# How often a listing upsert re-reads and retries when another writer got there first.
MAX_MERGE_ATTEMPTS = 8

# The collections every deployment has, whichever services run.
COLLECTIONS: tuple[Collection, ...] = (
    BRANDS,
    LISTINGS,
    SCORED,
    CASES,
    CRAWL_RUNS,
    API_KEYS,
    AUDIT,
    AUDIT_HEAD,
    OUTBOX,
    CASE_INTENTS,
    WEBHOOKS,
    WEBHOOK_DELIVERIES,
)


class Store:
    def __init__(self, docs: DocumentStore, collections: Iterable[Collection] = ()) -> None:
        self.docs = docs
        docs.know([*COLLECTIONS, *collections])
        # Brands change rarely and are listed right after (the scheduler, the classifier's registry): each
        # change is made visible to search at once rather than at Elasticsearch's next refresh.
        self.brands = RecordTable(docs, BRANDS, Brand, lambda b: b.brand_id, refresh_on_write=True)
        self.listings = RecordTable(docs, LISTINGS, StoredListing, lambda s: s.key)
        self.scored = RecordTable(docs, SCORED, ScoredListing, lambda s: s.key, load=_scored)
        self.cases = RecordTable(docs, CASES, Case, lambda c: c.case_id)
        self.crawl_runs = RecordTable(docs, CRAWL_RUNS, CrawlRun, lambda r: r.job_id)
        self.api_keys = RecordTable(
            docs, API_KEYS, ApiKey, lambda k: k.key_hash, load=lambda body: ApiKey(**body), dump=lambda k: k.__dict__
        )

    def table(
        self,
        collection: Collection,
        model: type[M],
        key: Callable[[M], str] | None,
        *,
        load: Callable[[dict[str, Any]], M] | None = None,
        dump: Callable[[M], dict[str, Any]] | None = None,
        refresh_on_write: bool = False,
    ) -> RecordTable[M]:
        """A typed face over a service's own collection, which this store then serves (see RecordTable)."""
        return RecordTable(self.docs, collection, model, key, load=load, dump=dump, refresh_on_write=refresh_on_write)

    @property
    def capabilities(self) -> Capabilities:
        return self.docs.capabilities

    def know(self, collections: Iterable[Collection]) -> None:
        """Serve these collections too (created at once if the store is set up, else by `setup`)."""
        self.docs.know(collections)

    def setup(self, collections: Iterable[Collection] = ()) -> None:
        """Create every known collection, and these (idempotent)."""
        self.docs.know(collections)
        self.docs.setup()

    def ping(self) -> None:
        self.docs.ping()

    def close(self) -> None:
        self.docs.close()

    def refresh(self) -> None:
        for coll in self.docs.collections:
            self.docs.refresh(coll.name)

    # Brands ---------------------------------------------------------------------------------

    def put_brand(self, brand: Brand) -> Brand:
        """Create or replace a brand."""
        self.brands.put(brand)
        return brand

    def create_brand(self, brand: Brand) -> Brand:
        """Create a brand; ConflictError when its brand_id is taken, so nobody overwrites another's."""
        self.brands.create(brand)
        return brand

    def get_brand(self, brand_id: str) -> Brand | None:
        return self.brands.get(brand_id)

    def list_brands(self, owner_id: str | None = None, size: int = 1000, offset: int = 0) -> RecordPage[Brand]:
        query = Query(
            filters={"owner_id": owner_id} if owner_id else {}, sort=[("brand_id", "asc")], size=size, offset=offset
        )
        return self.brands.search(query)

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
            existing = self.docs.mget(LISTINGS.name, list(pending))
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
            results = self.docs.bulk_write(LISTINGS.name, writes)
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
        return self.listings.get_versioned(key)

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
                self.listings.put(updated, if_version=current.version)
                return updated
            except ConflictError:
                continue
        raise ConflictError(f"listing {key} kept changing under the writer")

    def search_listings(self, query: Query) -> RecordPage[StoredListing]:
        return self.listings.search(query)

    # Scores ---------------------------------------------------------------------------------

    def put_scored(self, scored: Sequence[ScoredListing]) -> None:
        # The review status comes from each listing's case (written before its score), so a re-score
        # never puts a decided listing back in the "new" queue.
        ids = {s.key: Case.make_id(s.listing.key, s.brand_id) for s in scored}
        cases = self.cases.get_bodies(list(ids.values())) if scored else {}
        writes = [
            Write(
                s.key,
                {**s.to_doc(), "listing_key": s.listing.key, "review_status": _status_of(cases.get(ids[s.key]))},
            )
            for s in scored
        ]
        failed = [r for r in self.docs.bulk_write(SCORED.name, writes) if not r.ok]
        if failed:
            raise RuntimeError(f"{len(failed)} scores not written, first: {failed[0].id}: {failed[0].error}")

    def get_scored(self, listing_key: str, brand_id: str) -> ScoredListing | None:
        return self.scored.get(scored_key(listing_key, brand_id))

    def set_review_status(self, listing_key: str, brand_id: str, status: str) -> None:
        """Mirror a case's review status onto its score, so the queue can filter by it."""
        key = scored_key(listing_key, brand_id)
        for attempt in range(MAX_MERGE_ATTEMPTS):
            _pause(attempt)
            doc = self.docs.get(SCORED.name, key)
            if doc is None or doc.body.get("review_status") == status:
                return
            try:
                self.docs.put(SCORED.name, key, {**doc.body, "review_status": status}, if_version=doc.version)
                return
            except ConflictError:
                continue
        raise ConflictError(f"score {key} kept changing under the writer")

    def search_scored(self, query: Query) -> RecordPage[ScoredListing]:
        return self.scored.search(query)

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
            return self.cases.create(case), True
        except ConflictError:
            current = self.get_case(case.case_id)
            if current is None:  # deleted between the two calls
                raise
            return current, False

    def open_cases(self, cases: Sequence[Case]) -> list[tuple[Versioned[Case], bool]]:
        """`open_case` for many in one bulk write: each case as stored, and whether it was created now."""
        if not cases:
            return []
        results = self.cases.create_many(cases)
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
        return self.cases.get_versioned(case_id)

    def get_cases(self, case_ids: Sequence[str]) -> dict[str, Versioned[Case]]:
        """Cases by id in one round trip; by id, so a case written a moment ago is already there."""
        return self.cases.get_many_versioned(case_ids)

    def case_states(self, case_ids: Sequence[str]) -> dict[str, tuple[CaseState, str]]:
        """(state, review status) of cases by id: what a queue row shows, without reading each whole case."""
        bodies = self.cases.get_bodies(case_ids)
        return {case_id: (CaseState(body["state"]), _status_of(body)) for case_id, body in bodies.items()}

    def save_case(self, case: Case, version: str) -> Versioned[Case]:
        """Write a changed case only if nobody changed it since `version`; else ConflictError."""
        return self.cases.put(case, if_version=version)

    def search_cases(self, query: Query) -> RecordPage[Case]:
        return self.cases.search(query)

    # Crawl runs -----------------------------------------------------------------------------

    def put_crawl_run(self, run: CrawlRun) -> None:
        self.crawl_runs.put(run)

    def search_crawl_runs(self, query: Query) -> RecordPage[CrawlRun]:
        return self.crawl_runs.search(query)

    # API keys -------------------------------------------------------------------------------

    def put_api_key(
        self, raw_key: str, name: str, role: str, scopes: Sequence[str] = (), owner_id: str | None = None
    ) -> ApiKey:
        key = ApiKey(hash_api_key(raw_key), name, role, list(scopes), owner_id, utcnow().isoformat())
        self.api_keys.put(key)
        return key

    def find_api_key(self, raw_key: str) -> ApiKey | None:
        """The key, revoked or not: the caller decides (authentication refuses revoked ones)."""
        return self.api_keys.get(hash_api_key(raw_key))

    def get_api_key(self, key_hash: str) -> ApiKey | None:
        return self.api_keys.get(key_hash)

    def list_api_keys(self, size: int = 100, offset: int = 0, role: str | None = None) -> tuple[list[ApiKey], int]:
        query = Query(filters={"role": role} if role else {}, sort=[("name", "asc")], size=size, offset=offset)
        page = self.api_keys.search(query)
        return page.items, page.total

    def revoke_api_key(self, key_hash: str, by: str) -> ApiKey | None:
        """Mark a key revoked (kept, so the record of who had it stays); None when there is no such key."""
        key = self.api_keys.get(key_hash)
        if key is not None and key.revoked_at is None:
            key = dataclasses.replace(key, revoked_at=utcnow().isoformat(), revoked_by=by)
            self.api_keys.put(key)
        return key


def _pause(attempt: int) -> None:
    # Writers that lost a race and retry at once tend to collide again; a random pause spreads them out.
    if attempt:
        time.sleep(random.uniform(0, min(0.25, 0.005 * 2**attempt)))


def _status_of(body: dict[str, Any] | None) -> str:
    """The review status a case gives its score; "new" when there is no case yet."""
    if body is None:
        return "new"
    history = body.get("history") or []
    return review_status(CaseState(body["state"]), Transition.model_validate(history[-1]) if history else None)


def _scored(stored: dict[str, Any]) -> ScoredListing:
    # The document keeps its listing's key and its case's review status beside the score, for the queue's filters.
    body = dict(stored)
    body.pop("listing_key", None)
    body.pop("review_status", None)
    return ScoredListing.model_validate(body)
