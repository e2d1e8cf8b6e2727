"""Downloader middlewares: retries that wait longer each time, block and captcha detection, the proxy."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

from crawler.blocks import detect_block
from crawler.pause import pause
from crawler.spiders.base import MarketplaceSpider

log = logging.getLogger(__name__)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, plus exponential backoff and respect for Retry-After on 429/503."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.first = settings.getfloat("KCNGUARD_RETRY_FIRST_DELAY", 1.0)
        self.longest = settings.getfloat("KCNGUARD_RETRY_MAX_DELAY", 30.0)

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await self._pause(result, response.headers.get(b"Retry-After"))
        return result

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._pause(result, None)
        return result

    def delay(self, attempt: int, retry_after: bytes | None) -> float:
        if retry_after:
            try:
                return min(self.longest, max(0.0, float(retry_after.decode().strip())))
            except ValueError:
                pass  # an HTTP date or garbage: fall back to our own schedule
        return min(self.longest, self.first * 2 ** max(0, attempt - 1))

    async def _pause(self, retry: Request, retry_after: bytes | None) -> None:
        delay = self.delay(int(retry.meta.get("retry_times", 1)), retry_after)
        log.info("retrying %s in %.1fs (attempt %s)", retry.url, delay, retry.meta.get("retry_times"))
        # A stopping crawl must not sit out a long backoff: the engine drains in-flight work before closing.
        await pause(delay, self._running)

    def _running(self) -> bool:
        engine = getattr(self.crawler, "engine", None)
        return bool(engine is None or engine.running)


class Blocked(IgnoreRequest):
    """The marketplace answered with a block or captcha page; the message is the reason."""


class BlockDetectionMiddleware:
    """Checks every response (after retries) for a block or captcha page, before any parser sees it.

    A block is told to the spider (`spider.blocked(reason)`, which makes the run `blocked`), the
    request fails with Blocked, and the crawl of this job stops: pressing on against a captcha
    only deepens the block.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self._closing: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> BlockDetectionMiddleware:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Response:
        if request.url.endswith("/robots.txt"):
            return response  # the robots middleware reads an unreadable robots.txt as "all allowed"
        spider = self.crawler.spider
        ours = spider if isinstance(spider, MarketplaceSpider) else None
        marketplace = ours.marketplace if ours is not None else spider.name
        headers = {
            name.decode("latin-1"): (response.headers.get(name) or b"").decode("latin-1") for name in response.headers
        }
        reason = detect_block(marketplace, response.status, response.url, response.body, headers)
        if reason is None:
            return response
        self.crawler.stats.inc_value("kcnguard/blocked")
        if ours is not None:
            ours.blocked(reason, response)
        log.warning("blocked: %s", reason)
        # `crawling` first: Crawler.engine raises until a crawl has started (callbacks driven by hand).
        if self.crawler.crawling and self.crawler.engine.running and self._closing is None:
            self._closing = asyncio.ensure_future(self.crawler.engine.close_spider_async(reason="blocked"))
        raise Blocked(reason)


class ProxyMiddleware:
    """Sends every request through KCNGUARD_CRAWL_PROXY unless the request names its own proxy."""

    def __init__(self, proxy: str) -> None:
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProxyMiddleware:
        # crawler.settings enables this middleware only when a proxy is set.
        return cls(crawler.settings.get("KCNGUARD_PROXY") or "")

    async def process_request(self, request: Request) -> None:
        if self.proxy:
            request.meta.setdefault("proxy", self.proxy)
