"""Classifier throughput with 1, 2, ... worker processes in one consumer group (embedded bus + SQLite store).

N synthetic listings are published once per run; then K worker processes (the real
`classifier.service` handler under RecordWorker) consume them as one group. The figure is
listings per second from the first poll until every listing is in the store, and how the
listings were shared between the workers.

    python -m bench.classifier_scaleout [--n 4000] [--workers 1 2] [--batch 200]

Scale-out pays where the cores are free: on a 2-core machine two workers compete with each
other (and with SQLite's single writer), so expect well under 2x there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import platform
import random
import tempfile
import time
import uuid
from pathlib import Path

from bench.results import RESULTS, write_result
from classifier.seed_data import seed_brands
from classifier.service import GROUP, build_handler
from classifier.training.default_model import ensure_current
from kcnguard.bus.embedded import EmbeddedBus
from kcnguard.bus.worker import RecordWorker
from kcnguard.records import Listing, Seller
from kcnguard.settings import Settings
from kcnguard.store import Query, Store
from kcnguard.store.sqlite import SqliteDocumentStore
from kcnguard.topics import RAW_LISTINGS

WORDS = ["chính hãng", "rep 1:1", "siêu cấp", "giá tốt", "freeship", "like auth", "ốp lưng cho", "sale", "nhái"]


def listings(n: int, seed: int = 11) -> list[Listing]:
    rnd = random.Random(seed)
    brands = seed_brands()
    out = []
    for i in range(n):
        brand = brands[i % len(brands)]
        title = f"{brand.name} {rnd.choice(WORDS)} mẫu {i % 97} {rnd.choice(WORDS)}"
        out.append(
            Listing(
                marketplace="bench",
                listing_id=f"scale-{i}",
                url=f"https://bench.invalid/scale-{i}",
                title=title,
                price=float(rnd.randint(50, 3000) * 1000),
                seller=Seller(id=f"s{i % 300}", name=f"Shop {i % 300}"),
                evidence_digest=hashlib.sha256(title.encode()).hexdigest(),
                query_brand_id=brand.brand_id,
            )
        )
    return out


def _worker(root: str, namespace: str, batch: int, stop: mp.Event, handled: mp.Queue) -> None:
    settings = Settings(data_dir=Path(root) / "data", namespace=namespace, worker_batch_size=batch)
    bus = EmbeddedBus(Path(root) / "bus.sqlite3", namespace=namespace, retention_hours=24, session_timeout=5.0)
    store = Store(SqliteDocumentStore(Path(root) / "store.sqlite3", namespace=namespace))
    worker = RecordWorker(
        bus, GROUP, RAW_LISTINGS, build_handler(store, bus, settings), batch_size=batch, poll_seconds=0.2
    )
    while not stop.is_set():
        worker.run_once()
    worker.close()
    handled.put(worker.stats.handled)
    bus.close()
    store.close()


def run(n: int, workers: int, batch: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as root:
        namespace = "b" + uuid.uuid4().hex[:8]
        ensure_current(Path(root) / "data", None)  # built once, before the clock starts
        bus = EmbeddedBus(Path(root) / "bus.sqlite3", namespace=namespace, retention_hours=24)
        bus.ensure_topics()
        store = Store(SqliteDocumentStore(Path(root) / "store.sqlite3", namespace=namespace))
        store.setup()
        for brand in seed_brands():
            store.put_brand(brand)
        items = listings(n)
        bus.publish_records(RAW_LISTINGS, items, keys=[x.key for x in items])
        bus.flush()
        ctx = mp.get_context("fork")
        stop, handled = ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=_worker, args=(root, namespace, batch, stop, handled)) for _ in range(workers)]
        started = time.perf_counter()
        for proc in procs:
            proc.start()
        while store.search_listings(Query(size=0)).total < n:
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
        stop.set()
        shares = sorted(handled.get(timeout=60) for _ in procs)
        for proc in procs:
            proc.join(timeout=60)
        bus.close()
        store.close()
    return {
        "workers": workers,
        "listings": n,
        "batch": batch,
        "seconds": round(elapsed, 2),
        "listings_per_second": round(n / elapsed, 1),
        "handled_per_worker": shares,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = [run(args.n, k, args.batch) for k in args.workers]
    machine = {"cores": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()}
    for result in results:
        print(json.dumps(result))
    print(f"machine: {machine['cores']} cores, Python {machine['python']}")
    print(f"written {write_result('classifier-scaleout', {'machine': machine, 'results': results}, args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
