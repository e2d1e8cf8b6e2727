"""Which parser reads a response: by the URL's host first, then by what the body holds.

The web-shop parser (crawler/pages/webshop.py) is imported only when asked for, so the
marketplace parsers work even where it is absent; asking for it then gives a clear error.
"""

from __future__ import annotations

import importlib
import re
from datetime import datetime
from types import ModuleType
from typing import TypeVar

from crawler.pages import lazada, sendo, shopee, tiki, websosanh
from crawler.pages.base import Parsed
from crawler.pages.protocol import MarketplaceParser, PageParser, serves

P = TypeVar("P", bound=PageParser)


def as_parser(module: ModuleType, protocol: type[P]) -> P:
    """The module, once it is seen to offer every name of `protocol`; TypeError naming the module otherwise."""
    if not isinstance(module, protocol):
        raise TypeError(f"{module.__name__} is not a {protocol.__name__}: it lacks a name the protocol declares")
    return module


SOURCES: dict[str, MarketplaceParser] = {
    m.MARKETPLACE: as_parser(m, MarketplaceParser) for m in (tiki, shopee, lazada, sendo, websosanh)
}
WEBSHOP = "webshop"

# What gives a marketplace away in a body saved without its URL: its CDNs and its field names.
_FINGERPRINTS: tuple[tuple[str, re.Pattern[bytes]], ...] = (
    ("tiki", re.compile(rb"tikicdn\.com|\"current_seller\"|//tiki\.vn/|\"url_key\"\s*:\s*\"[^\"]*-p\d+\"")),
    (
        "shopee",
        re.compile(rb"\"shopid\"\s*:.{0,400}?\"itemid\"|\"itemid\"\s*:.{0,400}?\"shopid\"|susercontent\.com", re.S),
    ),
    ("lazada", re.compile(rb"slatic\.net|\"listItems\"|\"sellerName\"|www\.lazada\.")),
    ("sendo", re.compile(rb"scdn\.vn|\.sendo\.vn")),
    ("websosanh", re.compile(rb"websosanh\.vn")),
)
# Only the start is sniffed: fingerprints show up early, and a 1 MB page should not be scanned five times.
_SNIFF_BYTES = 256 * 1024


class UnknownMarketplace(LookupError):
    """No parser by that name, or the named parser is not installed."""


def host_marketplace(url: str) -> str | None:
    return next((slug for slug, parser in SOURCES.items() if serves(parser, url)), None)


def detect(url: str, body: bytes) -> str:
    """The marketplace slug for a response: from the URL's host, else from the body, else "webshop"."""
    by_host = host_marketplace(url)
    if by_host:
        return by_host
    head = body[:_SNIFF_BYTES]
    for slug, pattern in _FINGERPRINTS:
        if pattern.search(head):
            return slug
    return WEBSHOP


def parser_for(marketplace: str) -> PageParser:
    if marketplace in SOURCES:
        return SOURCES[marketplace]
    if marketplace == WEBSHOP:
        try:
            return as_parser(importlib.import_module("crawler.pages.webshop"), PageParser)
        except ModuleNotFoundError as exc:
            if exc.name != "crawler.pages.webshop":
                raise
            raise UnknownMarketplace(
                "trình đọc web-shop chưa được cài (crawler/pages/webshop.py) / "
                "the web-shop parser (crawler/pages/webshop.py) is not installed"
            ) from None
    known = ", ".join([*SOURCES, WEBSHOP])
    raise UnknownMarketplace(f"không có trình đọc '{marketplace}' / no parser named '{marketplace}' (known: {known})")


def parse_any(body: bytes, url: str, marketplace: str | None = None, captured_at: datetime | None = None) -> Parsed:
    """Parse with the named parser, or the detected one; ExtractionError from the parser passes through."""
    parser = parser_for(marketplace or detect(url, body))
    return parser.parse(body, url, captured_at=captured_at)
