"""The marketplace spider driven without a reactor: its requests, and its callbacks on real saved responses."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.http import Request, TextResponse
from scrapy.utils.test import get_crawler

from crawler.items import PageListings
from crawler.middlewares import BlockDetectionMiddleware, Blocked, ProxyMiddleware
from crawler.settings import base_url_override, headers_for, obeys_robots, pairs, scrapy_settings
from crawler.spiders import spider_for
from crawler.spiders.base import attach_evidence
from crawler.spiders.market import MarketSpider
from kcnguard.evidence import LocalEvidenceStore
from kcnguard.records import CrawlJob, DeadLetter, Listing
from kcnguard.settings import Settings

BASE = "http://replay.test"


def _job(marketplace: str, query: str, reason: str = "scheduled", max_pages: int = 2) -> CrawlJob:
    return CrawlJob(
        job_id=f"job-{marketplace}-1",
        brand_id="zinus",
        marketplace=marketplace,
        query=query,
        max_pages=max_pages,
        reason=reason,
    )


def _spider(job: CrawlJob, evidence: LocalEvidenceStore, base_url: str = BASE, robots: bool = True) -> MarketSpider:
    cls = spider_for(job.marketplace)
    assert cls is not None and issubclass(cls, MarketSpider)
    crawler = get_crawler(cls)
    attach_evidence(crawler, evidence)
    spider = cls.from_crawler(crawler, job=job, base_url=base_url, robots=robots)
    crawler.spider = spider
    return spider


def _first_requests(spider: MarketSpider) -> list[scrapy.Request]:
    async def collect() -> list[Any]:
        return [r async for r in spider.start()]

    return asyncio.run(collect())


def _flat(out: Any) -> list[Any]:
    """Callback output with each page's listings (one PageListings item) spread out."""
    items: list[Any] = []
    for item in out:
        items.extend(item.listings if isinstance(item, PageListings) else [item])
    return items


def _response(url: str, body: bytes, status: int = 200) -> TextResponse:
    return TextResponse(url=url, body=body, status=status, request=Request(url), encoding="utf-8")


@pytest.fixture
def evidence(tmp_path: Path) -> LocalEvidenceStore:
    return LocalEvidenceStore(tmp_path / "evidence")


def test_every_parser_module_has_a_spider() -> None:
    for slug in ("tiki", "shopee", "lazada", "sendo"):
        cls = spider_for(slug)
        assert cls is not None and cls.marketplace == slug and cls.name == slug


def test_search_job_asks_for_the_first_page_with_the_marketplace_headers(evidence: LocalEvidenceStore) -> None:
    [request] = _first_requests(_spider(_job("shopee", "sữa vinamilk"), evidence))
    assert request.url.startswith(f"{BASE}/api/v4/search/search_items?") and "keyword=s%E1%BB%AFa" in request.url
    assert request.headers[b"X-API-SOURCE"] == b"pc" and request.headers[b"Referer"] == f"{BASE}/".encode()
    assert "dont_obey_robotstxt" not in request.meta
    [request] = _first_requests(_spider(_job("shopee", "x"), evidence, robots=False))
    assert request.meta["dont_obey_robotstxt"] is True


def test_without_an_override_the_parser_s_own_site_is_used(evidence: LocalEvidenceStore) -> None:
    [request] = _first_requests(_spider(_job("tiki", "zinus"), evidence, base_url=""))
    assert request.url.startswith("https://tiki.vn/api/v2/products?")
    assert request.headers[b"Referer"] == b"https://tiki.vn/"


def test_recheck_job_asks_for_the_item_and_sees_404_itself(evidence: LocalEvidenceStore) -> None:
    spider = _spider(_job("shopee", "85794847.3391609027", reason="recheck"), evidence)
    [request] = _first_requests(spider)
    assert request.url == f"{BASE}/api/v4/item/get?itemid=3391609027&shopid=85794847"
    assert request.meta["handle_httpstatus_list"] == [404, 410] and request.cb_kwargs == {
        "listing_id": "85794847.3391609027"
    }
    bad = _spider(_job("shopee", "not-an-id", reason="recheck"), evidence)
    assert _first_requests(bad) == [] and "not-an-id" in bad.outcome.failures[0]


