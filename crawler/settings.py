"""Scrapy settings built from the one place settings live, kcnguard.settings, and per-marketplace choices."""

from __future__ import annotations

from typing import Any

from kcnguard.settings import Settings

# What each marketplace's web front end sends with its API calls; without them Shopee and
# Lazada answer with an error envelope or a captcha. The referer is the site the call claims
# to come from, so it follows a base-URL override (the replay server) like the request does.
MARKETPLACE_HEADERS: dict[str, dict[str, str]] = {
    "shopee": {
        "Accept": "application/json",
        "X-API-SOURCE": "pc",
        "X-Shopee-Language": "vi",
        "X-Requested-With": "XMLHttpRequest",
        "Referer": "{site}/",
    },
    "lazada": {
        "Accept": "application/json, text/plain, */*",
        "X-Requested-With": "XMLHttpRequest",
        "Referer": "{site}/",
    },
    "tiki": {"Accept": "application/json, text/html;q=0.9", "Referer": "{site}/"},
    "sendo": {"Accept": "application/json", "Referer": "{site}/"},
}


def pairs(text: str, setting: str) -> dict[str, str]:
    """ "a=x,b=y" as {"a": "x", "b": "y"}; a malformed entry is an error naming the setting."""
    found: dict[str, str] = {}
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        name, sep, value = entry.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"KCNGUARD_{setting.upper()}: {entry!r} is not marketplace=value")
        found[name.strip()] = value.strip()
    return found


def base_url_override(settings: Settings, marketplace: str) -> str | None:
    """The base URL the operator put in place of the real site (the replay server, a mirror), if any."""
    url = pairs(settings.crawl_base_urls, "crawl_base_urls").get(marketplace)
    return url.rstrip("/") if url else None


def obeys_robots(settings: Settings, marketplace: str) -> bool:
    """robots.txt choice for one marketplace: its override if set, else KCNGUARD_CRAWL_OBEY_ROBOTS."""
    override = pairs(settings.crawl_robots_overrides, "crawl_robots_overrides").get(marketplace)
    if override is None:
        return settings.crawl_obey_robots
    if override.lower() in ("true", "1", "yes", "on"):
        return True
    if override.lower() in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"KCNGUARD_CRAWL_ROBOTS_OVERRIDES: {marketplace}={override!r} is neither true nor false")


def headers_for(marketplace: str, site: str) -> dict[str, str]:
    return {
        name: value.format(site=site.rstrip("/")) for name, value in MARKETPLACE_HEADERS.get(marketplace, {}).items()
    }


def scrapy_settings(settings: Settings) -> dict[str, Any]:
    robots_anywhere = settings.crawl_obey_robots or any(
        v.lower() in ("true", "1", "yes", "on")
        for v in pairs(settings.crawl_robots_overrides, "crawl_robots_overrides").values()
    )
    return {
        "BOT_NAME": "kcnguard",
        "USER_AGENT": settings.user_agent,
        # On when any marketplace obeys robots.txt; a marketplace that does not is exempted per
        # request (meta dont_obey_robotstxt), since Scrapy's switch is one per crawler.
        "ROBOTSTXT_OBEY": robots_anywhere,
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
        "KCNGUARD_PROXY": settings.crawl_proxy,
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            # Below the retry (a smaller number sees responses later): a 429 or 503 is retried
            # with backoff first, and only what is still a block afterwards ends the job.
            "crawler.middlewares.BlockDetectionMiddleware": 540,
            "crawler.middlewares.BackoffRetryMiddleware": 550,
            # Before Scrapy's HttpProxyMiddleware (750), which turns meta['proxy'] into the connection.
            **({"crawler.middlewares.ProxyMiddleware": 740} if settings.crawl_proxy else {}),
        },
        "ITEM_PIPELINES": {
            "crawler.pipelines.ListingPipeline": 300,
            "crawler.pipelines.DeadLetterPipeline": 400,
        },
        "DOWNLOAD_TIMEOUT": 30,
        # A job longer than this stops, keeping what it read (see crawler.service on redelivery).
        "CLOSESPIDER_TIMEOUT": settings.crawl_job_timeout_seconds,
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
