"""The rows a model trains on, read from a labelled file, the inspectors' decisions or the seed data.

A row that cannot train is reported with where it was read and why, and the rest still train.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from classifier.benchmark_files import to_listing
from classifier.brand_matching import BrandMatcher
from classifier.normalize import listing_text, normalize
from classifier.seed_data import seed_rows
from kcnguard.records import Brand, CaseState, Listing
from kcnguard.store import Query, Store
from kcnguard.validation import problem_text

SEED, FILE, DECISIONS = "seed", "file", "decisions"
# Every state a case reaches only after an inspector confirmed it.
CONFIRMED_STATES = [
    CaseState.CONFIRMED,
    CaseState.REFERRED,
    CaseState.ACKNOWLEDGED,
    CaseState.ACTIONED,
    CaseState.CLOSED,
]
DECISION_PAGE = 500
BRAND_PAGE = 1000


@dataclass(frozen=True)
class Row:
    listing: Listing
    label: int
    source: str
    origin: str = ""  # where it was read, for problem reports ("listings.jsonl line 12", "case ...")

    @property
    def where(self) -> str:
        return self.origin or f"{self.source} {self.listing.key}"

    def canonical(self) -> str:
        return json.dumps(
            {"label": self.label, "listing": self.listing.model_dump(mode="json")}, sort_keys=True, ensure_ascii=False
        )


@dataclass
class Loaded:
    """Rows read from somewhere, and what could not be used, each with where and why."""

    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _problem_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return problem_text(exc, "(row)", 5)
    return f"{type(exc).__name__}: {exc}"


def read_labelled(path: Path, source: str = FILE) -> Loaded:
    """Rows of a JSONL file: benchmark rows (title, price_vnd, label ...) or seed rows (label, listing).

    A bad line is reported with its number and skipped; the rest still train.
    """
    loaded = Loaded()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                if not isinstance(raw, dict):
                    raise ValueError("a row must be a JSON object")
                label = raw.get("label")
                if label not in (0, 1) or isinstance(label, bool):
                    raise ValueError(f"label must be 0 or 1, not {label!r}")
                listing = Listing.model_validate(raw["listing"]) if "listing" in raw else to_listing(raw)
                loaded.rows.append(
                    Row(listing=listing, label=label, source=source, origin=f"{path.name} line {number}")
                )
            except (ValueError, KeyError, TypeError) as exc:
                reason = f"missing field {exc}" if isinstance(exc, KeyError) else _problem_text(exc)
                loaded.problems.append(f"{path.name} line {number}: {reason}")
    return loaded


def decision_rows(store: Store) -> Loaded:
    """The inspectors' decisions: confirmed (and every later state) → 1, dismissed → 0, with the stored listing."""
    loaded = Loaded()
    states = [s.value for s in [*CONFIRMED_STATES, CaseState.DISMISSED]]
    offset = 0
    while True:
        page = store.search_cases(
            Query(filters={"state": states}, sort=[("case_id", "asc")], size=DECISION_PAGE, offset=offset)
        )
        for case in page.items:
            stored = store.get_listing(case.listing_key)
            if stored is None:
                loaded.problems.append(f"case {case.case_id}: listing {case.listing_key} is not in the store")
                continue
            # The decision is about this brand: train the listing as if crawled for it.
            listing = stored.record.listing.model_copy(update={"query_brand_id": case.brand_id})
            label = 0 if case.state is CaseState.DISMISSED else 1
            loaded.rows.append(Row(listing=listing, label=label, source=DECISIONS, origin=f"case {case.case_id}"))
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return loaded


def merge_brands(*groups: Sequence[Brand]) -> list[Brand]:
    """One brand per id; a later group overrides an earlier one."""
    by_id: dict[str, Brand] = {}
    for group in groups:
        for brand in group:
            by_id[brand.brand_id] = brand
    return list(by_id.values())


def matchable(rows: Sequence[Row], brands: Sequence[Brand]) -> Loaded:
    """Rows whose listing names the brand it is judged against; the others cannot train and are reported."""
    matcher = BrandMatcher(brands)
    known = {b.brand_id for b in brands}
    out = Loaded()
    for row in rows:
        brand_id = row.listing.query_brand_id
        if brand_id is None:
            out.problems.append(f"{row.where} ({row.listing.key}): judged against no brand (query_brand_id is empty)")
        elif brand_id not in known:
            out.problems.append(f"{row.where} ({row.listing.key}): brand {brand_id!r} is not in the brands given")
        elif not any(
            m.brand.brand_id == brand_id for m in matcher.match(row.listing, normalize(listing_text(row.listing)))
        ):
            out.problems.append(f"{row.where} ({row.listing.key}): the listing does not name brand {brand_id!r}")
        else:
            out.rows.append(row)
    return out


def training_digest(rows: Sequence[Row]) -> str:
    """SHA-256 over the canonical rows, sorted: the same rows in any order give the same digest."""
    digest = hashlib.sha256()
    for line in sorted(r.canonical() for r in rows):
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def brands_digest(brands: Sequence[Brand]) -> str:
    lines = sorted(
        json.dumps(b.model_dump(mode="json", exclude={"updated_at", "created_at"}), sort_keys=True) for b in brands
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def row_counts(rows: Sequence[Row]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {}
    for row in rows:
        counts.setdefault(row.source, Counter())[str(row.label)] += 1
    return {source: dict(sorted(c.items())) for source, c in sorted(counts.items())}


def seed_training_rows() -> list[Row]:
    return [Row(listing=listing, label=label, source=SEED) for listing, label in seed_rows()]


def store_brands(store: Store) -> list[Brand]:
    out: list[Brand] = []
    while True:
        page = store.list_brands(size=BRAND_PAGE, offset=len(out))
        out += page.items
        if not page.items or len(out) >= page.total:
            return out
