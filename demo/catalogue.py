"""The demo marketplace's own data: fictional KCN brands and the listings its shops post.

Listings are kept loosely typed on purpose: a marketplace shows whatever its sellers type,
including prices that are missing or garbage, and the crawler must cope with that.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from kcnguard.records import Brand
from kcnguard.text import fold

MARKETPLACE = "demo"

_NOT_ALNUM = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class DemoSeller:
    id: str
    name: str
    official: bool


@dataclass(frozen=True)
class DemoListing:
    id: str
    title: str
    description: str
    price: Any  # a number, or None/garbage on the deliberately broken pages
    original_price: Any
    seller: DemoSeller
    sold: int | None
    rating: float | None
    images: list[str]
    category: str
    location: str
    label: str = "unknown"  # ground truth for demos: genuine, counterfeit, lookalike or broken
    brand_id: str | None = None

    def matches(self, query_words: list[str]) -> bool:
        """Every query word appears in the title, description or category, ignoring case and accents.

        Like real marketplace search, a word also matches text spelled with separators in
        between (V.I.N.A.S.T.E.P), which is why sellers bother with that trick at all.
        """
        text = fold(f"{self.title} {self.description} {self.category}")
        squashed = _NOT_ALNUM.sub("", text)
        return all(word in text or word in squashed for word in query_words)


def query_words(query: str) -> list[str]:
    return [w for w in _NOT_ALNUM.split(fold(query)) if w]


def _read(name: str) -> Any:
    return json.loads(resources.files("demo").joinpath(name).read_text(encoding="utf-8"))


def load_brands() -> list[Brand]:
    """The fictional brands the demo marketplace's listings are about, validated as kcnguard Brands."""
    return [Brand.model_validate(raw) for raw in _read("brands.json")]


def load_enterprises() -> list[dict[str, Any]]:
    """The fictional KCN enterprises owning the demo brands, as the API's enterprise registry takes them."""
    return list(_read("enterprises.json"))


def parse_listing(raw: dict[str, Any]) -> DemoListing:
    seller = raw["seller"]
    return DemoListing(
        id=str(raw["id"]),
        title=str(raw["title"]),
        description=str(raw.get("description") or ""),
        price=raw.get("price"),
        original_price=raw.get("original_price"),
        seller=DemoSeller(id=str(seller["id"]), name=str(seller["name"]), official=bool(seller.get("official"))),
        sold=raw.get("sold"),
        rating=raw.get("rating"),
        images=[str(i) for i in raw.get("images", [])],
        category=str(raw.get("category") or ""),
        location=str(raw.get("location") or ""),
        label=str(raw.get("label") or "unknown"),
        brand_id=raw.get("brand_id"),
    )


@lru_cache(maxsize=1)
def _catalogue() -> tuple[DemoListing, ...]:
    return tuple(parse_listing(raw) for raw in _read("catalogue.json"))


def load_catalogue() -> list[DemoListing]:
    """Every listing on the demo marketplace, in the order shops posted them."""
    return list(_catalogue())
