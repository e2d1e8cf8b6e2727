"""The project's synthetic seed data: fictional brands and labelled listings the default model learns from.

Nothing here comes from real marketplace data; classifier/offline/seedgen.py writes the listings.
seed_version() names the default model by a digest of everything that shapes it.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from typing import Any

import sklearn

from classifier import descriptive_use, lexicon
from classifier.model import FEATURES_VERSION, PARAMS
from classifier.seller_history import SellerHistoryTable
from kcnguard.records import Brand, Listing


def _data(name: str) -> bytes:
    return resources.files("classifier.data").joinpath(name).read_bytes()


def seed_brands() -> list[Brand]:
    return [Brand.model_validate(b) for b in json.loads(_data("seed_brands.json"))]


def _seed_lines() -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(_data("seed_listings.jsonl").decode().splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row["label"] not in (0, 1):
            raise ValueError(f"seed_listings.jsonl line {number}: label must be 0 or 1, not {row['label']!r}")
        rows.append(row)
    return rows


def seed_rows() -> list[tuple[Listing, int]]:
    return [(Listing.model_validate(row["listing"]), row["label"]) for row in _seed_lines()]


def seed_seller_history() -> SellerHistoryTable:
    """The seller records the seed data carries (the store supplies them in production)."""
    table: dict[tuple[str, str], tuple[float, int]] = {}
    for row in _seed_lines():
        history = row.get("seller_history")
        seller = row["listing"].get("seller") or {}
        key = seller.get("id") or seller.get("name")
        if history and key:
            table[(row["listing"]["marketplace"], key)] = (float(history["share"]), int(history["count"]))
    return SellerHistoryTable(table)


def seed_version() -> str:
    """'seed-' and a digest of everything that shapes the trained model."""
    digest = hashlib.sha256()
    for part in (
        _data("seed_listings.jsonl"),
        _data("seed_brands.json"),
        lexicon.raw_data(),
        lexicon.market_raw_data(),
        descriptive_use.descriptive_data(),
        json.dumps(PARAMS, sort_keys=True).encode(),
        FEATURES_VERSION.encode(),
        sklearn.__version__.encode(),
    ):
        digest.update(hashlib.sha256(part).digest())
    return "seed-" + digest.hexdigest()[:12]
