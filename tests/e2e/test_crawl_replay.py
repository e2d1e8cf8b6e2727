"""End to end, offline: the real spiders against real marketplace payloads served by the replay server.

The crawler runs as `kcnguard crawler` (its own process: Twisted's reactor runs once per process)
with KCNGUARD_CRAWL_BASE_URLS pointing Tiki, Shopee, Lazada and Sendo at the replay server. The
manifests are built here at run time from ../shared/data (never copied into the repository);
the search envelopes around Tiki's and Lazada's saved items are ours, the items are real.
Three "days" of the same Tiki store are served in turn: the store's history grows, and a
re-check on the third day finds one product gone (404) and marks it removed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from crawler.offline.replay import Manifest, ReplayApp, load_manifest, running
from crawler.pages import lazada, sendo, shopee, tiki
from kcnguard.bus import Consumer, open_bus
from kcnguard.evidence import LocalEvidenceStore, digest_of
from kcnguard.records import CrawlJob, CrawlRun, Listing
from kcnguard.store import Query, Store, open_document_store
from kcnguard.topics import CRAWL_JOBS, RAW_LISTINGS

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 30.0
DAYS = ("2021-09-22", "2021-09-27", "2021-09-28")
GONE, KEPT = "74036862", "80143378"  # Zinus products on Tiki; GONE's price changed between the 22nd and the 27th
SHOPEE_ITEM = "85794847.3391609027"
ANTIBOT = {"error": 90309999, "is_customized": False, "is_login": False, "tracking_id": "e2e-0001"}


def _items(shared_data: Path, day: str) -> list[dict[str, Any]]:
    path = shared_data / f"tiki/seller-store-items/tiki__zinus-official-store__{day}.json"
    return json.loads(path.read_bytes())


def _day_manifest(shared_data: Path, folder: Path, day: str, removed: set[str]) -> Manifest:
    items = _items(shared_data, day)
    search = folder / f"tiki-search-{day}.json"
    search.write_text(json.dumps({"data": items, "paging": {"current_page": 1, "last_page": 1}}, ensure_ascii=False))
    routes: list[dict[str, Any]] = [{"path": "/api/v2/products", "query": {"q": "zinus"}, "file": str(search)}]
    for item in items:
        if str(item["id"]) in (GONE, KEPT) and str(item["id"]) not in removed:
            product = folder / f"tiki-product-{item['id']}-{day}.json"
            product.write_text(json.dumps(item, ensure_ascii=False))
            routes.append({"path": f"/api/v2/products/{item['id']}", "file": str(product)})
    lazada_items = json.loads((shared_data / "lazada/listitems-zinus-official-store-2021-09-22.json").read_bytes())
    catalog = folder / "lazada-catalog.json"
    catalog.write_text(
        json.dumps(
            {"mods": {"listItems": lazada_items}, "mainInfo": {"page": 1, "pageSize": 60, "totalResults": 56}},
            ensure_ascii=False,
        )
    )
    routes += [
        {"path": "/catalog/", "query": {"q": "zinus", "ajax": "true"}, "file": str(catalog)},
        {
            "path": "/api/v4/item/get",
            "query": {"itemid": "3391609027"},
            "file": str(shared_data / "shopee/api-v4-item-get-3391609027.json"),
        },
        {"path": "/api/v4/search/search_items", "query": {"keyword": "vinamilk"}, "body": ANTIBOT},
        {
            "path": "/web/products",
            "query": {"q": "cáp sạc", "page": "1"},
            "file": str(shared_data / "sendo/data__data.json"),
        },
    ]
    # robots.txt is fetched and obeyed by default; it forbids nothing the spiders ask for.
    return load_manifest({"robots": "User-agent: *\nDisallow: /checkout/\n", "routes": routes}, folder)


def _job(marketplace: str, query: str, slot: str, reason: str = "scheduled", brand: str = "zinus") -> CrawlJob:
    return CrawlJob(
        job_id=CrawlJob.make_id(brand, marketplace, query, f"e2e-{slot}"),
        brand_id=brand,
        marketplace=marketplace,
        query=query,
        max_pages=1,
        reason=reason,
    )


def _expected(module: Any, body: bytes) -> set[str]:
    return {listing.key for listing in module.parse(body, "http://x.test/").listings}


class Harness:
    def __init__(self, env: dict[str, str], namespace: str) -> None:
        self.bus = open_bus(env["KCNGUARD_BUS_URL"], namespace=namespace)
        self.bus.ensure_topics()
        self.store = Store(open_document_store(env["KCNGUARD_STORE_URL"], namespace=namespace))
        self.store.setup()
        self.reader: Consumer = self.bus.subscribe("e2e-reader", [RAW_LISTINGS])

    def send(self, jobs: list[CrawlJob]) -> None:
        self.bus.publish_records(CRAWL_JOBS, jobs, keys=[j.job_id for j in jobs])
        self.bus.flush()

    def runs(self, jobs: list[CrawlJob], log: Path) -> dict[str, CrawlRun]:
        deadline = time.monotonic() + DEADLINE
        found: dict[str, CrawlRun] = {}
        while time.monotonic() < deadline:
            for job in jobs:
                page = self.store.search_crawl_runs(Query(filters={"job_id": job.job_id}))
                if page.items and page.items[0].status != "running":
                    found[job.job_id] = page.items[0]
            if len(found) == len(jobs):
                return found
            time.sleep(0.1)
        pytest.fail(f"runs not finished in {DEADLINE}s: {found}\n{log.read_text(errors='replace')}")

    def listings(self, want: int) -> list[Listing]:
        """What the crawler published, upserted as the classifier's store write would."""
        got: list[Listing] = []
        deadline = time.monotonic() + DEADLINE
        while len(got) < want and time.monotonic() < deadline:
            got += [Listing.model_validate_json(m.value) for m in self.reader.poll(500, timeout=0.3)]
        self.store.upsert_listings(got)
        return got

    def close(self) -> None:
        self.reader.close()
        self.store.close()
        self.bus.close()


