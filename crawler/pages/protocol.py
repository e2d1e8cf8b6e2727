"""The parser interface: what a page module offers the registry, the spider and the offline tools.

Each parser is a module (crawler/pages/tiki.py, …) whose top-level names satisfy one of these
protocols; the registry checks that at import, so a parser missing a name fails loudly there
rather than in the middle of a crawl.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from crawler.pages.base import Parsed


@runtime_checkable
class PageParser(Protocol):
    """Reads one saved or fetched response into listings (raises ExtractionError naming the field it lacks)."""

    MARKETPLACE: str

    def parse(self, body: bytes, url: str, *, captured_at: datetime | None = None) -> Parsed: ...


@runtime_checkable
class MarketplaceParser(PageParser, Protocol):
    """A marketplace's parser: it also knows the marketplace's hosts and how to ask for a search page or a listing.

    `base_url` moves a URL to another host (the replay server, a mirror); each parser has its own
    default, since some marketplaces answer searches and listings from different hosts.
    """

    DOMAINS: tuple[str, ...]
    SITE: str

    def search_url(self, query: str, page: int = 1, base_url: str = ...) -> str: ...

    def item_url(self, listing_id: str, base_url: str = ...) -> str: ...


def serves(parser: MarketplaceParser, url: str) -> bool:
    """Whether the URL's host is one of the marketplace's domains or below one."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == domain or host.endswith("." + domain) for domain in parser.DOMAINS)
