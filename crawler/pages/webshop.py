"""Any web shop's product page: schema.org Product (JSON-LD, microdata, RDFa), OpenGraph, then HTML.

Each field takes the first source that has it, in this order: JSON-LD, microdata, RDFa,
OpenGraph/product: meta tags, then the HTML fallbacks of webshop_dom (itemprop outside an
itemscope, price- and sku-named elements, labels, add-to-cart and sold-out texts, analytics
ecommerce objects). `ProductFields.sources` says where each value came from, and `parse`
reports the fields the page lacks in `Parsed.missing`, so a null is never silent.

listing_id is the host plus the first 16 hex digits of the SHA-256 of path and query: stable
across crawls, and within the ListingId pattern whatever the URL holds.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html
from w3lib.encoding import html_to_unicode

from crawler.pages import webshop_dom as dom
from crawler.pages import webshop_markup as markup
from crawler.pages.base import ExtractionError, Parsed, evidence_digest, gtin_or_none, http_urls, make_listing
from crawler.pages.webshop_values import (
    availability_value,
    clean_identifier,
    currency_code,
    currency_in_text,
    price_value,
)
from kcnguard.records import utcnow

MARKETPLACE = "webshop"
# A product page is rarely above 3 MB; past this the rest is ignored, not parsed (hostile pages).
MAX_BODY = 12_000_000
# Decompressed size limit for saved gzipped pages (a gzip bomb stops here).
MAX_GUNZIPPED = 40_000_000

FIELDS = (
    "title",
    "price",
    "currency",
    "original_price",
    "sku",
    "gtin",
    "mpn",
    "brand",
    "availability",
    "images",
    "seller_name",
    "rating",
    "description",
)


@dataclass
class ProductFields:
    """One product as a page shows it; each field None when the page does not carry it."""

    title: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    original_price: Decimal | None = None
    sku: str | None = None
    gtin: str | None = None
    mpn: str | None = None
    brand: str | None = None
    availability: str | None = None
    images: list[str] | None = None
    seller_name: str | None = None
    rating: float | None = None
    description: str | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def missing(self) -> list[str]:
        """The fields the page did not carry, named as on the Listing record ("seller.name")."""
        gone = [name for name in FIELDS if getattr(self, name) in (None, [])]
        return ["seller.name" if name == "seller_name" else name for name in gone]


def decode(body: bytes) -> str:
    """The page's text: gunzipped when saved compressed, decoded by BOM, then meta charset, else UTF-8."""
    if body[:2] == b"\x1f\x8b":
        try:
            body = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, MAX_GUNZIPPED)
        except (zlib.error, gzip.BadGzipFile) as exc:
            raise ExtractionError("body", f"gzip-compressed body does not decompress ({exc})") from None
    _, text = html_to_unicode(None, body[:MAX_BODY])
    return text


def _tree(html: str) -> lxml.html.HtmlElement | None:
    if not html.strip():
        return None
    try:
        return lxml.html.fromstring(html.replace("\x00", ""))
    except (lxml.etree.ParserError, ValueError):
        return None


def extract_product(html: str, url: str) -> ProductFields:
    """Every product field the page carries, each from its best source; never raises on bad HTML."""
    result = ProductFields()
    tree = _tree(html)
    if tree is None:
        return result
    page_title = dom.title(tree)
    candidates: list[tuple[str, dict[str, Any]]] = []
    for source, objects in (
        ("json-ld", markup.json_ld(tree)),
        ("microdata", markup.microdata(tree, url)),
        ("rdfa", markup.rdfa(html, tree, url)),
    ):
        product = markup.main_product(objects, page_title)
        if product:
            candidates.append((source, product))
    candidates.append(("og", markup.opengraph(tree)))
    candidates.append(("dom:itemprop", _itemprop_fields(tree)))
    _fill(result, candidates, url)
    _dom_fallbacks(result, tree, page_title)
    return result


def _itemprop_fields(tree: lxml.html.HtmlElement) -> dict[str, Any]:
    names = {
        "price": "price",
        "currency": "priceCurrency",
        "availability": "availability",
        "sku": "sku",
        "mpn": "mpn",
        "gtin": "gtin13",
        "brand": "brand",
    }
    found = dom.itemprops(tree, tuple(names.values()))
    return {key: found[prop] for key, prop in names.items() if prop in found}


