"""What every marketplace's page objects share: the error they raise and the parsing they repeat."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from parsel import Selector
from pydantic import ValidationError

from kcnguard.records import Listing
from kcnguard.validation import field_name

_XML_INCOMPATIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# VND has no minor unit; sellers write 1.290.000₫, 1,290,000 đ or 1290000 VND.
_VND_TEXT = re.compile(r"^\s*(\d{1,3}(?:[.,\s]\d{3})+|\d+)\s*(?:₫|đ|vnđ|vnd|d)?\s*$", re.IGNORECASE)


class ExtractionError(ValueError):
    """A page lacks a field a listing cannot do without; the message names the field and where it was sought."""

    def __init__(self, field: str, detail: str) -> None:
        self.field = field
        super().__init__(f"{field} not found: {detail}")


@dataclass(frozen=True)
class Parsed:
    """What one response holds: its listings, the next page of results, links to product pages.

    `missing` names optional fields the source did not carry on any listing, so a debugger sees
    at once whether a null is the marketplace's silence or a parser that lost its way.
    """

    listings: list[Listing]
    next_url: str | None = None
    product_urls: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


# Optional Listing fields reported in Parsed.missing when no listing of a response has them.
OPTIONAL_FIELDS = (
    "original_price",
    "brand",
    "sku",
    "gtin",
    "availability",
    "seller.id",
    "seller.name",
    "sold_count",
    "rating",
    "images",
    "category",
    "location",
)


def missing_fields(listings: list[Listing]) -> list[str]:
    """The optional fields that are empty on every listing (none when there are no listings)."""
    if not listings:
        return []
    gone: list[str] = []
    for name in OPTIONAL_FIELDS:
        owner, _, attr = name.rpartition(".")
        values = [getattr(getattr(item, owner) if owner else item, attr) for item in listings]
        if all(v is None or v == [] for v in values):
            gone.append(name)
    return gone


def parsed(listings: list[Listing], next_url: str | None = None, product_urls: list[str] | None = None) -> Parsed:
    return Parsed(listings, next_url, product_urls or [], missing_fields(listings))


def load_json(body: bytes, url: str) -> Any:
    """The decoded JSON body; ExtractionError("json", ...) with the parser's complaint when it is not JSON."""
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        start = body[:60].decode("utf-8", errors="replace")
        raise ExtractionError("json", f"{url} is not valid JSON ({exc}); it starts with {start!r}") from None


def looks_like_json(body: bytes) -> bool:
    return body.lstrip()[:1] in (b"{", b"[")


