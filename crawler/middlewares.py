"""Downloader middleware: retries that wait longer each time, as a busy marketplace asks."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response

log = logging.getLogger(__name__)

_TICK = 0.1


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
        deadline = time.monotonic() + delay
        # A stopping crawl must not sit out a long backoff: the engine drains in-flight work before closing.
        while time.monotonic() < deadline and self._running():
            await asyncio.sleep(min(_TICK, deadline - time.monotonic()))

    def _running(self) -> bool:
        engine = getattr(self.crawler, "engine", None)
        return bool(engine is None or engine.running)
