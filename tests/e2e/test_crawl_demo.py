"""End to end: the demo marketplace on a free port, the crawler service in its own process, the embedded bus.

The crawler runs as `kcnguard crawler` would (Twisted's reactor runs once per process, so a
subprocess), takes one job from the bus, and is stopped with SIGINT like an operator would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from demo.marketplace import create_app
from kcnguard.bus import Bus, open_bus
from kcnguard.records import CrawlJob, DeadLetter, Listing
from kcnguard.store import Query, Store, open_document_store
from kcnguard.topics import CRAWL_JOBS, DEAD_LETTER, RAW_LISTINGS

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 25.0


@pytest.fixture
def demo_url() -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(5)
    sock.close()


def _read_all(bus: Bus, topic: object, want: int) -> list[bytes]:
    values: list[bytes] = []
    deadline = time.monotonic() + DEADLINE
    with bus.subscribe("e2e-reader", [topic]) as consumer:  # type: ignore[list-item]
        while len(values) < want and time.monotonic() < deadline:
            values.extend(m.value for m in consumer.poll(500, timeout=0.5))
    return values


def test_crawler_service_crawls_the_demo_marketplace(tmp_path: Path, namespace: str, demo_url: str) -> None:
    env = {
        **os.environ,
        "KCNGUARD_DATA_DIR": str(tmp_path),
        "KCNGUARD_BUS_URL": f"embedded://{tmp_path}/bus.sqlite3",
        "KCNGUARD_STORE_URL": f"sqlite://{tmp_path}/store.sqlite3",
        "KCNGUARD_NAMESPACE": namespace,
        "KCNGUARD_DEMO_URL": demo_url,
        "KCNGUARD_WORKER_POLL_SECONDS": "0.2",
        "KCNGUARD_LOG_LEVEL": "INFO",
    }
    bus = open_bus(env["KCNGUARD_BUS_URL"], namespace=namespace)
    bus.ensure_topics()
    job = CrawlJob(
        job_id=CrawlJob.make_id("vinastep", "demo", "Vinastep", "e2e"),
        brand_id="vinastep",
        marketplace="demo",
        query="Vinastep",
        max_pages=3,
    )
    # The same job twice (a re-sent slot) and one broken job message: crawled once, broken one quarantined.
    bus.publish_records(CRAWL_JOBS, [job, job], keys=[job.job_id, job.job_id])
    bus.publish(CRAWL_JOBS, b'{"job_id": "oops"}')
    bus.flush()

    log_path = tmp_path / "crawler.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "launcher.cli", "crawler"], cwd=ROOT, env=env, stdout=log_file, stderr=log_file
        )
        try:
            raw_listings = _read_all(bus, RAW_LISTINGS, want=14)
            raw_letters = _read_all(bus, DEAD_LETTER, want=2)
            store = Store(open_document_store(env["KCNGUARD_STORE_URL"], namespace=namespace))
            runs = []
            deadline = time.monotonic() + DEADLINE
            while time.monotonic() < deadline:
                runs = store.search_crawl_runs(Query(filters={"job_id": job.job_id})).items
                if runs and runs[0].status == "done":
                    break
                time.sleep(0.2)
            store.close()
        finally:
            process.send_signal(signal.SIGINT)
            code = process.wait(15)
    log = log_path.read_text(errors="replace")
    assert code == 0, log

    listings = [Listing.model_validate_json(v) for v in raw_listings]
    keys = {listing.key for listing in listings}
    # 15 search hits for "Vinastep" over two pages; br-001 has no price and is quarantined instead.
    assert len(keys) == 14, log
    assert {"demo:vs-001", "demo:vs-005", "demo:vs-015"} <= keys and "demo:br-001" not in keys
    assert all(listing.crawl_job_id == job.job_id and listing.query_brand_id == "vinastep" for listing in listings)
    assert len(listings) == 14, "the re-sent job was crawled twice"
    official = next(listing for listing in listings if listing.listing_id == "vs-001")
    assert official.seller.official and official.price == 1290000

    letters = [DeadLetter.model_validate_json(v) for v in raw_letters]
    by_source = {letter.source: letter for letter in letters}
    page = by_source["crawl"]
    assert page.url == f"{demo_url}/product/br-001" and page.reason.startswith("price not found")
    assert b"br-001" in page.raw and page.evidence_digest
    assert "not a valid CrawlJob" in by_source["crawl-jobs"].reason

    assert runs and runs[0].status == "done", log
    assert (runs[0].listings, runs[0].quarantined, runs[0].pages) == (14, 1, 17)
    assert "crawler: stopped" in log
    bus.close()
