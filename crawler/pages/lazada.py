"""Lazada: catalog JSON (`/catalog/?ajax=true`, items at `mods.listItems`) and the search results page.

listing_id is Lazada's itemId. Lazada runs one template in six countries; the currency comes from
the site's domain (lazada.vn VND, lazada.com.ph PHP, …), never assumed to be VND.
The search page is read from embedded JSON when it carries `listItems`, else from its product cards.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from parsel import Selector

from crawler.pages.base import (
    ExtractionError,
    Parsed,
    absolute,
    dig,
    evidence_digest,
    http_urls,
    integer,
    load_json,
    looks_like_json,
    make_listing,
    markup_listings,
    number,
    parsed,
    required,
    selector,
    with_query,
)
from crawler.pages.jsonapi import keys_of, listings_of
from kcnguard.records import Listing, utcnow

MARKETPLACE = "lazada"
SITE = "https://www.lazada.vn"
# Domain suffix -> ISO 4217 currency of that country's site.
CURRENCIES = {
    "lazada.vn": "VND",
    "lazada.com.ph": "PHP",
    "lazada.co.id": "IDR",
    "lazada.com.my": "MYR",
    "lazada.sg": "SGD",
    "lazada.co.th": "THB",
}
DOMAINS: tuple[str, ...] = tuple(CURRENCIES)

_EMBEDDED = re.compile(rb"window\.pageData\s*=\s*(\{.*?\})\s*;?\s*</script>", re.S)
# "₱1,234.50", "310.000 ₫", "RM 12.90": the digits, with the separators the country uses.
_MONEY = re.compile(r"(\d[\d.,\s]*)")
_SOLD = re.compile(r"([\d.,]+)\s*([kKmM]?)\+?\s*(?:sold|đã bán)|(?:đã bán)\s*([\d.,]+)\s*([kKmM]?)", re.I)


def search_url(query: str, page: int = 1, base_url: str = SITE) -> str:
    return f"{base_url.rstrip('/')}/catalog/?ajax=true&page={page}&q={quote(query)}"


def item_url(listing_id: str, base_url: str = SITE) -> str:
    """The product page; Lazada has no public product API, and resolves /products/i<itemId>.html itself."""
    if not listing_id.isdigit():
        raise ValueError(f"Lazada listing_id must be the numeric itemId, got {listing_id!r}")
    return f"{base_url.rstrip('/')}/products/i{listing_id}.html"


def currency_for(url: str) -> str:
    host = urlsplit(url).netloc.lower()
    for domain, currency in CURRENCIES.items():
        if host == domain or host.endswith("." + domain):
            return currency
    return "VND"


def parse(body: bytes, url: str, *, captured_at: datetime | None = None) -> Parsed:
    at = captured_at or utcnow()
    if looks_like_json(body):
        data = load_json(body, url)
        if isinstance(data, list):  # the listItems array saved on its own
            return parsed(_items(data, evidence_digest(body), url, at, "listItems"))
        return _catalog(data, body, url, at)
    embedded = _EMBEDDED.search(body)
    if embedded:
        try:
            data = json.loads(embedded.group(1))
        except ValueError:  # JSONDecodeError or UnicodeDecodeError
            data = None  # the cards below are still on the page
        if isinstance(dig(data, "mods", "listItems"), list):
            return _catalog(data, body, url, at)
    return _cards(body, url, at)


def _catalog(data: Any, body: bytes, url: str, at: datetime) -> Parsed:
    items = dig(data, "mods", "listItems")
    if items is None and isinstance(data, dict) and isinstance(data.get("mods"), dict):
        return parsed([])  # a search without results may come without listItems at all
    if not isinstance(items, list):
        raise ExtractionError("mods.listItems", f"{url}: not a catalog response; top-level keys are {keys_of(data)}")
    listings = _items(items, evidence_digest(body), url, at, "mods.listItems")
    info = data.get("mainInfo") if isinstance(data.get("mainInfo"), dict) else {}
    page, size, total = integer(info.get("page")), integer(info.get("pageSize")), integer(info.get("totalResults"))
    next_url = with_query(url, page=page + 1) if page and size and total and page * size < total and items else None
    return parsed(listings, next_url)


def _items(items: list[Any], digest: str, url: str, at: datetime, where: str) -> list[Listing]:
    return listings_of(items, where, lambda item, place: _listing(item, digest, url, at, place))


def _listing(item: dict[str, Any], digest: str, url: str, at: datetime, where: str) -> Listing:
    item_id = required(item, "itemId", where.rstrip("."))
    raw_price = required(item, "price", where.rstrip("."))
    price = number(raw_price)
    if price is None:
        raise ExtractionError(f"{where}price", f"{str(raw_price)[:40]!r} is not a number")
    product_url = item.get("productUrl")
    reviews = integer(item.get("review"))
    rating = number(item.get("ratingScore"))
    in_stock = item.get("inStock")
    return make_listing(
        {
            "marketplace": MARKETPLACE,
            "listing_id": str(item_id),
            "url": (absolute("https:", product_url) if isinstance(product_url, str) else None)
            or f"{_site(url)}/products/i{item_id}.html",
            "title": required(item, "name", where.rstrip(".")),
            "price": price,
            "original_price": number(item.get("originalPrice")) or None,
            "currency": currency_for(url),
            "brand": item.get("brandName"),
            "sku": item.get("sku"),
            "availability": None if not isinstance(in_stock, bool) else "InStock" if in_stock else "OutOfStock",
            "seller": {"id": item.get("sellerId"), "name": item.get("sellerName"), "official": _lazmall(item)},
            "sold_count": _sold(item.get("itemSoldCntShow")),
            "rating": rating if rating and (reviews is None or reviews > 0) else None,
            "images": http_urls([item.get("image")]),
            "location": item.get("location"),
            "captured_at": at,
            "evidence_digest": digest,
        },
        where,
    )


def _site(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else SITE


def _lazmall(item: dict[str, Any]) -> bool:
    """LazMall is Lazada's mark for brands' official stores; catalog items show it as an icon."""
    if item.get("isLazMall") is True:
        return True
    icons = item.get("icons")
    return isinstance(icons, list) and any("lazmall" in json.dumps(i).lower() for i in icons)


def _sold(text: Any) -> int | None:
    """ "2k+ sold", "Đã bán 1,2K" -> a lower bound on units sold."""
    if not isinstance(text, str):
        return integer(text)
    match = _SOLD.search(text)
    if not match:
        return None
    digits, unit = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
    scale = {"k": 1000, "m": 1_000_000}.get(unit.lower(), 1)
    # "1,2K" is 1.2 thousand; "9,999" is nine thousand nine hundred and ninety-nine.
    value = number(digits.replace(",", ".")) if scale > 1 else number(digits.replace(",", "").replace(".", ""))
    return int(value * scale) if value is not None else None


def _money(text: str | None) -> float | None:
    """A shown price in any Lazada country: "₱1,234.50" (dot decimals) or "310.000 ₫" (dot thousands)."""
    if not text:
        return None
    match = _MONEY.search(text)
    if not match:
        return None
    digits = re.sub(r"\s", "", match.group(1)).rstrip(".,")
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", digits):
        return float(re.sub(r"[.,]", "", digits))  # only thousands separators
    if re.fullmatch(r"[\d,]*\.\d{1,2}", digits):
        return float(digits.replace(",", ""))
    if re.fullmatch(r"[\d.]*,\d{1,2}", digits):
        return float(digits.replace(".", "").replace(",", "."))
    return number(digits)


def _results_region(body: bytes) -> bytes:
    """The results grid and its pagination: a third of the page, so a third of the parsing."""
    start = body.find(b'data-qa-locator="general-products"')
    if start < 0:
        return body
    start = max(body.rfind(b"<div", 0, start), 0)
    pagination = body.find(b"ant-pagination", start)
    end = body.find(b"</ul>", pagination) if pagination >= 0 else -1
    return body[start : end + len(b"</ul>")] if end >= 0 else body[start:]


def _cards(body: bytes, url: str, at: datetime) -> Parsed:
    region = _results_region(body)
    page = selector(region, url)
    cards = page.css('[data-qa-locator="product-item"]')
    if not cards and region is not body:
        page = selector(body, url)  # the grid has moved: look at the whole page before giving up
        cards = page.css('[data-qa-locator="product-item"]')
    if not cards:
        if page.css('[data-qa-locator="general-products"]'):
            return parsed([])  # the results container is there and empty: no results
        raise ExtractionError(
            "product-item",
            f"{url}: no window.pageData listItems and no [data-qa-locator=product-item] cards: "
            "not a Lazada search page",
        )
    listings = markup_listings(cards, "product-item", _card, evidence_digest(body), url, at)
    return parsed(listings, _next_page(page, url))


def _card(card: Selector, digest: str, url: str, at: datetime, where: str) -> Listing:
    item_id = card.attrib.get("data-item-id")
    if not item_id:
        raise ExtractionError(f"{where}data-item-id", "the card has no data-item-id attribute")
    link = card.css("a[title]")
    title = link.attrib.get("title") if link else None
    if not title:
        raise ExtractionError(f"{where}title", "the card has no a[title] link")
    # Class names are generated per build; the price is the first text that carries the currency sign.
    texts = [" ".join(t.split()) for t in card.css("span::text, div::text").getall()]
    shown = next((t for t in texts if re.search(r"[₱₫$฿]|RM|Rp|\bđ\b", t)), None)
    price = _money(shown)
    if price is None:
        raise ExtractionError(f"{where}price", f"no text with a currency sign in the card of item {item_id}")
    struck = card.css("del::text").get()
    sold = next((_sold(t) for t in texts if _SOLD.search(t)), None)
    badges = " ".join(card.css("i::attr(style), img::attr(src)").getall()).lower()
    location = card.css("span[title]::attr(title)").getall()
    href = link.attrib.get("href") or ""
    return make_listing(
        {
            "marketplace": MARKETPLACE,
            "listing_id": item_id,
            "url": absolute(url, href.split("?")[0]) or f"{_site(url)}/products/i{item_id}.html",
            "title": title,
            "price": price,
            "original_price": _money(struck),
            "currency": currency_for(url),
            "sku": card.attrib.get("data-sku-simple"),
            "seller": {"official": "lazmall" in badges},
            "sold_count": sold,
            # The card shows the rating only as star icons with generated classes: not guessed at.
            "rating": None,
            # Lazy-loaded pictures keep the address in data-src; a saved page has local ./files paths.
            "images": http_urls(card.css("img[type=product]::attr(data-src), img[type=product]::attr(src)").getall()),
            "location": location[-1] if location else None,
            "captured_at": at,
            "evidence_digest": digest,
        },
        where,
    )


def _next_page(page: Selector, url: str) -> str | None:
    href = page.css("li.ant-pagination-item-active + li.ant-pagination-item a::attr(href)").get()
    if href:
        return absolute(url, href)
    nxt = page.css("li.ant-pagination-next")
    if nxt and "ant-pagination-disabled" not in (nxt.attrib.get("class") or ""):
        current = page.css("li.ant-pagination-item-active::attr(title)").get()
        number_ = integer(current)
        return with_query(url, page=number_ + 1) if number_ else None
    return None
