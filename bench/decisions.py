"""Inspector decisions per second: bulk confirms through the real review service on the embedded store.

Each decision reads the listing's score and case, saves the case with its version (optimistic),
mirrors the review status onto the score, appends a hash-chained audit entry and queues the
CaseEvent in the outbox: the whole path `POST /v1/review/decisions` takes, minus HTTP.
Also: audit appends per second, and the time to verify the whole chain.

    python -m bench.decisions [--n 500] [--batches 4]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from api.auth.enums import ROLE_SCOPES, Role
from api.auth.models import Principal
from api.review import service as review
from kcnguard.cases import audit
from kcnguard.records import Brand, Case, Listing, ScoredListing, Seller
from kcnguard.store import open_store


def _scored(i: int) -> ScoredListing:
    listing = Listing(
        marketplace="demo",
        listing_id=f"x{i}",
        url=f"https://demo.example/item/x{i}",
        title=f"Sữa Acme giá sốc {i}",
        price=9000,
        seller=Seller(id=f"s{i % 50}", name="Shop"),
        captured_at=datetime(2024, 5, 1, tzinfo=UTC),
        evidence_digest=hashlib.sha256(str(i).encode()).hexdigest(),
    )
    return ScoredListing(
        listing=listing, brand_id="sua-acme", score=0.9, flagged=True, threshold=0.5, model_version="bench"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="decisions per bulk request (the API's cap is 500)")
    parser.add_argument("--batches", type=int, default=4)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="kcnguard-bench-decisions-"))
    store = open_store(f"sqlite:///{folder}/store.db", namespace="bench" + uuid.uuid4().hex[:6])
    store.setup()
    store.put_brand(Brand(brand_id="sua-acme", owner_id="acme", owner_name="Acme", name="Sữa Acme"))
    total = args.n * args.batches
    items = [_scored(i) for i in range(total)]
    store.upsert_listings([s.listing for s in items])
    for s in items:
        store.open_case(Case.open_for(s.listing.key, s.brand_id, s.score, "classifier"))
    store.put_scored(items)
    store.refresh()
    inspector = Principal("bench", Role.INSPECTOR, ROLE_SCOPES[Role.INSPECTOR])

    timings = []
    for b in range(args.batches):
        keys = [s.key for s in items[b * args.n : (b + 1) * args.n]]
        start = time.perf_counter()
        out = review.decide(store, inspector, keys, "confirm", "bench")
        timings.append(time.perf_counter() - start)
        assert out.done == len(keys), out.failed
    start = time.perf_counter()
    result = audit.verify(store)
    verify_seconds = time.perf_counter() - start
    assert result.ok and result.entries == total

    cpu = platform.processor() or platform.machine()
    print(f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}")
    per_second = [args.n / t for t in timings]
    print(
        f"bulk decisions ({args.n} per request, {args.batches} requests): "
        f"{min(per_second):.0f}-{max(per_second):.0f} decisions/s, {max(timings):.2f} s for the slowest request"
    )
    print(f"audit verify: {result.entries} entries in {verify_seconds:.2f} s ({result.entries / verify_seconds:.0f}/s)")
    store.close()


if __name__ == "__main__":
    main()
