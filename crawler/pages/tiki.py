"""Tiki: the search and product APIs, and product and category pages (their embedded JSON, then JSON-LD).

listing_id is Tiki's product id ("114432824"). The seller's product id (`spid`) is kept in the
listing URL, not in the id, so the search API, the product API and the pages agree on one key.
Tiki's own SKUs are 13-digit numbers that look like GTINs but are not: they go to `sku`, never `gtin`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

from crawler.pages.base import (
    ExtractionError,
    Parsed,
    dig,
    evidence_digest,
    http_urls,
    integer,
    json_ld_objects,
    load_json,
    looks_like_json,
    make_listing,
    number,
    of_type,
    parsed,
    required,
    selector,
    with_query,
)
from crawler.pages.jsonapi import json_object, keys_of, listings_of
from kcnguard.records import Listing, utcnow

MARKETPLACE = "tiki"
DOMAINS: tuple[str, ...] = ("tiki.vn",)
SITE = "https://tiki.vn"

_PRODUCT_ID_IN_URL = re.compile(r"-p(\d+)\.html")
# inventory_status values Tiki uses for "cannot be bought now".
_OUT_OF_STOCK = {"out_of_stock", "discontinued", "unavailable"}


def search_url(query: str, page: int = 1, base_url: str = SITE) -> str:
    return f"{base_url.rstrip('/')}/api/v2/products?limit=40&include=advertisement&q={quote(query)}&page={page}"


def item_url(listing_id: str, base_url: str = SITE) -> str:
    """The product API for one listing; "<id>-<spid>" asks for that seller's offer of the product."""
    product_id, _, spid = listing_id.partition("-")
    url = f"{base_url.rstrip('/')}/api/v2/products/{product_id}"
    return f"{url}?spid={spid}" if spid else url


def parse(body: bytes, url: str, *, captured_at: datetime | None = None) -> Parsed:
    at = captured_at or utcnow()
    if looks_like_json(body):
        return _parse_api(load_json(body, url), body, url, at)
    return _parse_html(body, url, at)


def _parse_api(data: Any, body: bytes, url: str, at: datetime) -> Parsed:
    if isinstance(data, list):  # a saved list of search items, without the envelope
        return parsed(_items(data, evidence_digest(body), at, "item"))
    data = json_object(data, url)
    if isinstance(data.get("data"), list):
        return parsed(_items(data["data"], evidence_digest(body), at, "data"), _next_page(url, data.get("paging")))
    if "id" in data and ("name" in data or "price" in data):
        return parsed([_listing(data, evidence_digest(body), at, "")])
    raise ExtractionError(
        "data",
        f"{url}: neither a search response (data[]) nor a product (id, name); keys are {keys_of(data)}",
    )


def _parse_html(body: bytes, url: str, at: datetime) -> Parsed:
    embedded = _next_data(body)
    if embedded:
        try:
            state = dig(json.loads(embedded), "props", "initialState")
        except ValueError:  # JSONDecodeError or UnicodeDecodeError
            state = None  # a truncated page: JSON-LD below may still hold the product
        product = dig(state, "productv2", "productData", "response", "data")
        if isinstance(product, dict) and product:
            return parsed([_listing(product, evidence_digest(body), at, "")])
        catalog = dig(state, "catalog")
        if isinstance(dig(catalog, "data"), list):
            return parsed(
                _items(catalog["data"], evidence_digest(body), at, "catalog.data"),
                _next_page(url, catalog.get("paging")),
            )
    return _parse_json_ld(body, url, at)


def _next_data(body: bytes) -> bytes | None:
    """The Next.js state script's content; found by plain search, as a regex over 1 MB costs 5 ms."""
    marker = body.find(b'id="__NEXT_DATA__"')
    if marker < 0:
        return None
    start = body.find(b">", marker) + 1
    end = body.find(b"</script>", start)
    return body[start:end] if start > 0 and end > start else None


def _parse_json_ld(body: bytes, url: str, at: datetime) -> Parsed:
    page = selector(body, url)
    product = of_type(json_ld_objects(page), "Product")
    if product is None:
        raise ExtractionError(
            "product", f"{url}: no __NEXT_DATA__ product or catalog and no JSON-LD Product: not a Tiki product page"
        )
    offer = product.get("offers")
    offer = offer[0] if isinstance(offer, list) and offer else offer
    offer = offer if isinstance(offer, dict) else {}
    price = number(offer.get("price"))
    if price is None:
        raise ExtractionError("offers.price", f"{url}: JSON-LD Offer has no numeric price ({offer.get('price')!r})")
    page_url = str(product.get("url") or url)
    match = _PRODUCT_ID_IN_URL.search(page_url) or _PRODUCT_ID_IN_URL.search(url)
    if not match:
        raise ExtractionError("id", f"{url}: no -p<id>.html in the page or JSON-LD URL")
    rating = dig(product, "aggregateRating", "ratingValue")
    image = product.get("image")
    images = [dig(image, "url") or image] if isinstance(image, dict | str) else list(image or [])
    availability = str(offer.get("availability") or "")
    listing = make_listing(
        {
            "marketplace": MARKETPLACE,
            "listing_id": match.group(1),
            "url": url if url.startswith("http") else page_url,
            "title": product.get("name"),
            "description": product.get("description"),
            "price": price,
            "original_price": number(dig(offer, "priceSpecification", "price")),
            "currency": offer.get("priceCurrency") or "VND",
            "brand": dig(product, "brand", "name")
            or (product.get("brand") if isinstance(product.get("brand"), str) else None),
            "sku": product.get("sku"),
            "mpn": product.get("mpn"),
            "availability": "InStock" if availability.endswith("InStock") else "OutOfStock" if availability else None,
            "seller": {"name": dig(offer, "seller", "name")},
            "rating": number(rating),
            "images": http_urls(images),
            "captured_at": at,
            "evidence_digest": evidence_digest(body),
        }
    )
    return parsed([listing])


