"""schema.org Product and OpenGraph product tags, in every syntax extruct reads, as flat candidate fields.

Each syntax yields at most one product: the page's main one, chosen by how well its name matches
the page's title, then by whether it carries a price. Broken blocks (a JSON-LD script with a
syntax error, RDFa that trips pyRdfa) cost only themselves, never the page.
"""

from __future__ import annotations

import logging
from typing import Any

from extruct.jsonld import JsonLdExtractor
from extruct.opengraph import OpenGraphExtractor
from extruct.rdfa import RDFaExtractor
from extruct.uniform import _umicrodata_microformat, _uopengraph
from extruct.utils import parse_xmldom_html
from extruct.w3cmicrodata import MicrodataExtractor
from lxml.html import HtmlElement

from crawler.pages.webshop_values import availability_value

log = logging.getLogger(__name__)

_PRODUCT_TYPES = {"product", "productgroup", "individualproduct", "productmodel", "car", "vehicle"}
_GTIN_KEYS = ("gtin13", "gtin", "gtin12", "gtin14", "gtin8", "ean")
_MAX_OBJECTS = 2000  # a page with more nested objects than this is not worth walking further

Fields = dict[str, Any]


def _type_names(obj: dict[str, Any]) -> list[str]:
    declared = obj.get("@type") or obj.get("type") or []
    names = declared if isinstance(declared, list) else [declared]
    return [str(n).rsplit("/", 1)[-1].rsplit("#", 1)[-1].lower() for n in names if isinstance(n, str)]


def _walk(data: Any) -> list[dict[str, Any]]:
    """Every object nested in data (lists, @graph, properties), breadth first, bounded."""
    found: list[dict[str, Any]] = []
    queue = [data]
    while queue and len(found) < _MAX_OBJECTS:
        item = queue.pop(0)
        if isinstance(item, list):
            queue.extend(item)
        elif isinstance(item, dict):
            found.append(item)
            queue.extend(v for v in item.values() if isinstance(v, dict | list))
    return found


def _first(value: Any) -> Any:
    while isinstance(value, list):
        if not value:
            return None
        value = value[0]
    return value


