"""One spider per marketplace, found by the marketplace's slug: the demo's own, and one per parser module."""

from __future__ import annotations

from crawler.pages.registry import SOURCES
from crawler.spiders.base import MarketplaceSpider
from crawler.spiders.demo import DemoSpider
from crawler.spiders.market import spider_class

SPIDERS: dict[str, type[MarketplaceSpider]] = {
    DemoSpider.marketplace: DemoSpider,
    **{slug: spider_class(module) for slug, module in SOURCES.items()},
}


def spider_for(marketplace: str) -> type[MarketplaceSpider] | None:
    return SPIDERS.get(marketplace)
