"""The files of ../shared/data/listing-benchmark (LABELS.md): brands and listing rows, as kcnguard records.

Training (`kcnguard train --labelled/--brands`), `kcnguard score`, the benchmark evaluation and
the bench read these formats; each goes through here.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kcnguard.records import Brand, Listing, OfficialSeller, Product


class BadInput(ValueError):
    """A file or row that cannot be read; the message says what to fix."""


def _slug(value: str) -> str:
    slug = re.sub(r"[^a-z0-9_.-]+", "-", value.lower()).strip("-._")
    return slug[:64] or "unknown"


def to_brand(raw: dict[str, Any]) -> Brand:
    """A benchmark brand (aliases, reference_price_vnd.min, official_sellers by name) as a kcnguard Brand."""
    reference = (raw.get("reference_price_vnd") or {}).get("min")
    return Brand(
        brand_id=_slug(raw["brand_id"]),
        owner_id="benchmark",
        owner_name=raw["name"],
        name=raw["name"],
        aliases=raw.get("aliases", []),
        category=raw.get("category"),
        products=[Product(name=f"{raw['name']} (lowest reference)", reference_price_vnd=int(reference))]
        if reference
        else [],
        official_sellers=[
            OfficialSeller(marketplace=_slug(s["marketplace"]), seller_name=s["seller_name"])
            for s in raw.get("official_sellers", [])
            if s.get("seller_name")
        ],
    )


def to_listing(raw: dict[str, Any]) -> Listing:
    marketplace = _slug(raw.get("marketplace") or "unknown")
    listing_id = re.sub(r"[\s/|]+", "_", str(raw["id"]))[:128]
    return Listing(
        marketplace=marketplace,
        listing_id=listing_id,
        url=f"https://{marketplace}.invalid/{listing_id}",
        title=raw["title"],
        price=raw.get("price_vnd"),
        original_price=raw.get("original_price_vnd"),
        seller={"name": raw.get("seller_name"), "official": bool(raw.get("seller_is_official"))},
        sold_count=raw.get("sold"),
        location=raw.get("location"),
        evidence_digest=hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest(),
        query_brand_id=_slug(raw["query_brand_id"]) if raw.get("query_brand_id") else None,
    )


def read_brands(path: Path) -> list[Brand]:
    """A brands file: a list of brands (or one) in the benchmark's format (aliases, reference_price_vnd) or
    as kcnguard Brand records (with owner_id); BadInput names the first brand that cannot be read."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput(f"{path}: cannot read brands as JSON ({exc})") from exc
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise BadInput(f"{path}: expected a non-empty JSON list of brands")
    brands = []
    for number, item in enumerate(raw, 1):
        try:
            if not isinstance(item, dict):
                raise BadInput("not an object")
            brands.append(Brand.model_validate(item) if "owner_id" in item else to_brand(item))
        except (BadInput, KeyError, TypeError, ValueError, ValidationError) as exc:
            name = item.get("brand_id") if isinstance(item, dict) else None
            raise BadInput(f"{path}: brand {number} ({name or '?'}) is invalid: {_short(exc)}") from exc
    return brands


def _short(exc: Exception) -> str:
    text = str(exc) if not isinstance(exc, KeyError) else f"missing key {exc}"
    return " ".join(text.split())[:300]