def _take(result: ProductFields, name: str, value: Any, source: str) -> bool:
    """Set a field the page has not filled yet, noting where the value came from."""
    if value in (None, "", []) or getattr(result, name) not in (None, []):
        return False
    setattr(result, name, value)
    result.sources[name] = source
    return True


def _fill(result: ProductFields, candidates: list[tuple[str, dict[str, Any]]], url: str) -> None:
    """Each field from the first candidate (in order of trust) that has a usable value for it."""
    for source, fields in candidates:
        _take(result, "title", _clean_text(fields.get("title"), 1000), source)
        _take(result, "description", _clean_text(fields.get("description"), 20_000), source)
        _take(result, "brand", _clean_name(fields.get("brand")), source)
        _take(result, "seller_name", _clean_name(fields.get("seller_name")), source)
        _take(result, "sku", clean_identifier(fields.get("sku")), source)
        _take(result, "mpn", clean_identifier(fields.get("mpn")), source)
        _take(result, "gtin", gtin_or_none(fields.get("gtin")), source)
        currency = currency_code(fields.get("currency"))
        if result.price is None and fields.get("price") is not None:
            # itemprop text outside an itemscope is written for people ("1.290.000₫"), the rest for machines.
            price = price_value(fields["price"], currency, machine=source != "dom:itemprop")
            if _take(result, "price", price, source):
                _take(result, "currency", currency, source)
        _take(result, "currency", currency, source)
        _take(result, "availability", availability_value(fields.get("availability")), source)
        images = [urljoin(url, i) for i in fields.get("images") or [] if isinstance(i, str)]
        _take(result, "images", http_urls(images), source)
        if fields.get("rating") is not None:
            _take(result, "rating", _rating(fields["rating"], fields.get("rating_scale")), source)


def _clean_text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    return " ".join(str(value).split())[:limit] or None


# "Marca: Panasonic", "Brand: Sony": a label the shop printed inside the brand element.
_LABEL_PREFIX = re.compile(r"^[^:]{0,40}:\s*")


def _clean_name(value: Any) -> str | None:
    """A brand or seller name; unrendered template placeholders ("$metabrand", "{{brand}}") are not names."""
    text = _clean_text(value, 300)
    if not text or text.startswith("$") or "{{" in text or "${" in text:
        return None
    text = _LABEL_PREFIX.sub("", text) if ":" in text and not text.startswith("http") else text
    return text or None


def _rating(value: Any, scale: Any) -> float | None:
    rating = price_value(str(value), machine=True) if value is not None else None
    best = price_value(str(scale), machine=True) if scale is not None else None
    if rating is None:
        return None
    scaled = float(rating) * 5 / float(best) if best else float(rating)
    return round(scaled, 2) if 0 <= scaled <= 5 else None


def _dom_fallbacks(result: ProductFields, tree: lxml.html.HtmlElement, page_title: str | None) -> None:
    if result.title is None and page_title:
        result.title, result.sources["title"] = page_title, "dom:h1"
    if result.price is not None and result.sources.get("price") != "dom:itemprop":
        _prefer_shown_price(result, tree)
    if result.price is None:
        # Without an h1 to anchor on, the price-named elements may be any product's; an analytics
        # object describes the page's own product, so it goes first then.
        readers = (_shown_price, _script_price) if dom.title_anchor(tree) else (_script_price, _shown_price)
        for reader in (*readers, _text_price):
            if reader(result, tree):
                break
    printed = dom.labels(tree)
    found = dom.labelled_sku(tree, printed)
    if found:
        value, source, strength = found
        # A shop's printed, labelled code is what buyers and the shop use; structured data often
        # carries an internal variant id instead, one the page never prints.
        overrides = strength == 0 and source == "dom:label" and value != result.sku
        if result.sku is None or (overrides and not dom.shows_text(tree, result.sku)):
            result.sku, result.sources["sku"] = value, source
    _take(result, "mpn", printed.get("mpn"), "dom:label")
    _take(result, "brand", _clean_name(printed.get("brand")), "dom:label")
    if result.mpn is not None and result.mpn == result.sku:
        # The shop's own code given twice says nothing about the maker's part number.
        result.mpn = None
        result.sources.pop("mpn", None)
    if result.availability is None:
        signal = dom.stock_signal(tree)
        if signal:
            result.availability, result.sources["availability"] = signal
        elif result.price is not None:
            # A product page showing a price with no sold-out sign sells it (the benchmark's rule too).
            result.availability, result.sources["availability"] = "InStock", "inferred:price-shown"


