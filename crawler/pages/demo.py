"""Page objects for the demo marketplace: search pages give product links, product pages give listings.

Structured data (JSON-LD Product/Offer) is read first because it is what the marketplace
means; the visible DOM is the fallback, as it is what a buyer sees when JSON-LD is absent.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlparse

from pydantic import ValidationError

from crawler.pages.base import (
    ExtractionError,
    evidence_digest,
    integer,
    json_ld_objects,
    number,
    of_type,
    selector,
    text_of,
    vnd_text,
)
from kcnguard.records import Listing, Seller, utcnow
from kcnguard.validation import field_name

MARKETPLACE = "demo"

# Sellers stuff titles with keywords; past these limits the rest is kept only in the evidence body.
MAX_TITLE = 1000
MAX_DESCRIPTION = 20_000
MAX_IMAGES = 50
_PRODUCT_PATH = re.compile(r"^/product/([^/\s|]+)$")


class DemoSearchPage:
    """A search results page: the product links on it and the next page, if any."""

    def __init__(self, url: str, body: bytes) -> None:
        self.url, self.body = url, body
        self.page = selector(body, url)
        if not self.page.css(".search-summary"):
            raise ExtractionError("search results", f"{url} has no .search-summary: not a search page")

    def product_urls(self) -> list[str]:
        urls: list[str] = []
        for href in self.page.css("a.product-link::attr(href)").getall():
            absolute = urljoin(self.url, href.strip())
            if _PRODUCT_PATH.match(urlparse(absolute).path) and absolute not in urls:
                urls.append(absolute)
        return urls

    def next_url(self) -> str | None:
        href = self.page.css('a.next-page::attr(href), a[rel="next"]::attr(href)').get()
        return urljoin(self.url, href.strip()) if href else None


class DemoProductPage:
    """A product page: one method per listing field, each saying where it looked."""

    def __init__(self, url: str, body: bytes, captured_at: datetime | None = None) -> None:
        self.url, self.body = url, body
        self.captured_at = captured_at or utcnow()
        self.page = selector(body, url)
        objects = json_ld_objects(self.page)
        self.product: dict[str, Any] = of_type(objects, "Product") or {}
        offers = self.product.get("offers")
        if isinstance(offers, list):
            offers = next((o for o in offers if isinstance(o, dict)), None)
        self.offer: dict[str, Any] = offers if isinstance(offers, dict) else {}

    # Required fields -------------------------------------------------------------------------

    def listing_id(self) -> str:
        for candidate in (
            self.product.get("sku"),
            self.product.get("productID"),
            self.page.css("article.product::attr(data-listing-id)").get(),
        ):
            if isinstance(candidate, str | int) and str(candidate).strip():
                return str(candidate).strip()
        match = _PRODUCT_PATH.match(urlparse(self.url).path)
        if match:
            return match.group(1)
        raise ExtractionError("listing id", f"no JSON-LD sku/productID, no article[data-listing-id], url {self.url}")

    def title(self) -> str:
        name = self.product.get("name")
        title = name.strip() if isinstance(name, str) and name.strip() else text_of(self.page, "h1.product-title")
        if not title:
            raise ExtractionError("title", "JSON-LD Product.name and the DOM h1.product-title are missing or empty")
        return title[:MAX_TITLE]

    def price(self) -> float:
        raw = self.offer.get("price")
        value = number(raw)
        if value is not None:
            return value
        node = self.page.css(".product-price")
        value = number(node.attrib.get("data-price")) if node else None
        shown = text_of(self.page, ".product-price")
        if value is None:
            value = vnd_text(shown)
        if value is None:
            seen = "missing" if raw is None else f"{str(raw)[:80]!r}, not a number"
            raise ExtractionError(
                "price",
                f"JSON-LD offers.price is {seen} and the DOM .product-price shows {(shown or '')[:80]!r}",
            )
        return value

    # Optional fields: absent on a page is normal, so they are None rather than errors --------

    def currency(self) -> str:
        declared = self.offer.get("priceCurrency")
        return declared.strip() if isinstance(declared, str) and declared.strip() else "VND"

    def original_price(self) -> float | None:
        node = self.page.css(".product-original-price")
        if not node:
            return None
        return number(node.attrib.get("data-price")) or vnd_text(text_of(self.page, ".product-original-price"))

    def description(self) -> str | None:
        text = self.product.get("description")
        if not (isinstance(text, str) and text.strip()):
            text = text_of(self.page, ".product-description")
        return text.strip()[:MAX_DESCRIPTION] if text else None

    def seller(self) -> Seller:
        declared = self.offer.get("seller")
        declared = declared if isinstance(declared, dict) else {}
        node = self.page.css(".seller")
        seller_id = declared.get("identifier") or (node.attrib.get("data-seller-id") if node else None)
        name = declared.get("name") or text_of(self.page, ".seller-name")
        official = bool(node) and (node.attrib.get("data-official") == "true" or bool(node.css(".badge-official")))
        return Seller(id=str(seller_id) if seller_id else None, name=str(name) if name else None, official=official)

    def sold_count(self) -> int | None:
        node = self.page.css(".product-sold")
        return integer(node.attrib.get("data-sold")) if node else None

    def rating(self) -> float | None:
        aggregate = self.product.get("aggregateRating")
        if isinstance(aggregate, dict) and number(aggregate.get("ratingValue")) is not None:
            return number(aggregate.get("ratingValue"))
        node = self.page.css(".product-rating")
        return number(node.attrib.get("data-rating")) if node else None

    def images(self) -> list[str]:
        declared = self.product.get("image")
        candidates = [declared] if isinstance(declared, str) else declared if isinstance(declared, list) else []
        if not candidates:
            candidates = self.page.css("img.product-image::attr(src)").getall()
        urls: list[str] = []
        for candidate in candidates:
            if not isinstance(candidate, str):
                continue
            absolute = urljoin(self.url, candidate.strip())
            if urlparse(absolute).scheme in ("http", "https") and absolute not in urls:
                urls.append(absolute)
        return urls[:MAX_IMAGES]

    def category(self) -> str | None:
        declared = self.product.get("category")
        if isinstance(declared, str) and declared.strip():
            return declared.strip()
        return text_of(self.page, ".product-category")

    def location(self) -> str | None:
        return text_of(self.page, ".product-location")

    # The record ------------------------------------------------------------------------------

    def listing(self, crawl_job_id: str | None = None, query_brand_id: str | None = None) -> Listing:
        """The Listing this page shows; ExtractionError naming the field when a field is missing or invalid."""
        fields: dict[str, Any] = {
            "marketplace": MARKETPLACE,
            "listing_id": self.listing_id(),
            "url": self.url,
            "title": self.title(),
            "price": self.price(),
            "description": self.description(),
            "original_price": self.original_price(),
            "currency": self.currency(),
            "seller": self.seller(),
            "sold_count": self.sold_count(),
            "rating": self.rating(),
            "images": self.images(),
            "category": self.category(),
            "location": self.location(),
            "captured_at": self.captured_at,
            "evidence_digest": evidence_digest(self.body),
            "crawl_job_id": crawl_job_id,
            "query_brand_id": query_brand_id,
        }
        try:
            return Listing(**fields)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = field_name(first["loc"], "listing")
            shown = repr(first.get("input"))[:80]
            raise ExtractionError(field, f"value {shown} is invalid: {first['msg']}") from None
