"""Reports how the model does on the labelled listing benchmark (for reporting only, never for training).

    python -m classifier.offline.evaluate [--data ../shared/data/listing-benchmark] [--threshold T] [--json]

Each benchmark listing is judged against its `query_brand_id` (or, for unbranded goods, the
brand it scores highest for; 0 when it names none). Prints PR-AUC (average precision over
all listings) and precision/recall at the operating threshold (the model's own, chosen on seed
data, unless --threshold is given), overall and per marketplace, and how many compatibility
accessories were flagged (those whose `label_reason` says the brand is named only for
compatibility: it should be none).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, precision_score, recall_score

from classifier.benchmark_files import read_brands, to_listing
from classifier.scoring import Scorer
from classifier.training.fit import train_seed

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "listing-benchmark"


def _figures(labels: list[int], scores: list[float], threshold: float) -> dict[str, Any]:
    predicted = [int(s >= threshold) for s in scores]
    both = len(set(labels)) > 1
    return {
        "listings": len(labels),
        "positives": sum(labels),
        "pr_auc": round(float(average_precision_score(labels, scores)), 4) if both else None,
        # Precision of no flags at all is undefined, not zero.
        "precision": round(float(precision_score(labels, predicted, zero_division=0)), 4) if any(predicted) else None,
        "recall": round(float(recall_score(labels, predicted, zero_division=0)), 4) if sum(labels) else None,
        "flagged": sum(predicted),
    }


def _bootstrap(labels: list[int], scores: list[float], threshold: float, rounds: int = 1000) -> dict[str, Any]:
    """95% intervals of PR-AUC, precision and recall over listings resampled with replacement."""
    rng = np.random.default_rng(0)
    y, p = np.asarray(labels), np.asarray(scores)
    figures: dict[str, list[float]] = {"pr_auc": [], "precision": [], "recall": []}
    for _ in range(rounds):
        pick = rng.integers(0, len(y), len(y))
        yy, pp = y[pick], p[pick]
        if yy.min() == yy.max():
            continue
        flagged = pp >= threshold
        figures["pr_auc"].append(average_precision_score(yy, pp))
        if flagged.any():
            figures["precision"].append(float(yy[flagged].mean()))
        figures["recall"].append(float(flagged[yy == 1].mean()))
    return {k: [round(float(q), 4) for q in np.percentile(v, [2.5, 97.5])] for k, v in figures.items()}


def is_compatibility_accessory(raw: dict[str, Any]) -> bool:
    return "only for compatibility" in (raw.get("label_reason") or "") or "only as the compatible device" in (
        raw.get("label_reason") or ""
    )


def evaluate(data_dir: Path, threshold: float | None = None) -> dict[str, Any]:
    brands = read_brands(data_dir / "brands.json")
    rows = [json.loads(line) for line in (data_dir / "listings.jsonl").read_text().splitlines() if line.strip()]
    model = train_seed()
    scorer = Scorer(brands, model, threshold)
    threshold = scorer.threshold
    labels, scores = [], []
    started = time.perf_counter()
    for raw in rows:
        listing = to_listing(raw)
        scored = scorer.score(listing)
        wanted = [s for s in scored if s.brand_id == listing.query_brand_id] or scored
        scores.append(max((s.score for s in wanted), default=0.0))
        labels.append(int(raw["label"]))
    elapsed = time.perf_counter() - started
    per_marketplace = {}
    for marketplace in sorted({r.get("marketplace") or "unknown" for r in rows}):
        picked = [i for i, r in enumerate(rows) if (r.get("marketplace") or "unknown") == marketplace]
        per_marketplace[marketplace] = _figures([labels[i] for i in picked], [scores[i] for i in picked], threshold)
    accessories = [i for i, r in enumerate(rows) if is_compatibility_accessory(r)]
    return {
        "model_version": model.version,
        "threshold": threshold,
        **_figures(labels, scores, threshold),
        "per_marketplace": per_marketplace,
        "compatibility_accessories": len(accessories),
        "compatibility_accessories_flagged": sum(scores[i] >= threshold for i in accessories),
        "bootstrap_95": _bootstrap(labels, scores, threshold),
        "seed_out_of_fold": model.metrics,
        "seconds": round(elapsed, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--threshold", type=float, default=None, help="default: the model's operating threshold")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if not (args.data / "listings.jsonl").is_file():
        print(f"no benchmark at {args.data}", file=sys.stderr)
        return 2
    result = evaluate(args.data, args.threshold)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    for key, value in result.items():
        if key == "per_marketplace":
            for marketplace, figures in value.items():
                print(f"  {marketplace:12} " + "  ".join(f"{k}={v}" for k, v in figures.items()))
        else:
            print(f"{key:34} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
