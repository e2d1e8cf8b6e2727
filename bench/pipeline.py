"""Listings per second from the raw-listings topic through the classifier into the store.

For each backend pair (embedded: SQLite queue + SQLite store; distributed: Kafka + Elasticsearch)
it publishes N synthetic listings once, then measures in the same run:
  - the raw limit: plain consume from the same topic + plain bulk index of the JSON into the
    same store (no decoding, no scoring, no history merge);
  - the pipeline: the classifier's real worker loop (decode, validate, upsert with history,
    score, write scores, open cases, publish events, commit).
The ratio pipeline / raw says how much of the backends' speed the pipeline keeps.

    python -m bench.pipeline [--n 20000] [--kafka kafka://127.0.0.1:9092 --es elasticsearch://127.0.0.1:9200]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.results import write_result
from kcnguard.bus import open_bus
from kcnguard.bus.worker import RecordWorker
from kcnguard.records import Listing, Seller
from kcnguard.settings import Settings
from kcnguard.store import Write, open_document_store
from kcnguard.store.repository import Store
from kcnguard.topics import RAW_LISTINGS

WORDS = ["chính hãng", "rep 1:1", "siêu cấp", "giá tốt", "freeship", "hàng mới", "like auth", "ốp lưng cho", "sale"]


def synthetic_listings(n: int, brands: list, seed: int = 7) -> list[Listing]:
    """The project's own synthetic listings, shaped like the demo marketplace's."""
    rnd = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        brand = brands[i % len(brands)]
        ref = brand.min_reference_price_vnd or 500_000
        out.append(
            Listing(
                marketplace="demo",
                listing_id=f"bench-{i}",
                url=f"http://127.0.0.1:8800/product/bench-{i}",
                title=f"{brand.name} {rnd.choice(WORDS)} mẫu {i % 97} {rnd.choice(WORDS)}",
                price=float(int(ref * rnd.uniform(0.1, 1.3)) // 1000 * 1000),
                seller=Seller(id=f"s{i % 300}", name=f"Shop {i % 300}", official=i % 11 == 0),
                sold_count=rnd.randint(0, 5000),
                captured_at=start + timedelta(seconds=i),
                evidence_digest=hashlib.sha256(f"bench-{i}".encode()).hexdigest(),
                query_brand_id=brand.brand_id,
            )
        )
    return out


def measure(label: str, bus_url: str, store_url: str, n: int, work: Path) -> dict:
    from classifier.service import build_handler
    from demo.catalogue import load_brands

    ns = "bench" + uuid.uuid4().hex[:8]
    settings = Settings(data_dir=work, bus_url=bus_url, store_url=store_url, namespace=ns)
    brands = load_brands()
    bus = open_bus(bus_url, namespace=ns, data_dir=work)
    bus.ensure_topics()
    store = Store(open_document_store(store_url, namespace=ns, data_dir=work))
    store.setup()
    for brand in brands:
        store.put_brand(brand)
    store.refresh()
    raw_docs = open_document_store(store_url, namespace=ns + "raw", data_dir=work)
    raw_docs.setup()

    listings = synthetic_listings(n, brands)
    t = time.perf_counter()
    for i in range(0, n, 1000):
        bus.publish_records(RAW_LISTINGS, listings[i : i + 1000], [x.key for x in listings[i : i + 1000]])
    bus.flush()
    publish_s = time.perf_counter() - t

    # Raw limit: the same messages, consumed and bulk-indexed as plain JSON.
    t = time.perf_counter()
    seen = 0
    with bus.subscribe("bench-raw", [RAW_LISTINGS]) as consumer:
        while seen < n:
            batch = consumer.poll(500, 2.0)
            if not batch:
                continue
            writes = [Write(m.key.decode() if m.key else str(m.offset), json.loads(m.value)) for m in batch]
            raw_docs.bulk_write("listings", writes)
            consumer.commit(batch)
            seen += len(batch)
    raw_s = time.perf_counter() - t

    # The pipeline: the classifier's own worker loop and handler.
    handler = build_handler(store, bus, settings)
    worker = RecordWorker(bus, "classifier", RAW_LISTINGS, handler, name="bench", batch_size=500, poll_seconds=2.0)
    t = time.perf_counter()
    while worker.stats.handled + worker.stats.dead_lettered < n:
        worker.run_once()
    pipeline_s = time.perf_counter() - t
    worker.close()
    store.refresh()
    flagged = store.flagged(size=0).total

    for docs in (store.docs, raw_docs):
        docs.close()
    bus.close()
    return {
        "backend": label,
        "n": n,
        "publish_per_s": round(n / publish_s),
        "raw_limit_per_s": round(n / raw_s),
        "pipeline_per_s": round(n / pipeline_s),
        "ratio": round(raw_s / pipeline_s, 3),
        "flagged": flagged,
        "dead_lettered": worker.stats.dead_lettered,
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--n-distributed", type=int, default=5_000)
    parser.add_argument("--kafka", default=os.environ.get("KCNGUARD_TEST_KAFKA"))
    parser.add_argument("--es", default=os.environ.get("KCNGUARD_TEST_ELASTICSEARCH"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="kcnguard-bench-") as tmp:
        rows.append(measure("embedded (SQLite queue + SQLite store)", "embedded://", "sqlite://", args.n, Path(tmp)))
        if args.kafka and args.es:
            rows.append(measure("Kafka + Elasticsearch (noida-db)", args.kafka, args.es, args.n_distributed, Path(tmp)))
    print(f"machine: {machine()}")
    print(f"{'backend':<42} {'n':>6} {'publish/s':>10} {'raw/s':>8} {'pipeline/s':>11} {'ratio':>6}")
    for r in rows:
        print(
            f"{r['backend']:<42} {r['n']:>6} {r['publish_per_s']:>10} {r['raw_limit_per_s']:>8} "
            f"{r['pipeline_per_s']:>11} {r['ratio']:>6}"
        )
    print(f"written {write_result('pipeline', {'machine': machine(), 'rows': rows})}")


if __name__ == "__main__":
    main()