def _text(value: Any) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("@id")
        value = _first(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _offers(product: dict[str, Any]) -> list[dict[str, Any]]:
    offers = product.get("offers") or product.get("offer") or []
    offers = offers if isinstance(offers, list) else [offers]
    flat: list[dict[str, Any]] = []
    for offer in offers:
        if not isinstance(offer, dict):
            continue
        flat.append(offer)
        nested = offer.get("offers")  # AggregateOffer lists its offers
        if isinstance(nested, list):
            flat.extend(o for o in nested if isinstance(o, dict))
        elif isinstance(nested, dict):
            flat.append(nested)
    return flat


def _offer_price(offer: dict[str, Any]) -> tuple[Any, Any]:
    """(price, currency) of an offer, looking into priceSpecification and AggregateOffer's lowPrice."""
    spec = _first(offer.get("priceSpecification"))
    spec = spec if isinstance(spec, dict) else {}
    price = _first(offer.get("price"))
    if price in (None, ""):
        price = _first(spec.get("price"))
    if price in (None, ""):
        price = _first(offer.get("lowPrice"))
    currency = _first(offer.get("priceCurrency")) or _first(spec.get("priceCurrency"))
    return price, currency


def product_fields(product: dict[str, Any]) -> Fields:
    """The flat fields of one schema.org Product object (values as written; parsed later)."""
    fields: Fields = {
        "title": _text(product.get("name")),
        "sku": _text(product.get("sku")) or _text(product.get("productID")),
        "mpn": _text(product.get("mpn")),
        "brand": _text(product.get("brand")) or _text(product.get("manufacturer")),
        "description": _text(product.get("description")),
    }
    for key in _GTIN_KEYS:
        if _text(product.get(key)):
            fields["gtin"] = _text(product.get(key))
            break
    images = product.get("image")
    images = images if isinstance(images, list) else [images]
    fields["images"] = [
        (img.get("url") or img.get("contentUrl")) if isinstance(img, dict) else img for img in images if img
    ]
    rating = product.get("aggregateRating")
    if isinstance(rating, dict):
        fields["rating"] = _first(rating.get("ratingValue"))
        fields["rating_scale"] = _first(rating.get("bestRating"))
    states: list[str] = []
    for offer in _offers(product):
        price, currency = _offer_price(offer)
        if price not in (None, "") and "price" not in fields:
            fields["price"] = price
            fields["currency"] = currency
            fields["seller_name"] = _text(offer.get("seller"))
            fields["sku"] = fields["sku"] or _text(offer.get("sku"))
            fields["gtin"] = fields.get("gtin") or _text(offer.get("gtin13")) or _text(offer.get("gtin"))
        state = _text(offer.get("availability"))
        if state:
            states.append(state)
    if states:
        # One offer per size or colour: the product can be bought while any of them is in stock.
        in_stock = [s for s in states if availability_value(s) == "InStock"]
        fields["availability"] = in_stock[0] if in_stock else states[0]
    return {k: v for k, v in fields.items() if v not in (None, "", [])}


def _words(text: str | None) -> set[str]:
    return {w for w in (text or "").lower().split() if len(w) > 2}


def main_product(objects: list[dict[str, Any]], page_title: str | None) -> Fields | None:
    """The product the page is about among all Product objects of one syntax."""
    products = [o for o in objects if _PRODUCT_TYPES.intersection(_type_names(o))]
    if not products:
        return None
    title_words = _words(page_title)
    best: tuple[float, int] | None = None
    chosen: Fields | None = None
    for position, product in enumerate(products):
        fields = product_fields(product)
        if not fields:
            continue
        name_words = _words(fields.get("title"))
        overlap = len(title_words & name_words) / len(name_words) if name_words else 0.0
        score = (overlap + (0.5 if "price" in fields else 0.0), -position)
        if best is None or score > best:
            best, chosen = score, fields
    return chosen


def json_ld(tree: HtmlElement) -> list[dict[str, Any]]:
    """Every JSON-LD object; a block that does not parse is logged and skipped."""
    extractor = JsonLdExtractor()
    objects: list[dict[str, Any]] = []
    for node in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            objects.extend(_walk(extractor.extract_items(node)))
        except Exception as exc:
            log.debug("JSON-LD block skipped: %s", exc)
    return objects


def microdata(tree: HtmlElement, url: str) -> list[dict[str, Any]]:
    try:
        items = MicrodataExtractor().extract_items(tree, base_url=url)
        return _walk(_umicrodata_microformat(items, "http://schema.org"))
    except Exception as exc:
        log.debug("microdata skipped: %s", exc)
        return []


def rdfa(html: str, tree: HtmlElement, url: str) -> list[dict[str, Any]]:
    """schema.org in RDFa; pyRdfa takes about a second on a big page, so it runs only on pages
    that declare an RDFa Product or Offer (others use RDFa for breadcrumbs and site names)."""
    if not tree.xpath("(//*[contains(@typeof, 'Product') or contains(@typeof, 'Offer')])[1]"):
        return []
    try:
        graph = RDFaExtractor().extract_items(parse_xmldom_html(html, encoding="UTF-8"), base_url=url)
    except Exception as exc:
        log.debug("RDFa skipped: %s", exc)
        return []
    objects: list[dict[str, Any]] = []
    for node in graph:
        if not isinstance(node, dict):
            continue
        flat: dict[str, Any] = {"@type": node.get("@type", [])}
        for key, values in node.items():
            if key.startswith("@"):
                continue
            name = key.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
            flat[name] = [v.get("@value") or v.get("@id") for v in values if isinstance(v, dict)]
        objects.append(flat)
    by_id = {n.get("@id"): o for n, o in zip(graph, objects, strict=False) if isinstance(n, dict)}
    for obj in objects:  # resolve offers/brand references to their nodes
        for key in ("offers", "brand", "aggregateRating"):
            refs = obj.get(key)
            if isinstance(refs, list):
                obj[key] = [by_id.get(r, r) for r in refs]
    return objects


def opengraph(tree: HtmlElement) -> Fields:
    """og:/product: meta tags as product fields (og:type need not say product; many shops omit it)."""
    try:
        items = _uopengraph(list(OpenGraphExtractor().extract_items(tree)))
    except Exception as exc:
        log.debug("OpenGraph skipped: %s", exc)
        return {}
    props: dict[str, Any] = {}
    for item in items:
        props.update({k: _first(v) for k, v in item.items()})
    fields: Fields = {
        "title": props.get("og:title"),
        "price": props.get("product:price:amount") or props.get("og:price:amount"),
        "currency": props.get("product:price:currency") or props.get("og:price:currency"),
        "availability": props.get("product:availability") or props.get("og:availability"),
        "brand": props.get("product:brand") or props.get("og:brand"),
        "sku": props.get("product:retailer_item_id") or props.get("product:sku"),
        "gtin": props.get("product:ean") or props.get("product:upc") or props.get("product:gtin"),
        "mpn": props.get("product:mfr_part_no"),
        "description": props.get("og:description"),
        "images": [props["og:image"]] if props.get("og:image") else [],
    }
    return {k: v for k, v in fields.items() if v not in (None, "", [])}
