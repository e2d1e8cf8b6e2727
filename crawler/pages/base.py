"""What every marketplace's page objects share: the error they raise and the parsing they repeat."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from parsel import Selector

# VND has no minor unit; sellers write 1.290.000₫, 1,290,000 đ or 1290000 VND.
_VND_TEXT = re.compile(r"^\s*(\d{1,3}(?:[.,\s]\d{3})+|\d+)\s*(?:₫|đ|vnđ|vnd|d)?\s*$", re.IGNORECASE)


class ExtractionError(ValueError):
    """A page lacks a field a listing cannot do without; the message names the field and where it was sought."""

    def __init__(self, field: str, detail: str) -> None:
        self.field = field
        super().__init__(f"{field} not found: {detail}")


def evidence_digest(body: bytes) -> str:
    """SHA-256 of the raw response, so a stored copy can later be proven to be what was seen."""
    return hashlib.sha256(body).hexdigest()


def selector(body: bytes, url: str) -> Selector:
    # Pages declare UTF-8; a stray invalid byte must not cost the whole page.
    return Selector(text=body.decode("utf-8", errors="replace"), base_url=url)


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
