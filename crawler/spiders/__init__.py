"""One spider per marketplace, found by the marketplace's slug."""

from __future__ import annotations

from crawler.spiders.base import MarketplaceSpider
from crawler.spiders.demo import DemoSpider

SPIDERS: dict[str, type[MarketplaceSpider]] = {DemoSpider.marketplace: DemoSpider}


def spider_for(marketplace: str) -> type[MarketplaceSpider] | None:
    return SPIDERS.get(marketplace)
