"""Two classifier workers in one consumer group share the raw topic's partitions.

Each worker has its own bus client and store connection, as separate processes would, and
polls from its own thread (kafka-python 3.0.12 mishandles a rebalance when one thread polls
several group members). Every listing must be scored, each case opened once, and both workers
must get work. Runs on the embedded bus always, and on Kafka when KCNGUARD_TEST_KAFKA is set.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest

from classifier.model import TrainedModel
from classifier.seed_data import seed_brands
from classifier.service import GROUP, build_handler
from classifier.training.fit import train_seed
from kcnguard.bus import Bus
from kcnguard.bus.embedded import EmbeddedBus
from kcnguard.bus.worker import RecordWorker
from kcnguard.records import CaseEvent, Listing
from kcnguard.settings import Settings
from kcnguard.store import Query, Store
from kcnguard.store.sqlite import SqliteDocumentStore
from kcnguard.topics import CASE_EVENTS, RAW_LISTINGS
from tests.conftest import kafka_url

LISTINGS = 80
WAVE = 10
DEADLINE_SECONDS = 90.0
TITLES = [
    "Giày Lotus Step Runner rep 1:1 full box",
    "Giày Lotus Step Runner chính hãng",
    "Đồng hồ Mekong Watch siêu cấp",
    "Ốp lưng cho Kira Phone X2",
]


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return train_seed()


def open_test_bus(backend: str, tmp_path: Path, namespace: str) -> Bus:
    if backend == "embedded":
        return EmbeddedBus(tmp_path / "bus.sqlite3", namespace=namespace, retention_hours=24, session_timeout=5.0)
    from kcnguard.bus.kafka import KafkaBus

    url = kafka_url()
    assert url is not None
    return KafkaBus(url.split("://", 1)[1].rstrip("/"), namespace=namespace)


def listing(number: int) -> Listing:
    title = f"{TITLES[number % len(TITLES)]} mẫu {number}"
    return Listing(
        marketplace="shopee",
        listing_id=f"scale{number}",
        url=f"https://shopee.vn/i/scale{number}",
        title=title,
        price=150_000 + number,
        seller={"id": f"shop{number % 7}"},
        evidence_digest=hashlib.sha256(title.encode()).hexdigest(),
    )


@pytest.mark.parametrize("backend", ["embedded", "kafka"])
def test_two_workers_share_the_partitions(backend: str, tmp_path: Path, namespace: str, trained) -> None:
    if backend == "kafka" and not kafka_url():
        pytest.skip("set KCNGUARD_TEST_KAFKA=kafka://host:9092 to run the scale-out test on Kafka")
    admin_bus = open_test_bus(backend, tmp_path, namespace)
    admin_bus.ensure_topics()
    admin_store = Store(SqliteDocumentStore(tmp_path / "store.sqlite3", namespace=namespace))
    admin_store.setup()
    for brand in seed_brands():
        admin_store.put_brand(brand)
    settings = Settings(data_dir=tmp_path / "data", namespace=namespace)

    stop = threading.Event()
    workers: list[RecordWorker] = []
    resources: list[tuple[Bus, Store]] = []
    for number in range(2):
        bus = open_test_bus(backend, tmp_path, namespace)
        store = Store(SqliteDocumentStore(tmp_path / "store.sqlite3", namespace=namespace))
        resources.append((bus, store))
        handler = build_handler(store, bus, settings, trained)
        workers.append(
            RecordWorker(
                bus,
                GROUP,
                RAW_LISTINGS,
                handler,
                name=f"classifier-{number}",
                batch_size=5,
                poll_seconds=0.2,
                stop=stop,
            )
        )
    threads = [threading.Thread(target=w.run, name=w.name) for w in workers]
    for thread in threads:
        thread.start()
    expected = [listing(n) for n in range(LISTINGS)]
    try:
        # Published in waves while the group forms, so that work is there whenever a member gets partitions.
        deadline = time.monotonic() + DEADLINE_SECONDS
        for start in range(0, LISTINGS, WAVE):
            wave = expected[start : start + WAVE]
            admin_bus.publish_records(RAW_LISTINGS, wave, keys=[x.key for x in wave])
            admin_bus.flush()
            time.sleep(0.3)
        while time.monotonic() < deadline:
            admin_store.refresh()
            if admin_store.search_listings(Query(size=0)).total >= LISTINGS:
                break
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        for bus, store in resources:
            bus.close()
            store.close()

    admin_store.refresh()
    stored = {x.key for x in admin_store.search_listings(Query(size=LISTINGS * 2)).items}
    assert stored == {x.key for x in expected}
    handled = [w.stats.handled for w in workers]
    assert all(n > 0 for n in handled), f"both workers should get work, got {handled}"
    # At least once: a rebalance may hand a batch to the other worker, which handles it idempotently.
    assert sum(handled) >= LISTINGS and sum(w.stats.dead_lettered for w in workers) == 0
    flagged = admin_store.search_scored(Query(filters={"flagged": True}, size=LISTINGS * 2)).items
    cases = admin_store.search_cases(Query(size=LISTINGS * 2)).items
    # One case per flagged score, whichever worker (or both, after a rebalance) scored it.
    assert flagged and sorted((c.listing_key, c.brand_id) for c in cases) == sorted(
        (s.listing.key, s.brand_id) for s in flagged
    )
    events: list[CaseEvent] = []
    with admin_bus.subscribe("t-events", [CASE_EVENTS]) as consumer:
        for _ in range(50):
            batch = consumer.poll(500, 0.5)
            if not batch and len({e.case_id for e in events}) >= len(cases):
                break
            events += [CaseEvent.model_validate_json(m.value) for m in batch]
    assert {e.case_id for e in events if e.kind == "opened"} == {c.case_id for c in cases}
    admin_bus.close()
    admin_store.close()