def test_spiders_crawl_real_payloads_offline_and_track_changes(
    tmp_path: Path, namespace: str, shared_data: Path
) -> None:
    folder = tmp_path / "replay"
    folder.mkdir()
    app = ReplayApp(_day_manifest(shared_data, folder, DAYS[0], set()))
    with running(app) as url:
        env = {
            **os.environ,
            "KCNGUARD_DATA_DIR": str(tmp_path),
            "KCNGUARD_BUS_URL": f"embedded://{tmp_path}/bus.sqlite3",
            "KCNGUARD_STORE_URL": f"sqlite://{tmp_path}/store.sqlite3",
            "KCNGUARD_NAMESPACE": namespace,
            "KCNGUARD_CRAWL_BASE_URLS": ",".join(f"{m}={url}" for m in ("tiki", "shopee", "lazada", "sendo")),
            "KCNGUARD_CRAWL_CONCURRENT_JOBS": "3",
            "KCNGUARD_WORKER_POLL_SECONDS": "0.2",
            "KCNGUARD_LOG_LEVEL": "INFO",
        }
        harness = Harness(env, namespace)
        log_path = tmp_path / "crawler.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "launcher.cli", "crawler"], cwd=ROOT, env=env, stdout=log_file, stderr=log_file
            )
            try:
                _crawl_three_days(app, harness, shared_data, folder, url, log_path)
            finally:
                process.send_signal(signal.SIGINT)
                code = process.wait(15)
                harness.close()
        assert code == 0, log_path.read_text(errors="replace")