def test_search_page_yields_listings_for_the_job_keeps_evidence_and_follows(
    shared_data: Path, evidence: LocalEvidenceStore
) -> None:
    items = json.loads(
        (shared_data / "tiki/seller-store-items/tiki__zinus-official-store__2021-09-22.json").read_bytes()
    )
    body = json.dumps({"data": items, "paging": {"current_page": 1, "last_page": 3}}).encode()
    spider = _spider(_job("tiki", "zinus", max_pages=2), evidence)
    url = f"{BASE}/api/v2/products?limit=40&include=advertisement&q=zinus&page=1"
    out = list(spider.parse_search(_response(url, body), page=1))
    assert sum(isinstance(x, PageListings) for x in out) == 1  # one item per page, not one per listing
    out = _flat(out)
    listings = [x for x in out if isinstance(x, Listing)]
    follow = [x for x in out if isinstance(x, scrapy.Request)]
    assert len(listings) == 31 and all(x.crawl_job_id == "job-tiki-1" and x.query_brand_id == "zinus" for x in listings)
    assert {x.evidence_digest for x in listings} == {listings[0].evidence_digest}
    assert evidence.get(listings[0].evidence_digest) == body
    assert [r.url for r in follow] == [url.replace("page=1", "page=2")] and follow[0].cb_kwargs == {"page": 2}
    # At max_pages the next page is not followed.
    assert not [x for x in spider.parse_search(_response(url, body), page=2) if isinstance(x, scrapy.Request)]


def test_unparseable_response_is_quarantined_with_evidence_and_the_spider_goes_on(evidence: LocalEvidenceStore) -> None:
    spider = _spider(_job("tiki", "zinus"), evidence)
    body = b'{"unexpected": true}'
    [letter] = list(spider.parse_search(_response(f"{BASE}/api/v2/products?q=zinus&page=1", body), page=1))
    assert isinstance(letter, DeadLetter) and letter.reason.startswith("data not found")
    assert evidence.get(letter.evidence_digest or "") == body and letter.key == "job-tiki-1"


def test_links_to_the_real_site_are_moved_to_the_override(evidence: LocalEvidenceStore) -> None:
    spider = _spider(_job("tiki", "zinus"), evidence)
    assert spider.rebase("https://tiki.vn/p/x-p1.html?spid=2") == f"{BASE}/p/x-p1.html?spid=2"
    assert spider.rebase("https://salty.vn/x") == "https://salty.vn/x"
    assert _spider(_job("tiki", "z"), evidence, base_url="").rebase("https://tiki.vn/a") == "https://tiki.vn/a"


def test_recheck_sees_the_listing_again_or_marks_it_gone(shared_data: Path, evidence: LocalEvidenceStore) -> None:
    body = (shared_data / "shopee/api-v4-item-get-3391609027.json").read_bytes()
    spider = _spider(_job("shopee", "85794847.3391609027", reason="recheck"), evidence)
    url = f"{BASE}/api/v4/item/get?itemid=3391609027&shopid=85794847"
    [listing] = _flat(spider.parse_item(_response(url, body), listing_id="85794847.3391609027"))
    assert isinstance(listing, Listing) and listing.key == "shopee:85794847.3391609027" and not spider.outcome.removals

    gone = b'{"error": 4, "error_msg": null, "data": null}'
    assert list(spider.parse_item(_response(url, gone), listing_id="85794847.3391609027")) == []
    assert evidence.exists(listing.evidence_digest) and len(spider.outcome.removals) == 1
    removal = spider.outcome.removals[0]
    assert removal.key == "shopee:85794847.3391609027" and "error 4" in removal.reason

    tiki = _spider(_job("tiki", "74036862", reason="recheck"), evidence)
    not_found = b'{"error": {"code": 404, "message": "Product not found"}}'
    assert list(tiki.parse_item(_response(f"{BASE}/api/v2/products/74036862", not_found, 404), "74036862")) == []
    assert [r.key for r in tiki.outcome.removals] == ["tiki:74036862"] and "404" in tiki.outcome.removals[0].reason
    assert tiki.report().pages == 1 and tiki.report().verdict() == ("done", "tiki:74036862 gone: HTTP 404 not found")


def test_block_middleware_stops_the_job_with_the_reason(evidence: LocalEvidenceStore) -> None:
    spider = _spider(_job("shopee", "vinamilk"), evidence)
    middleware = BlockDetectionMiddleware.from_crawler(spider.crawler)
    url = f"{BASE}/api/v4/search/search_items?keyword=vinamilk"
    ok = _response(url, b'{"items": [], "nomore": true}')
    assert asyncio.run(middleware.process_response(Request(url), ok)) is ok
    captcha = _response(url, b'{"error": 90309999, "is_customized": false, "tracking_id": "x"}')
    with pytest.raises(Blocked, match="anti-bot JSON"):
        asyncio.run(middleware.process_response(Request(url), captcha))
    assert spider.outcome.blocks == [f"shopee: anti-bot JSON (error 90309999) at {url}"]
    assert spider.report().verdict() == ("blocked", spider.outcome.blocks[0])
    assert spider.crawler.stats.get_value("kcnguard/blocked") == 1
    assert evidence.exists(__import__("hashlib").sha256(captcha.body).hexdigest())


