"""The spider, pipelines and settings, driven without a reactor: callbacks on demo-app responses."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler
from starlette.testclient import TestClient

from crawler.middlewares import BackoffRetryMiddleware
from crawler.pipelines import DeadLetterPipeline, ListingPipeline
from crawler.settings import scrapy_settings
from crawler.sink import BusSink, attach_sink, sink_of
from crawler.spiders import spider_for
from crawler.spiders.base import attach_evidence
from crawler.spiders.demo import DemoSpider
from demo.marketplace import create_app
from kcnguard.errors import BusUnavailable
from kcnguard.evidence import LocalEvidenceStore
from kcnguard.records import CrawlJob, DeadLetter, Listing
from kcnguard.settings import Settings

BASE = "http://demo.test"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(), base_url=BASE)


def _job(max_pages: int = 2, query: str = "Vinastep") -> CrawlJob:
    return CrawlJob(job_id="job-test-1", brand_id="vinastep", marketplace="demo", query=query, max_pages=max_pages)


def _spider(job: CrawlJob, evidence: LocalEvidenceStore | None = None) -> DemoSpider:
    crawler = get_crawler(DemoSpider)
    attach_evidence(crawler, evidence or LocalEvidenceStore(Path(tempfile.mkdtemp(prefix="evidence-"))))
    spider = DemoSpider.from_crawler(crawler, job=job, base_url=BASE + "/")
    crawler.spider = spider
    return spider


def _response(client: TestClient, url: str) -> HtmlResponse:
    got = client.get(url)
    return HtmlResponse(url=str(got.url), body=got.content, status=got.status_code, request=Request(str(got.url)))


class FakeSink:
    def __init__(self) -> None:
        self.listings: list[Listing] = []
        self.letters: list[DeadLetter] = []

    def listing(self, listing: Listing) -> None:
        self.listings.append(listing)

    def dead_letter(self, letter: DeadLetter) -> None:
        self.letters.append(letter)


class FakeBus:
    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.sent: list[tuple[str, list[Any], list[str | None]]] = []

    def publish_records(self, topic: Any, records: list[Any], keys: list[str | None]) -> None:
        if self.down:
            raise BusUnavailable("bus down for the test")
        self.sent.append((topic.name, records, keys))


def test_spider_registry_and_job_check() -> None:
    assert spider_for("demo") is DemoSpider and spider_for("shopee-vn") is None
    with pytest.raises(ValueError, match="not demo"):
        DemoSpider(job=_job().model_copy(update={"marketplace": "other"}), base_url=BASE)


def test_start_requests_the_first_search_page() -> None:
    spider = _spider(_job(query="Sen Hồng"))

    async def collect() -> list[Any]:
        return [r async for r in spider.start()]

    requests = asyncio.run(collect())
    assert [r.url for r in requests] == [f"{BASE}/search?q=Sen+H%E1%BB%93ng&page=1"]


def test_search_callback_follows_products_and_stops_at_max_pages(client: TestClient) -> None:
    spider = _spider(_job(max_pages=1))
    out = list(spider.parse_search(_response(client, "/search?q=vinastep"), page=1))
    assert all(isinstance(r, scrapy.Request) for r in out)
    assert [r.callback for r in out] == [spider.parse_product] * 12
    spider = _spider(_job(max_pages=2))
    out = list(spider.parse_search(_response(client, "/search?q=vinastep"), page=1))
    assert out[-1].url == f"{BASE}/search?q=vinastep&page=2" and out[-1].cb_kwargs == {"page": 2}
    assert spider.crawler.stats.get_value("kcnguard/pages") == 1


def test_product_callback_yields_a_listing_for_the_job(client: TestClient, tmp_path: Path) -> None:
    evidence = LocalEvidenceStore(tmp_path)
    spider = _spider(_job(), evidence)
    response = _response(client, "/product/vs-004")
    [item] = list(spider.parse_product(response))
    assert isinstance(item, Listing)
    assert item.listing_id == "vs-004" and item.price == 289000
    assert item.crawl_job_id == "job-test-1" and item.query_brand_id == "vinastep"
    assert evidence.get(item.evidence_digest) == response.body


def test_broken_page_is_quarantined_with_reason_and_raw_bytes(client: TestClient, tmp_path: Path) -> None:
    evidence = LocalEvidenceStore(tmp_path)
    spider = _spider(_job(), evidence)
    response = _response(client, "/product/br-002")
    [item] = list(spider.parse_product(response))
    assert isinstance(item, DeadLetter)
    assert item.source == "crawl" and item.url == f"{BASE}/product/br-002"
    assert item.reason.startswith("price not found")
    assert item.raw == response.body and item.raw_size == len(response.body)
    assert item.evidence_digest and item.key == "job-test-1"
    assert evidence.get(item.evidence_digest) == response.body


def test_listing_pipeline_publishes_valid_and_quarantines_invalid(client: TestClient) -> None:
    sink = FakeSink()
    crawler = get_crawler(DemoSpider)
    listings, letters = ListingPipeline(sink, crawler.stats), DeadLetterPipeline(sink, crawler.stats)
    spider = _spider(_job())
    [good] = list(spider.parse_product(_response(client, "/product/vs-001")))
    assert letters.process_item(listings.process_item(good)) == good
    assert sink.listings == [good] and not sink.letters
    bad = good.model_copy(update={"price": -5})  # model_copy does not validate; the pipeline does
    out = letters.process_item(listings.process_item(bad))
    assert isinstance(out, DeadLetter) and "price" in out.reason and sink.letters == [out]
    assert sink.listings == [good]
    odd = letters.process_item({"not": "a record"})
    assert isinstance(odd, DeadLetter) and "dict" in odd.reason
    assert crawler.stats.get_value("kcnguard/listings") == 1
    assert crawler.stats.get_value("kcnguard/quarantined") == 2


def test_bus_sink_publishes_keyed_records_and_remembers_a_down_bus(client: TestClient) -> None:
    spider = _spider(_job())
    [listing] = list(spider.parse_product(_response(client, "/product/vs-001")))
    bus = FakeBus()
    sink = BusSink(bus)  # type: ignore[arg-type]
    sink.listing(listing)
    sink.dead_letter(DeadLetter.of(b"x", "why", source="crawl", url=f"{BASE}/product/br-001"))
    assert bus.sent == []  # records wait for a full batch or the end of the crawl
    sink.drain()
    assert [(t, k) for t, _, k in bus.sent] == [
        ("listings-raw", ["demo:vs-001"]),
        ("dead-letter", [f"{BASE}/product/br-001"]),
    ]
    assert (sink.listings, sink.quarantined, sink.error) == (1, 1, None)
    down = BusSink(FakeBus(down=True))  # type: ignore[arg-type]
    down.listing(listing)
    with pytest.raises(BusUnavailable):
        down.drain()
    assert isinstance(down.error, BusUnavailable)
    batched = BusSink(FakeBus(), batch=2)  # type: ignore[arg-type]
    batched.listing(listing)
    batched.listing(listing)
    assert [len(records) for _, records, _ in batched.bus.sent] == [2]  # type: ignore[attr-defined]


def test_pipelines_need_a_sink() -> None:
    crawler = get_crawler(DemoSpider)
    with pytest.raises(RuntimeError, match="no item sink"):
        sink_of(crawler)
    sink = FakeSink()
    attach_sink(crawler, sink)
    assert ListingPipeline.from_crawler(crawler).sink is sink


def test_scrapy_settings_follow_kcnguard_settings() -> None:
    built = scrapy_settings(
        Settings(crawl_obey_robots=False, crawl_concurrency_per_domain=3, user_agent="TestBot/1", log_level="warning")
    )
    # One marketplace that obeys robots.txt turns Scrapy's middleware on; the others opt out per request.
    assert scrapy_settings(Settings(crawl_obey_robots=False, crawl_robots_overrides="tiki=true"))["ROBOTSTXT_OBEY"]
    assert built["ROBOTSTXT_OBEY"] is False and built["CONCURRENT_REQUESTS_PER_DOMAIN"] == 3
    assert built["USER_AGENT"] == "TestBot/1" and built["LOG_LEVEL"] == "WARNING"
    assert built["AUTOTHROTTLE_ENABLED"] and not built["HTTPCACHE_ENABLED"] and not built["TELNETCONSOLE_ENABLED"]
    assert {429, 500, 503} <= set(built["RETRY_HTTP_CODES"]) and built["DOWNLOAD_TIMEOUT"] > 0
    assert built["DOWNLOADER_MIDDLEWARES"]["crawler.middlewares.BackoffRetryMiddleware"]


def test_retry_backoff_grows_and_respects_retry_after() -> None:
    middleware = BackoffRetryMiddleware(get_crawler(DemoSpider, {"KCNGUARD_RETRY_MAX_DELAY": 10.0}).settings)
    assert [middleware.delay(n, None) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert middleware.delay(1, b"3") == 3.0
    assert middleware.delay(1, b"3600") == 10.0
    assert middleware.delay(2, b"Wed, 21 Oct 2015 07:28:00 GMT") == 2.0
