"""Reports how the model does on the labelled listing benchmark (for reporting only, never for training).

    python -m classifier.evaluate [--data ../shared/data/listing-benchmark] [--threshold 0.5]

Each benchmark listing is judged against its `query_brand_id` (or, for unbranded goods, the
brand it scores highest for; 0 when it names none). Prints PR-AUC and precision/recall at the threshold.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from sklearn.metrics import average_precision_score, precision_score, recall_score

from classifier.model import train_seed
from classifier.scoring import Scorer
from kcnguard.records import Brand, Listing, OfficialSeller, Product

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "listing-benchmark"


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


def evaluate(data_dir: Path, threshold: float) -> dict[str, Any]:
    brands = [to_brand(b) for b in json.loads((data_dir / "brands.json").read_text())]
    rows = [json.loads(line) for line in (data_dir / "listings.jsonl").read_text().splitlines() if line.strip()]
    model = train_seed()
    scorer = Scorer(brands, model, threshold)
    labels, scores = [], []
    started = time.perf_counter()
    for raw in rows:
        listing = to_listing(raw)
        scored = scorer.score(listing)
        wanted = [s for s in scored if s.brand_id == listing.query_brand_id] or scored
        scores.append(max((s.score for s in wanted), default=0.0))
        labels.append(int(raw["label"]))
    elapsed = time.perf_counter() - started
    predicted = [int(s >= threshold) for s in scores]
    return {
        "model_version": model.version,
        "listings": len(rows),
        "positives": sum(labels),
        "threshold": threshold,
        "pr_auc": average_precision_score(labels, scores),
        "precision": precision_score(labels, predicted, zero_division=0),
        "recall": recall_score(labels, predicted, zero_division=0),
        "flagged": sum(predicted),
        "seconds": round(elapsed, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args(argv)
    if not (args.data / "listings.jsonl").is_file():
        print(f"no benchmark at {args.data}", file=sys.stderr)
        return 2
    result = evaluate(args.data, args.threshold)
    for key, value in result.items():
        print(f"{key:14} {value:.3f}" if isinstance(value, float) else f"{key:14} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