def test_proxy_is_set_on_requests_unless_they_name_their_own() -> None:
    middleware = ProxyMiddleware("http://proxy.local:3128")
    plain, own = Request("https://tiki.vn/"), Request("https://tiki.vn/", meta={"proxy": "http://other:1"})
    asyncio.run(middleware.process_request(plain))
    asyncio.run(middleware.process_request(own))
    assert plain.meta["proxy"] == "http://proxy.local:3128" and own.meta["proxy"] == "http://other:1"
    with_proxy = scrapy_settings(Settings(crawl_proxy="http://proxy.local:3128"))
    assert with_proxy["DOWNLOADER_MIDDLEWARES"]["crawler.middlewares.ProxyMiddleware"] == 740
    assert "crawler.middlewares.ProxyMiddleware" not in scrapy_settings(Settings())["DOWNLOADER_MIDDLEWARES"]


def test_per_marketplace_settings() -> None:
    settings = Settings(
        crawl_base_urls="tiki=http://127.0.0.1:8900/, shopee=http://127.0.0.1:8901",
        crawl_robots_overrides="shopee=false",
    )
    assert (
        base_url_override(settings, "tiki") == "http://127.0.0.1:8900" and base_url_override(settings, "sendo") is None
    )
    assert obeys_robots(settings, "tiki") and not obeys_robots(settings, "shopee")
    assert spider_for("shopee").spider_kwargs(settings) == {"base_url": "http://127.0.0.1:8901", "robots": False}  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="KCNGUARD_CRAWL_BASE_URLS"):
        pairs("tiki", "crawl_base_urls")
    with pytest.raises(ValueError, match="neither true nor false"):
        obeys_robots(Settings(crawl_robots_overrides="tiki=maybe"), "tiki")
    assert headers_for("lazada", "https://www.lazada.vn")["Referer"] == "https://www.lazada.vn/"
    assert headers_for("websosanh", "https://websosanh.vn") == {}
    built = scrapy_settings(Settings(crawl_job_timeout_seconds=90))
    assert built["CLOSESPIDER_TIMEOUT"] == 90 and built["AUTOTHROTTLE_ENABLED"]
    middlewares = built["DOWNLOADER_MIDDLEWARES"]
    # Blocks are judged after the retries (a lower number sees the response later).
    assert (
        middlewares["crawler.middlewares.BlockDetectionMiddleware"]
        < middlewares["crawler.middlewares.BackoffRetryMiddleware"]
    )


def test_pipeline_publishes_a_page_s_good_listings_and_quarantines_its_bad_ones(
    shared_data: Path, evidence: LocalEvidenceStore
) -> None:
    from crawler.pipelines import DeadLetterPipeline, ListingPipeline

    body = (shared_data / "tiki/api-v2-products/114432824.json").read_bytes()
    spider = _spider(_job("tiki", "114432824", reason="recheck"), evidence)
    [page] = list(spider.parse_item(_response(f"{BASE}/api/v2/products/114432824", body), listing_id="114432824"))
    good = page.listings[0]
    bad = good.model_copy(update={"listing_id": "has space", "price": -1})  # unvalidated, as a careless spider might

    class Sink:
        def __init__(self) -> None:
            self.listings: list[Listing] = []
            self.letters: list[DeadLetter] = []

        def listing(self, listing: Listing) -> None:
            self.listings.append(listing)

        def dead_letter(self, letter: DeadLetter) -> None:
            self.letters.append(letter)

        def drain(self) -> None: ...

    sink = Sink()
    pipeline, letters = ListingPipeline(sink, spider.crawler.stats), DeadLetterPipeline(sink, spider.crawler.stats)
    out = letters.process_item(pipeline.process_item(PageListings(page.url, [good, bad])))
    assert isinstance(out, PageListings) and out.listings == [good] and sink.listings == [good]
    [letter] = sink.letters
    assert "listing_id" in letter.reason and letter.evidence_digest == good.evidence_digest
    assert spider.crawler.stats.get_value("kcnguard/quarantined") == 1