def dig(data: Any, *path: str | int) -> Any:
    """data[path[0]][path[1]]...; None as soon as a step is absent or of the wrong kind."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(data, list) or not -len(data) <= step < len(data):
                return None
        elif not isinstance(data, dict):
            return None
        data = data[step] if isinstance(step, int) else data.get(step)
    return data


def required(item: dict[str, Any], key: str, where: str) -> Any:
    """item[key] when present and not null/empty; ExtractionError naming `where.key` otherwise."""
    value = item.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        state = "null or empty" if key in item else "absent"
        keys = ", ".join(sorted(item)[:25])
        raise ExtractionError(f"{where}.{key}" if where else key, f"{state}; the object has keys {keys}")
    return value


def clip(value: Any, limit: int) -> str | None:
    """A stripped string of at most `limit` characters, or None; hostile pages send megabyte titles."""
    if value is None or isinstance(value, dict | list | bool):
        return None
    text = str(value).strip()
    return text[:limit] if text else None


def http_urls(candidates: list[Any], limit: int = 50) -> list[str]:
    """The absolute http(s) URLs among candidates, deduplicated, in order, at most `limit`."""
    urls: list[str] = []
    for candidate in candidates:
        if not isinstance(candidate, str):
            continue
        url = candidate.strip()
        if url.startswith("//"):
            url = "https:" + url
        if re.match(r"^https?://\S+$", url) and len(url) <= 4096 and url not in urls:
            urls.append(url)
        if len(urls) >= limit:
            break
    return urls


def gtin_or_none(value: Any) -> str | None:
    """A GTIN-8/12/13/14 as digits; anything else is not claimed to be one."""
    text = clip(value, 20)
    return text if text and re.fullmatch(r"\d{8}|\d{12,14}", text) else None


# Record limits (kcnguard/records/listing.py); past them the rest stays in the evidence body.
LIMITS = {"title": 1000, "description": 20_000, "brand": 300, "sku": 128, "mpn": 128, "category": 300, "location": 300}


def make_listing(fields: dict[str, Any], where: str = "") -> Listing:
    """A validated Listing; text fields clipped to the record's limits, and a validation failure
    becomes ExtractionError naming the field (prefixed with `where`, e.g. the item's position)."""
    for name, limit in LIMITS.items():
        if name in fields:
            fields[name] = clip(fields[name], limit)
    seller = fields.get("seller")
    if isinstance(seller, dict):
        seller["id"] = clip(seller.get("id"), 128)
        seller["name"] = clip(seller.get("name"), 300)
    return validated_listing(fields, where)


def validated_listing(fields: dict[str, Any], where: str = "") -> Listing:
    """Listing(**fields), its first validation failure as ExtractionError naming the field (after `where`)."""
    try:
        return Listing(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = field_name(first["loc"], "listing")
        shown = repr(first.get("input"))[:80]
        raise ExtractionError(f"{where}{name}", f"value {shown} is invalid: {first['msg']}") from None


def first_per_id(listings: Iterable[Listing]) -> list[Listing]:
    """The listings in order, one per listing_id: sponsored slots repeat products that also appear in the
    organic results, and the first sighting is kept."""
    kept: dict[str, Listing] = {}
    for listing in listings:
        kept.setdefault(listing.listing_id, listing)
    return list(kept.values())


def markup_safe(read: Callable[..., Listing], where: str, *args: Any) -> Listing:
    """read(*args, where) with lxml's own ValueError (a control character in a mangled attribute name, …)
    turned into ExtractionError naming the element, as every other bad input is."""
    try:
        return read(*args, where)
    except ExtractionError:
        raise
    except ValueError as exc:
        raise ExtractionError(where.rstrip("."), f"malformed markup: {exc}") from None


def markup_listings(nodes: list[Selector], name: str, read: Callable[..., Listing], *args: Any) -> list[Listing]:
    """Each element read as a listing by read(node, *args, where), where = "name[position].", one per listing_id."""
    return first_per_id(markup_safe(read, f"{name}[{position}].", node, *args) for position, node in enumerate(nodes))


def with_query(url: str, **params: Any) -> str:
    """url with the given query parameters set (replaced if present), the others kept in order."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, str(v)) for k, v in params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def evidence_digest(body: bytes) -> str:
    """SHA-256 of the raw response, so a stored copy can later be proven to be what was seen."""
    return hashlib.sha256(body).hexdigest()


def selector(body: bytes, url: str) -> Selector:
    # Pages declare UTF-8; a stray invalid byte must not cost the whole page.
    text = body.decode("utf-8", errors="replace")
    try:
        return Selector(text=text, base_url=url)
    except ValueError:
        # lxml refuses NUL and other C0 controls outright; they carry nothing, so they go (only
        # on this rare path, to spare the common one a pass over the page).
        return Selector(text=_XML_INCOMPATIBLE.sub("", text), base_url=url)


def absolute(base: str, href: str | None) -> str | None:
    """href resolved against base; None for an empty or malformed one (e.g. "http://[bad")."""
    if not href or not href.strip():
        return None
    try:
        return urljoin(base, href.strip())
    except ValueError:
        return None


def json_ld_objects(page: Selector) -> list[dict[str, Any]]:
    """Every JSON-LD object on the page, flattening lists and @graph; broken blocks are skipped."""
    found: list[dict[str, Any]] = []
    for block in page.css('script[type="application/ld+json"]::text').getall():
        try:
            data = json.loads(block)
        except json.JSONDecodeError:
            continue  # the DOM fallback still has a chance; a missing field is reported there
        stack = data if isinstance(data, list) else [data]
        for item in stack:
            if isinstance(item, dict):
                found.append(item)
                graph = item.get("@graph")
                if isinstance(graph, list):
                    found.extend(g for g in graph if isinstance(g, dict))
    return found


def of_type(objects: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    for obj in objects:
        declared = obj.get("@type")
        if declared == kind or (isinstance(declared, list) and kind in declared):
            return obj
    return None


def number(value: Any) -> float | None:
    """A JSON-LD or attribute number: int, float or a plain numeric string; anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def vnd_text(text: str | None) -> float | None:
    """A price as shown to buyers ("1.290.000₫"); None when the text holds no single price."""
    if not text:
        return None
    match = _VND_TEXT.match(text)
    if not match:
        return None
    return float(re.sub(r"[.,\s]", "", match.group(1)))


def integer(value: Any) -> int | None:
    parsed = number(value)
    return int(parsed) if parsed is not None and parsed >= 0 and parsed == int(parsed) else None


def text_of(page: Selector, css: str) -> str | None:
    """The visible text of the first match, whitespace collapsed; None when absent or empty."""
    node = page.css(css)
    if not node:
        return None
    text = " ".join((node[0].xpath("string()").get() or "").split())
    return text or None
