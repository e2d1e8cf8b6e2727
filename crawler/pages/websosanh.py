"""websosanh.vn: price-comparison search results, one offer per shop (merchant) per product.

listing_id is "<product id>.<merchant id>": websosanh numbers each offer and each merchant, and
needs both to send a buyer on (…/<slug>/<product id>/<merchant id>/direct.htm). The seller is the
merchant, named by its domain (e.g. "lazada.vn"); the offer itself lives on that merchant's site.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

from parsel import Selector

from crawler.pages.base import (
    ExtractionError,
    Parsed,
    absolute,
    evidence_digest,
    http_urls,
    make_listing,
    markup_listings,
    number,
    parsed,
    selector,
    text_of,
    vnd_text,
)
from kcnguard.records import Listing, utcnow

MARKETPLACE = "websosanh"
DOMAINS: tuple[str, ...] = ("websosanh.vn",)
SITE = "https://websosanh.vn"
_OFFER_PATH = re.compile(r"/(\d+)/(\d+)/direct\.htm")


def search_url(query: str, page: int = 1, base_url: str = SITE) -> str:
    return f"{base_url.rstrip('/')}/s/{quote(query)}.htm?pi={page}"


def item_url(listing_id: str, base_url: str = SITE) -> str:
    """websosanh's redirect to the merchant's page for this offer (its slug segment is not checked)."""
    product_id, dot, merchant_id = listing_id.partition(".")
    if not (dot and product_id.isdigit() and merchant_id.isdigit()):
        raise ValueError(f"websosanh listing_id must be '<product id>.<merchant id>', got {listing_id!r}")
    return f"{base_url.rstrip('/')}/p/{product_id}/{merchant_id}/direct.htm"


def parse(body: bytes, url: str, *, captured_at: datetime | None = None) -> Parsed:
    at = captured_at or utcnow()
    page = selector(body, url)
    items = page.css("li.product-item")
    if not items:
        if page.css("ul.product-wrap") or page.css(".no-result, .search-noresult"):
            return parsed([])
        raise ExtractionError(
            "li.product-item", f"{url}: no ul.product-wrap with li.product-item: not a websosanh results page"
        )
    listings = markup_listings(items, "li.product-item", _offer, evidence_digest(body), url, at)
    href = page.css("ul.pagination a.next::attr(href)").get()
    return parsed(listings, absolute(url, href))


def _offer(item: Selector, digest: str, url: str, at: datetime, where: str) -> Listing:
    link = item.css("a[data-product-id]")
    if not link:
        raise ExtractionError(f"{where}data-product-id", "the offer has no a[data-product-id] link")
    href = absolute(url, link.attrib.get("href")) or ""
    match = _OFFER_PATH.search(href)
    product_id = link.attrib.get("data-product-id") or (match.group(1) if match else "")
    logo = item.css(".product-store-logo")
    merchant_id = (logo.attrib.get("merchant-id") if logo else None) or (match.group(2) if match else None)
    if not merchant_id:
        raise ExtractionError(f"{where}merchant-id", f"offer {product_id} names no merchant (logo or direct.htm link)")
    price_node = item.css(".product-price")
    shown = text_of(item, ".product-price")
    price = number(price_node.attrib.get("price")) if price_node else None
    if price is None:
        price = vnd_text(shown)
    if price is None:
        raise ExtractionError(f"{where}product-price", f"offer {product_id} shows {shown!r} and no price attribute")
    place = text_of(item, ".product-store")
    return make_listing(
        {
            "marketplace": MARKETPLACE,
            "listing_id": f"{product_id}.{merchant_id}",
            "url": href if href.startswith("http") else f"{SITE}/p/{product_id}/{merchant_id}/direct.htm",
            "title": text_of(item, "h3") or item.css(".product-img img::attr(alt)").get(),
            "price": price,
            "currency": "VND",
            "seller": {"id": merchant_id, "name": logo.css("img::attr(alt)").get() if logo else None},
            # The image is lazy-loaded: src is a 1-pixel placeholder, data-src the picture.
            "images": http_urls(item.css(".product-img img::attr(data-src), .product-img img::attr(src)").getall()),
            "location": re.sub(r"^Nơi bán:\s*", "", place) if place else None,
            "captured_at": at,
            "evidence_digest": digest,
        },
        where,
    )