def _crawl_three_days(app: ReplayApp, harness: Harness, shared_data: Path, folder: Path, url: str, log: Path) -> None:
    evidence = LocalEvidenceStore(log.parent / "evidence")

    # Day 1: four marketplaces, one of them answering with Shopee's anti-bot JSON.
    day1 = [
        _job("tiki", "zinus", DAYS[0]),
        _job("lazada", "zinus", DAYS[0]),
        _job("sendo", "cáp sạc", DAYS[0], brand="capsac"),
        _job("shopee", "vinamilk", DAYS[0], brand="vinamilk"),
        _job("shopee", SHOPEE_ITEM, DAYS[0], reason="recheck"),
    ]
    harness.send(day1)
    runs = harness.runs(day1, log)
    tiki_run, lazada_run, sendo_run, blocked_run, shopee_run = (runs[j.job_id] for j in day1)

    assert blocked_run.status == "blocked" and blocked_run.listings == 0, blocked_run
    assert blocked_run.reason and blocked_run.reason.startswith("shopee: anti-bot JSON (error 90309999) at ")
    assert f"{url}/api/v4/search/search_items?" in blocked_run.reason

    expected = {
        "tiki": _expected(tiki, (folder / f"tiki-search-{DAYS[0]}.json").read_bytes()),
        "lazada": _expected(lazada, (folder / "lazada-catalog.json").read_bytes()),
        "sendo": _expected(sendo, (shared_data / "sendo/data__data.json").read_bytes()),
        "shopee": _expected(shopee, (shared_data / "shopee/api-v4-item-get-3391609027.json").read_bytes()),
    }
    assert len(expected["tiki"]) == 31 and expected["shopee"] == {f"shopee:{SHOPEE_ITEM}"}
    for run, market in ((tiki_run, "tiki"), (lazada_run, "lazada"), (sendo_run, "sendo"), (shopee_run, "shopee")):
        assert run.status == "done" and run.listings == len(expected[market]) and run.quarantined == 0, run
    total = sum(len(keys) for keys in expected.values())
    listings = harness.listings(total)
    assert len(listings) == total and {x.key for x in listings} == set().union(*expected.values())
    by_job = {j.job_id: j for j in day1}
    for listing in listings:
        job = by_job[listing.crawl_job_id or ""]
        assert listing.marketplace == job.marketplace and listing.query_brand_id == job.brand_id
        # The raw response is kept, and it hashes to the listing's digest.
        assert digest_of(evidence.get(listing.evidence_digest)) == listing.evidence_digest
    assert "/robots.txt" in app.hits, "robots.txt was not fetched"
    first = harness.store.get_listing(f"tiki:{GONE}")
    assert first is not None and len(first.record.history) == 1

    # Day 2: the same Tiki search a few days later; the price history grows.
    app.load(_day_manifest(shared_data, folder, DAYS[1], set()))
    day2 = [_job("tiki", "zinus", DAYS[1])]
    harness.send(day2)
    assert harness.runs(day2, log)[day2[0].job_id].status == "done"
    harness.listings(31)
    second = harness.store.get_listing(f"tiki:{GONE}")
    assert second is not None and len(second.record.history) == 2
    prices = [o.price for o in second.record.history]
    day_prices = [next(i["price"] for i in _items(shared_data, d) if str(i["id"]) == GONE) for d in DAYS[:2]]
    assert prices == day_prices and prices[0] != prices[1]

    # Day 3: re-checks; one product is gone from Tiki (404), the other is still there.
    app.load(_day_manifest(shared_data, folder, DAYS[2], removed={GONE}))
    day3 = [_job("tiki", GONE, DAYS[2], reason="recheck"), _job("tiki", KEPT, DAYS[2], reason="recheck")]
    harness.send(day3)
    runs = harness.runs(day3, log)
    gone_run, kept_run = runs[day3[0].job_id], runs[day3[1].job_id]
    assert gone_run.status == "done" and gone_run.listings == 0 and "HTTP 404" in (gone_run.reason or ""), gone_run
    assert kept_run.status == "done" and kept_run.listings == 1, kept_run
    harness.listings(1)
    removed = harness.store.get_listing(f"tiki:{GONE}")
    assert removed is not None and removed.record.status == "removed"
    assert removed.record.removed_at is not None and removed.record.removed_at >= gone_run.started_at
    kept = harness.store.get_listing(f"tiki:{KEPT}")
    assert kept is not None and kept.record.status == "active" and len(kept.record.history) == 3
    assert f"/api/v2/products/{GONE}" in app.hits and f"/api/v2/products/{KEPT}" in app.hits
