"""The demo marketplace's spider: search pages, then product pages. Parsing lives in crawler.pages.demo."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.http import Response

from crawler.pages.base import ExtractionError
from crawler.pages.demo import MARKETPLACE, DemoProductPage, DemoSearchPage
from crawler.spiders.base import MarketplaceSpider
from kcnguard.settings import Settings


class DemoSpider(MarketplaceSpider):
    name = "demo"
    marketplace = MARKETPLACE

    @classmethod
    def base_url_from(cls, settings: Settings) -> str:
        return settings.resolved_demo_url

    def search_url(self, page: int) -> str:
        return f"{self.base_url}/search?" + urlencode({"q": self.job.query, "page": page})

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(
            self.search_url(1), callback=self.parse_search, cb_kwargs={"page": 1}, errback=self.request_failed
        )

    def parse_search(self, response: Response, page: int) -> Iterator[Any]:
        self.page_read()
        try:
            results = DemoSearchPage(response.url, response.body)
        except ExtractionError as exc:
            yield self.quarantine(response, str(exc))
            return
        for url in results.product_urls():
            yield scrapy.Request(url, callback=self.parse_product, errback=self.request_failed)
        next_url = results.next_url()
        if next_url and page < self.job.max_pages:
            yield scrapy.Request(
                next_url, callback=self.parse_search, cb_kwargs={"page": page + 1}, errback=self.request_failed
            )

    def parse_product(self, response: Response) -> Iterator[Any]:
        self.page_read()
        try:
            listing = DemoProductPage(response.url, response.body).listing(
                crawl_job_id=self.job.job_id, query_brand_id=self.job.brand_id
            )
        except ExtractionError as exc:
            yield self.quarantine(response, str(exc))
            return
        self.keep_evidence(response)
        yield listing