def _shown_price(result: ProductFields, tree: lxml.html.HtmlElement) -> bool:
    shown = dom.price_text(tree)
    if not shown:
        return False
    text, source = shown
    currency = result.currency or currency_in_text(text)
    price = price_value(text, currency)
    if price is None:
        return False
    result.price, result.sources["price"] = price, source
    if result.currency is None and currency:
        result.currency, result.sources["currency"] = currency, source
    return True


def _prefer_shown_price(result: ProductFields, tree: lxml.html.HtmlElement) -> None:
    """Structured data often keeps the regular price while the page shows a sale price. When the
    page shows the markup's price struck through or named as the old price, the buyer pays the
    lower current price shown beside it, which then replaces the markup one."""
    assert result.price is not None
    struck = {price_value(text, result.currency) for text in dom.old_price_texts(tree)}
    if result.price not in struck:
        return
    shown = dom.price_text(tree)
    if not shown:
        return
    price = price_value(shown[0], result.currency)
    if price is not None and price < result.price:
        result.original_price, result.sources["original_price"] = result.price, result.sources["price"]
        result.price, result.sources["price"] = price, shown[1]


def _text_price(result: ProductFields, tree: lxml.html.HtmlElement) -> bool:
    found = dom.price_in_text(tree)
    if not found:
        return False
    currency = result.currency or currency_in_text(found[0])
    price = price_value(found[0], currency)
    if price is None:
        return False
    result.price, result.sources["price"] = price, found[1]
    if result.currency is None and currency:
        result.currency, result.sources["currency"] = currency, found[1]
    return True


def _script_price(result: ProductFields, tree: lxml.html.HtmlElement) -> bool:
    raw = dom.datalayer_price(tree)
    price = price_value(raw, machine=True) if raw else None
    if price is None:
        return False
    result.price, result.sources["price"] = price, "js:datalayer"
    return True


def listing_id(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "unknown").lower()
    digest = hashlib.sha256(f"{parts.path}?{parts.query}".encode()).hexdigest()[:16]
    return f"{host}-{digest}"[:128]


def parse(body: bytes, url: str, *, captured_at: datetime | None = None) -> Parsed:
    product = extract_product(decode(body), url)
    if product.price is None and product.title is None:
        raise ExtractionError(
            "price, title",
            f"{url}: no schema.org Product, og:/product: tags, h1/title or price element on the page",
        )
    if product.title is None:
        raise ExtractionError("title", f"{url}: a price ({product.price}) but no product name, h1 or <title>")
    price, currency = product.price, product.currency
    missing = product.missing()
    if currency is None and (urlsplit(url).hostname or "").endswith(".vn"):
        currency = "VND"  # a Vietnamese shop that prints "1.290.000" without a symbol
    elif currency is None and price is not None:
        # An amount in an unknown currency would be compared with VND reference prices; drop it, say so.
        price = None
        missing.append("price")
    listing = make_listing(
        {
            "marketplace": MARKETPLACE,
            "listing_id": listing_id(url),
            "url": url,
            "title": product.title,
            "description": product.description,
            "price": float(price) if price is not None else None,
            "original_price": float(product.original_price) if product.original_price is not None else None,
            "currency": currency or "VND",
            "brand": product.brand,
            "sku": product.sku,
            "gtin": product.gtin,
            "mpn": product.mpn,
            "availability": product.availability,
            "seller": {"name": product.seller_name},
            "rating": product.rating,
            "images": product.images or [],
            "captured_at": captured_at or utcnow(),
            "evidence_digest": evidence_digest(body),
        }
    )
    return Parsed([listing], missing=missing)
