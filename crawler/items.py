"""What spiders hand the item pipelines besides single Listings and DeadLetters."""

from __future__ import annotations

from dataclasses import dataclass, field

from kcnguard.records import Listing


@dataclass
class PageListings:
    """The listings read from one response, as one item.

    A search page holds 40-60 listings; as separate items each would pass through Scrapy's
    item machinery (a task, the pipeline chain, an item_scraped signal), which cost more than
    parsing them (bench/crawl.py). The pipelines still validate and publish every listing.
    """

    url: str
    listings: list[Listing] = field(default_factory=list)
