"""Scrapy settings built from the one place settings live, kcnguard.settings."""

from __future__ import annotations

from typing import Any

from kcnguard.settings import Settings


def scrapy_settings(settings: Settings) -> dict[str, Any]:
    return {
        "BOT_NAME": "kcnguard",
        "USER_AGENT": settings.user_agent,
        "ROBOTSTXT_OBEY": settings.crawl_obey_robots,
        "CONCURRENT_REQUESTS": max(16, settings.crawl_concurrency_per_domain),
        "CONCURRENT_REQUESTS_PER_DOMAIN": settings.crawl_concurrency_per_domain,
        # AutoThrottle slows down when the marketplace does: politeness that follows its latency.
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 1.0,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(settings.crawl_concurrency_per_domain),
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 3,
        "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
        "KCNGUARD_RETRY_FIRST_DELAY": 1.0,
        "KCNGUARD_RETRY_MAX_DELAY": settings.retry_max_seconds,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.middlewares.BackoffRetryMiddleware": 550,
        },
        "ITEM_PIPELINES": {
            "crawler.pipelines.ListingPipeline": 300,
            "crawler.pipelines.DeadLetterPipeline": 400,
        },
        "DOWNLOAD_TIMEOUT": 30,
        # A product page is tens of kB; anything near this is not a page worth keeping as evidence.
        "DOWNLOAD_MAXSIZE": 16 * 1024 * 1024,
        "HTTPCACHE_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19's remote control opens a local HTTP port; a service needs no such door.
        "REMOTE_CONTROL_ENABLED": False,
        # The service logs one line per job with the counts; the full stats dump is noise.
        "STATS_DUMP": False,
        "COOKIES_ENABLED": False,
        "LOG_LEVEL": settings.log_level.upper(),
        "LOG_ENABLED": True,
    }