def _next_page(url: str, paging: Any) -> str | None:
    current, last = integer(dig(paging, "current_page")), integer(dig(paging, "last_page"))
    if current is None or last is None or current >= last:
        return None
    return with_query(url, page=current + 1)


def _items(items: list[Any], digest: str, at: datetime, where: str) -> list[Listing]:
    return listings_of(items, where, lambda item, place: _listing(item, digest, at, place))


def _listing(item: dict[str, Any], digest: str, at: datetime, where: str) -> Listing:
    """One product from the product API or one item of a search/category list (their keys differ)."""
    product_id = required(item, "id", where.rstrip("."))
    price = number(required(item, "price", where.rstrip(".")))
    if price is None:
        raise ExtractionError(f"{where}price", f"{item.get('price')!r} is not a number")
    seller = item.get("current_seller") if isinstance(item.get("current_seller"), dict) else {}
    review_count = integer(item.get("review_count"))
    rating = number(item.get("rating_average"))
    sold = integer(dig(item, "quantity_sold", "value"))
    original = number(item.get("list_price")) or number(item.get("original_price"))
    return make_listing(
        {
            "marketplace": MARKETPLACE,
            "listing_id": str(product_id),
            "url": _url(item),
            "title": required(item, "name", where.rstrip(".")),
            "description": item.get("short_description"),
            "price": price,
            "original_price": original,
            "currency": "VND",
            "brand": dig(item, "brand", "name") or item.get("brand_name"),
            "sku": seller.get("sku") or item.get("sku"),
            "availability": _availability(item),
            "seller": {
                # sp_seller_*: the seller of the search-list item, in older API versions
                "id": seller.get("id") or item.get("seller_id") or item.get("sp_seller_id"),
                "name": seller.get("name") or item.get("seller_name") or item.get("sp_seller_name"),
                "official": _official(item, seller),
            },
            "sold_count": sold if sold is not None else integer(item.get("all_time_quantity_sold")),
            # Tiki shows 0 stars for a product nobody has rated yet: that is no rating, not a bad one.
            "rating": None if rating is None or (rating == 0 and not review_count) else rating,
            "images": http_urls(_image_candidates(item)),
            "category": _category(item),
            "captured_at": at,
            "evidence_digest": digest,
        },
        where,
    )


def _url(item: dict[str, Any]) -> str:
    for key in ("url_path", "url_key"):
        path = item.get(key)
        if isinstance(path, str) and path.strip():
            path = path.strip().lstrip("/")
            if key == "url_key" and not path.endswith(".html"):
                path += ".html"
            return f"{SITE}/{path}"
    short = item.get("short_url")
    if isinstance(short, str) and short.startswith("http"):
        return short
    return f"{SITE}/product-p{item['id']}.html"


def _availability(item: dict[str, Any]) -> str | None:
    status = item.get("inventory_status")
    if isinstance(status, str) and status:
        return "OutOfStock" if status in _OUT_OF_STOCK else "InStock"
    flag = item.get("availability")
    if isinstance(flag, int) and not isinstance(flag, bool):
        return "InStock" if flag > 0 else "OutOfStock"
    qty = integer(dig(item, "stock_item", "qty"))
    return None if qty is None else "InStock" if qty > 0 else "OutOfStock"


def _official(item: dict[str, Any], seller: dict[str, Any]) -> bool:
    """Tiki's own marks: an official store, or its "Chính hãng" (authentic, refund 111% if fake) badge."""
    if seller.get("is_official") or item.get("is_from_official_store") or item.get("is_authentic"):
        return True
    badges = item.get("badges_new")
    return isinstance(badges, list) and any(
        isinstance(b, dict) and b.get("code") in ("is_authentic", "official_store") for b in badges
    )


def _image_candidates(item: dict[str, Any]) -> list[Any]:
    images = item.get("images")
    if isinstance(images, list) and images:
        return [(i.get("large_url") or i.get("base_url")) if isinstance(i, dict) else i for i in images]
    return [item.get("thumbnail_url")]


def _category(item: dict[str, Any]) -> str | None:
    crumbs = item.get("breadcrumbs")
    if isinstance(crumbs, list):
        # The last crumb is the product itself (category_id 0); the one before is its category.
        names = [c.get("name") for c in crumbs if isinstance(c, dict) and c.get("category_id")]
        if names:
            return names[-1]
    name = item.get("primary_category_name")
    if isinstance(name, str) and name.strip():
        return name
    group = item.get("productset_group_name")  # "Nhà Cửa - Đời Sống/Nội thất/…": the path, leaf last
    return group.rsplit("/", 1)[-1] if isinstance(group, str) and group.strip() else None
