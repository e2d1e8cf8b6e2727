"""Sendo: product lists (a shop's `product/filter`, the search/category `searchlist-api`) and product detail.

listing_id is Sendo's product id. Sendo's APIs live on several hosts (shop-home., detail-api.,
searchlist-api., ratingapi.); the shape of the JSON, not the host, says which one a body is.
A shop's collection list and a product's reviews are Sendo responses without listings: they are
refused with an error saying so, rather than read as an empty result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

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
from crawler.pages.jsonapi import keys_of, listings_of
from kcnguard.records import Listing, utcnow

MARKETPLACE = "sendo"
DOMAINS: tuple[str, ...] = ("sendo.vn",)
SITE = "https://www.sendo.vn"
SEARCH_API = "https://searchlist-api.sendo.vn"
DETAIL_API = "https://detail-api.sendo.vn"
SEARCH_PAGE_SIZE = 60
_MALL_BADGES = {"shop_mall", "sendo_mall"}


def search_url(query: str, page: int = 1, base_url: str = SEARCH_API) -> str:
    return f"{base_url.rstrip('/')}/web/products?q={quote(query)}&page={page}&size={SEARCH_PAGE_SIZE}&sortType=rank"


def item_url(listing_id: str, base_url: str = DETAIL_API) -> str:
    """Sendo's detail API is keyed by the product's url_key, which ends in "-<id>"; the bare id is used
    when only the id is known (Sendo resolves the trailing number)."""
    if not listing_id.isdigit():
        raise ValueError(f"Sendo listing_id must be the numeric product id, got {listing_id!r}")
    return f"{base_url.rstrip('/')}/full/{listing_id}?platform=web"


def parse(body: bytes, url: str, *, captured_at: datetime | None = None) -> Parsed:
    at = captured_at or utcnow()
    data = load_json(body, url)
    if not isinstance(data, dict) or "data" not in data:
        raise ExtractionError("data", f"{url}: Sendo answers wrap their content in data; got {keys_of(data)}")
    content = data["data"]
    if isinstance(dig(content, "list"), list):  # a shop's product/filter page
        listings = _items(content["list"], evidence_digest(body), at, "data.list")
        return parsed(listings, _next_page(url, integer(content.get("total")), len(content["list"])))
    if isinstance(content, list):
        if content and isinstance(content[0], dict) and "rating_id" in content[0]:
            raise ExtractionError(
                "data[].product_id", f"{url} is a list of reviews (ratingapi), which holds no listings"
            )
        total = integer(dig(data, "meta_data", "total_count"))
        return parsed(_items(content, evidence_digest(body), at, "data"), _next_page(url, total, len(content)))
    if isinstance(content, dict) and "collections" in content:
        raise ExtractionError(
            "data.list", f"{url} is a shop's collection list, which holds no listings; read its product/filter instead"
        )
    if isinstance(content, dict) and "id" in content and ("name" in content or "final_price" in content):
        return parsed([_detail(content, evidence_digest(body), at)])
    raise ExtractionError(
        "data.list", f"{url}: neither a product list (data.list, data[]) nor a product; data has {keys_of(content)}"
    )


def _next_page(url: str, total: int | None, count: int) -> str | None:
    query = dict(parse_qsl(urlsplit(url).query))
    page = integer(query.get("page")) or 1
    size = integer(query.get("limit") or query.get("size")) or count
    if not count or total is None or page * size >= total:
        return None
    return with_query(url, page=page + 1)


def _items(items: list[Any], digest: str, at: datetime, where: str) -> list[Listing]:
    return listings_of(items, where, lambda item, place: _item(item, digest, at, place))


def _price(item: dict[str, Any], where: str) -> float:
    raw = item.get("final_price", item.get("price"))
    value = number(raw)
    if value is None:
        state = "absent" if raw is None else f"{str(raw)[:40]!r}, not a number"
        raise ExtractionError(f"{where}final_price", f"{state}; the object has keys {', '.join(sorted(item)[:25])}")
    return value


def _page_url(url_key: Any, product_id: str) -> str:
    if isinstance(url_key, str) and url_key.strip():
        key = url_key.strip()
        if key.startswith("http"):
            parts = urlsplit(key)  # drop tracking parameters (source_page_id=…)
            return urlunsplit(parts._replace(query="", fragment=""))
        return f"{SITE}/{key.lstrip('/')}" + ("" if key.endswith(".html") else ".html")
    return f"{SITE}/san-pham-{product_id}.html"


def _item(item: dict[str, Any], digest: str, at: datetime, where: str) -> Listing:
    """One product of a list; product/filter names the id product_id (its own `id` is 0)."""
    product_id = item.get("product_id") or required(item, "id", where.rstrip("."))
    price = _price(item, where)
    badges = item.get("shop_badge_urls")
    official = isinstance(badges, list) and any(
        isinstance(b, dict) and str(b.get("type")) in _MALL_BADGES for b in badges
    )
    rated = integer(item.get("total_rated"))
    rating = number(item.get("rating_percent"))  # despite its name, the star average (0–5)
    remain = integer(item.get("remain", item.get("quantity")))
    return make_listing(
        {
            "marketplace": MARKETPLACE,
            "listing_id": str(product_id),
            "url": _page_url(item.get("url_key"), str(product_id)),
            "title": required(item, "name", where.rstrip(".")),
            "price": price,
            "original_price": _original(item, price),
            "currency": "VND",
            "availability": None if remain is None else "InStock" if remain > 0 else "OutOfStock",
            "seller": {
                "id": item.get("admin_id") or dig(item, "shop_info", "shop_id"),
                "name": item.get("shop_name") or dig(item, "shop_info", "shop_name"),
                "official": official or bool(item.get("is_official") or item.get("product_mall")),
            },
            "sold_count": integer(item.get("order_count")),
            "rating": rating if rating and (rated is None or rated > 0) else None,
            "images": http_urls([item.get("image"), item.get("img_url")]),
            "category": item.get("category_name") or None,
            "captured_at": at,
            "evidence_digest": digest,
        },
        where,
    )


def _original(item: dict[str, Any], price: float) -> float | None:
    # Sendo's `price` is the list price and `final_price` what the buyer pays now.
    original = number(item.get("price"))
    return original if "final_price" in item and original else None


def _detail(product: dict[str, Any], digest: str, at: datetime) -> Listing:
    """detail-api.sendo.vn/full/{url_key}: one product with its shop, brand and ratings."""
    product_id = required(product, "id", "data")
    price = _price(product, "data.")
    shop = product.get("shop_info") if isinstance(product.get("shop_info"), dict) else {}
    rated = integer(dig(product, "rating_info", "total_rated"))
    rating = number(dig(product, "rating_info", "percent_star"))
    media = product.get("media") if isinstance(product.get("media"), list) else []
    stock = integer(product.get("stock_status"))
    quantity = integer(product.get("quantity"))
    in_stock = stock if stock is not None else quantity
    crumbs = product.get("category_info")
    category = dig(crumbs, -1, "title") if isinstance(crumbs, list) and crumbs else None
    return make_listing(
        {
            "marketplace": MARKETPLACE,
            "listing_id": str(product_id),
            "url": _page_url(product.get("cat_path") or product.get("url_key"), str(product_id)),
            "title": required(product, "name", "data"),
            "description": product.get("short_description"),
            "price": price,
            "original_price": _original(product, price),
            "currency": "VND",
            "brand": dig(product, "brand_info", "name"),
            "sku": product.get("sku_user"),
            "availability": None if in_stock is None else "InStock" if in_stock > 0 else "OutOfStock",
            "seller": {
                "id": shop.get("shop_id"),
                "name": shop.get("shop_name"),
                "official": bool(shop.get("shop_mall") or product.get("product_mall")),
            },
            "sold_count": integer(product.get("order_count")),
            "rating": rating if rating and (rated is None or rated > 0) else None,
            "images": http_urls([m.get("image") for m in media if isinstance(m, dict)] or [product.get("image")]),
            "category": category,
            "location": shop.get("warehourse_region_name"),  # sic: Sendo's spelling
            "captured_at": at,
            "evidence_digest": digest,
        },
        "data.",
    )
