"""One spider for every marketplace with a parser module in crawler/pages (tiki, shopee, lazada, sendo, …).

The spider knows which requests to make; the parser module knows the marketplace (its URLs,
its payloads). A search job requests `search_url(query, page)` and follows the parser's
next_url up to the job's max_pages and its product_urls; a re-check job (reason "recheck",
query = the listing id) requests `item_url(id)` and reports the listing gone when the answer
says so (crawler.changes). Responses go through the block middleware before they get here, so
an empty result below is the marketplace's answer, not a captcha.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import scrapy
from scrapy.http import Response

from crawler.changes import removal_reason
from crawler.items import PageListings
from crawler.pages.base import ExtractionError, Parsed
from crawler.pages.protocol import MarketplaceParser, serves
from crawler.settings import base_url_override, headers_for, obeys_robots
from crawler.spiders.base import MarketplaceSpider
from kcnguard.records import CrawlJob, Listing, utcnow
from kcnguard.settings import Settings

# Statuses a re-check must see itself (not as an error): they are the "gone" answers.
_GONE = [404, 410]


class MarketSpider(MarketplaceSpider):
    """Subclassed once per parser module by `spider_class`; instances are one crawl job each."""

    source: ClassVar[MarketplaceParser]

    def __init__(self, job: CrawlJob, base_url: str, robots: bool = True, **kwargs: Any) -> None:
        super().__init__(job, base_url, **kwargs)
        self.robots = robots
        site = base_url or self.source.SITE
        self.headers = headers_for(self.marketplace, site)

    @classmethod
    def base_url_from(cls, settings: Settings) -> str:
        """The override (replay server, mirror) or "" for the parser's own defaults (Sendo has several hosts)."""
        return base_url_override(settings, cls.marketplace) or ""

    @classmethod
    def spider_kwargs(cls, settings: Settings) -> dict[str, Any]:
        return {"base_url": cls.base_url_from(settings), "robots": obeys_robots(settings, cls.marketplace)}

    # Requests ---------------------------------------------------------------------------------

    def _url(self, make: Any, *args: Any) -> str:
        return make(*args, base_url=self.base_url) if self.base_url else make(*args)

    def request(self, url: str, callback: Any, **cb_kwargs: Any) -> scrapy.Request:
        meta: dict[str, Any] = {}
        if not self.robots:
            meta["dont_obey_robotstxt"] = True
        if callback == self.parse_item:
            meta["handle_httpstatus_list"] = _GONE
        return scrapy.Request(
            self.rebase(url),
            callback=callback,
            cb_kwargs=cb_kwargs,
            errback=self.request_failed,
            headers=self.headers,
            meta=meta,
        )

    def rebase(self, url: str) -> str:
        """A link to the real marketplace, moved to the overriding base URL, so a replayed crawl stays offline."""
        if not self.base_url:
            return url
        if serves(self.source, url):
            parts, base = urlsplit(url), urlsplit(self.base_url)
            return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))
        return url

    async def start(self) -> AsyncIterator[Any]:
        if self.job.reason == "recheck":
            try:
                url = self._url(self.source.item_url, self.job.query)
            except ValueError as exc:
                self.outcome.failures.append(f"re-check of {self.job.query!r}: {exc}")
                return
            yield self.request(url, self.parse_item, listing_id=self.job.query)
            return
        yield self.request(self._url(self.source.search_url, self.job.query, 1), self.parse_search, page=1)

    # Callbacks --------------------------------------------------------------------------------

    def _read(self, response: Response) -> Parsed:
        self.page_read()
        return self.source.parse(response.body, response.url, captured_at=utcnow())

    def _read_or_quarantine(self, response: Response) -> Generator[Any, None, Parsed | None]:
        """The page read, or None after yielding its quarantine when the parser cannot read it."""
        try:
            return self._read(response)
        except ExtractionError as exc:
            yield self.quarantine(response, str(exc))
            return None

    def _listings(self, response: Response, result: Parsed) -> Iterator[Any]:
        """The page's listings for this job, as one item (crawler.items.PageListings)."""
        if not result.listings:
            return
        digest = self.keep_evidence(response)
        wrong = next((x.evidence_digest for x in result.listings if x.evidence_digest != digest), None)
        if wrong is not None:
            yield self.quarantine(response, f"parser gave evidence_digest {wrong}, the body hashes to {digest}")
            return
        yield PageListings(response.url, [self._for_job(listing) for listing in result.listings])

    def _for_job(self, listing: Listing) -> Listing:
        # model_copy skips validation; ListingPipeline re-validates every listing before publishing.
        return listing.model_copy(update={"crawl_job_id": self.job.job_id, "query_brand_id": self.job.brand_id})

    def parse_search(self, response: Response, page: int) -> Iterator[Any]:
        result = yield from self._read_or_quarantine(response)
        if result is None:
            return
        yield from self._listings(response, result)
        for url in result.product_urls:
            yield self.request(url, self.parse_product)
        if result.next_url and page < self.job.max_pages:
            yield self.request(result.next_url, self.parse_search, page=page + 1)

    def parse_product(self, response: Response) -> Iterator[Any]:
        result = yield from self._read_or_quarantine(response)
        if result is not None:
            yield from self._listings(response, result)

    def parse_item(self, response: Response, listing_id: str) -> Iterator[Any]:
        """A re-check: the listing again (history grows), or a removal when the answer says it is gone."""
        result: Parsed | None = None
        problem: str | None = None
        if response.status in _GONE:
            self.page_read()  # an answer read, though there is nothing to parse
        else:
            try:
                result = self._read(response)
            except ExtractionError as exc:
                problem = str(exc)
        found = [item.listing_id for item in result.listings] if result is not None else None
        gone = removal_reason(response.status, response.body, listing_id, found)
        if gone:
            self.keep_evidence(response)  # the proof that it was gone, as the listing's pages are of it
            self.removed(listing_id, gone)
            return
        if problem is not None:
            yield self.quarantine(response, problem)
            return
        assert result is not None
        yield from self._listings(response, Parsed([x for x in result.listings if x.listing_id == listing_id]))


def spider_class(source: MarketplaceParser) -> type[MarketSpider]:
    """The spider for one marketplace's parser, named after its marketplace."""
    name = source.MARKETPLACE
    return type(f"{name.title()}Spider", (MarketSpider,), {"name": name, "marketplace": name, "source": source})
