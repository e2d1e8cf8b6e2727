"""Shopee: the v4 search (search_items) and item (item/get) JSON APIs, and saved lists of their items.

listing_id is "<shopid>.<itemid>", the pair Shopee itself needs to address an item. Shopee sends
prices as VND × 100000 (5000000000 is 50.000 ₫).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from crawler.pages.base import (
    ExtractionError,
    Parsed,
    dig,
    evidence_digest,
    http_urls,
    integer,
    load_json,
    make_listing,
    number,
    parsed,
    required,
    with_query,
)
from crawler.pages.jsonapi import json_object, keys_of, listings_of
from kcnguard.records import Listing, utcnow

MARKETPLACE = "shopee"
DOMAINS: tuple[str, ...] = ("shopee.vn",)
SITE = "https://shopee.vn"
PRICE_SCALE = 100_000
SEARCH_PAGE_SIZE = 60
IMAGE_BASE = "https://cf.shopee.vn/file/"


def search_url(query: str, page: int = 1, base_url: str = SITE) -> str:
    newest = (max(page, 1) - 1) * SEARCH_PAGE_SIZE
    return (
        f"{base_url.rstrip('/')}/api/v4/search/search_items?by=relevancy&keyword={quote(query)}"
        f"&limit={SEARCH_PAGE_SIZE}&newest={newest}&order=desc&page_type=search&scenario=PAGE_GLOBAL_SEARCH&version=2"
    )


def item_url(listing_id: str, base_url: str = SITE) -> str:
    shop_id, dot, item_id = listing_id.partition(".")
    if not (dot and shop_id.isdigit() and item_id.isdigit()):
        raise ValueError(f"Shopee listing_id must be '<shopid>.<itemid>', got {listing_id!r}")
    return f"{base_url.rstrip('/')}/api/v4/item/get?itemid={item_id}&shopid={shop_id}"


def parse(body: bytes, url: str, *, captured_at: datetime | None = None) -> Parsed:
    at = captured_at or utcnow()
    data = load_json(body, url)
    if isinstance(data, list):  # a saved list of items, without the envelope
        return parsed(_items(data, evidence_digest(body), url, at, "item"))
    data = json_object(data, url)
    if "items" in data and (isinstance(data["items"], list) or data["items"] is None):
        return _search(data, body, url, at)
    item = data.get("item") if isinstance(data.get("item"), dict) else data.get("data")
    if isinstance(dig(item, "item"), dict):
        item = item["item"]
    if isinstance(item, dict) and "itemid" in item:
        where = "item" if "item" in data else "data"
        return parsed([_listing(item, evidence_digest(body), url, at, f"{where}.")])
    error = data.get("error") or dig(data, "data", "error")
    detail = f"Shopee error {error} {data.get('error_msg') or ''}".strip() if error else "no item object"
    raise ExtractionError(
        "data.itemid",
        f"{url}: {detail}; expected data{{itemid,…}} (item/get) or items[] (search); keys are {keys_of(data)}",
    )


def _search(data: dict[str, Any], body: bytes, url: str, at: datetime) -> Parsed:
    items = data.get("items") or []
    listings = _items(
        [i.get("item_basic") or i if isinstance(i, dict) else i for i in items], evidence_digest(body), url, at, "items"
    )
    next_url = None
    if items and data.get("nomore") is False:
        newest = integer(dict(parse_qsl(urlsplit(url).query)).get("newest")) or 0
        next_url = with_query(url, newest=newest + len(items))
    return parsed(listings, next_url)


def _items(items: list[Any], digest: str, url: str, at: datetime, where: str) -> list[Listing]:
    return listings_of(items, where, lambda item, place: _listing(item, digest, url, at, place))


def _price(item: dict[str, Any], key: str, where: str) -> float | None:
    raw = item.get(key)
    value = number(raw)
    if raw is not None and value is None:
        raise ExtractionError(f"{where}{key}", f"{str(raw)[:40]!r} is not a number")
    # Shopee writes -1 for "no such price" (e.g. no price before discount).
    return None if value is None or value < 0 else value / PRICE_SCALE


def _listing(item: dict[str, Any], digest: str, url: str, at: datetime, where: str) -> Listing:
    shop_id = required(item, "shopid", where.rstrip("."))
    item_id = required(item, "itemid", where.rstrip("."))
    price = _price(item, "price", where)
    if price is None:
        price = _price(item, "price_min", where)
    if price is None:
        raise ExtractionError(f"{where}price", f"neither price nor price_min; keys are {', '.join(sorted(item)[:25])}")
    original = _price(item, "price_before_discount", where) or _price(item, "price_min_before_discount", where)
    host = urlsplit(url).netloc
    site = f"https://{host}" if host.endswith(DOMAINS) else SITE
    rating = number(dig(item, "item_rating", "rating_star"))
    sold = integer(item.get("historical_sold"))
    brand = item.get("brand")
    return make_listing(
        {
            "marketplace": MARKETPLACE,
            "listing_id": f"{shop_id}.{item_id}",
            "url": f"{site}/product/{shop_id}/{item_id}",
            "title": required(item, "name", where.rstrip(".")),
            "description": item.get("description"),
            "price": price,
            # Shopee sends 0 "before discount" when there is no discount.
            "original_price": original or None,
            "currency": item.get("currency") or "VND",
            "brand": brand if isinstance(brand, str) and brand.strip() not in ("", "0") else None,
            "availability": _availability(item),
            "seller": {
                "id": shop_id,
                "name": item.get("shop_name"),
                # Shopee Mall; shopee_verified ("Yêu thích", preferred) is a sales badge, not officialness.
                "official": bool(item.get("is_official_shop")),
            },
            "sold_count": sold if sold is not None else integer(item.get("sold")),
            # 0 stars means nobody rated the item yet.
            "rating": rating if rating else None,
            "images": http_urls([IMAGE_BASE + h for h in _image_hashes(item)]),
            "location": item.get("shop_location"),
            "captured_at": at,
            "evidence_digest": digest,
        },
        where,
    )


def _availability(item: dict[str, Any]) -> str | None:
    if item.get("item_status") == "sold_out":
        return "OutOfStock"
    stock = integer(item.get("stock"))
    return None if stock is None else "InStock" if stock > 0 else "OutOfStock"


def _image_hashes(item: dict[str, Any]) -> list[str]:
    images = item.get("images")
    hashes = [h for h in images if isinstance(h, str)] if isinstance(images, list) else []
    image = item.get("image")
    if isinstance(image, str) and image and image not in hashes:
        hashes.insert(0, image)
    return [h.strip() for h in hashes if h.strip() and "/" not in h]
