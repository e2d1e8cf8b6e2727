"""Score the web-shop extractor on the product-extraction benchmark, beside the baselines' outputs.

    python -m crawler.offline.evaluate_webshop [--data ../shared/data/webshop-benchmark] [--show-errors]

Metric (the benchmark's README): per attribute, a page's single predicted value is a true
positive when it is among the page's annotated values (prices compared as decimals), a false
positive when it is not, a false negative when nothing is predicted but a value exists;
precision, recall and F1 are computed over all pages. Besides all pages, the script scores two
fixed halves of the sorted page keys: "dev" (even positions), on which the rules were developed,
and "held-out" (odd positions), which stands in for pages the extractor has never seen.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from crawler.pages.webshop import decode, extract_product
from crawler.pages.webshop_values import currency_code

DEFAULT_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "webshop-benchmark"
ATTRIBUTES = ("price", "currency", "sku", "gtin", "mpn", "brand", "availability")
# The ground truth writes currencies as shown ("£", "$", "Lei") and the systems answer in ISO
# codes or symbols; "currency-iso" compares both sides as the ISO codes they can stand for.
ISO_ROW = "currency-iso"
_DOLLARS = {"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "TWD", "ARS", "CLP", "MXN", "COP"}
_AMBIGUOUS = {"$": _DOLLARS, "rs": {"PKR", "INR", "LKR", "NPR"}, "kr": {"SEK", "NOK", "DKK", "ISK"}}
ROWS = (*ATTRIBUTES, "currency-iso")


@dataclass(frozen=True)
class Score:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


def currency_codes(text: Any) -> set[str]:
    """The ISO codes a written currency can stand for ("$" → every dollar; "£" → GBP)."""
    if not isinstance(text, str):
        return set()
    key = text.strip().lower()
    if key in _AMBIGUOUS:
        return _AMBIGUOUS[key]
    code = currency_code(text)
    return {code} if code else set()


def judge(attribute: str, truth: list[str], predicted: Any) -> tuple[int, int, int]:
    """(tp, fp, fn) for one page and attribute."""
    if predicted is None or predicted == "":
        return 0, 0, int(bool(truth))
    if attribute == "price":
        hit = _decimal(predicted) in {_decimal(t) for t in truth}
    elif attribute == ISO_ROW:
        hit = any(currency_codes(predicted) & currency_codes(t) for t in truth)
    else:
        hit = str(predicted) in set(truth)
    return (1, 0, 0) if hit else (0, 1, 0)


def score(
    ground_truth: dict[str, dict[str, Any]], predictions: dict[str, dict[str, Any]], attribute: str, keys: list[str]
) -> Score:
    totals = [0, 0, 0]
    field = "currency" if attribute == ISO_ROW else attribute
    for key in keys:
        truth = ground_truth[key].get(field) or []
        tp, fp, fn = judge(attribute, truth, predictions.get(key, {}).get(field))
        totals[0] += tp
        totals[1] += fp
        totals[2] += fn
    return Score(*totals)


def our_predictions(data: Path, ground_truth: dict[str, dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], float]:
    """Our extractor's output per page in the baselines' shape, and the seconds spent extracting."""
    predictions: dict[str, dict[str, Any]] = {}
    spent = 0.0
    for key, truth in sorted(ground_truth.items()):
        body = gzip.decompress((data / "html" / f"{key}.html.gz").read_bytes())
        started = time.process_time()
        product = extract_product(decode(body), truth["url"])
        spent += time.process_time() - started
        predictions[key] = {name: getattr(product, name) for name in ATTRIBUTES}
        predictions[key]["sources"] = product.sources
    return predictions, spent


def halves(keys: list[str]) -> dict[str, list[str]]:
    ordered = sorted(keys)
    return {"all": ordered, "dev": ordered[0::2], "held-out": ordered[1::2]}


def report(data: Path, show_errors: bool = False) -> dict[str, dict[str, dict[str, Score]]]:
    """{system: {split: {attribute: Score}}}; prints the table as it goes."""
    ground_truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    systems: dict[str, dict[str, dict[str, Any]]] = {}
    ours, spent = our_predictions(data, ground_truth)
    systems["KCN Guard"] = ours
    for path in sorted((data / "baselines").glob("*.json")):
        systems[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    splits = halves(list(ground_truth))
    results = {
        name: {split: {a: score(ground_truth, preds, a, keys) for a in ROWS} for split, keys in splits.items()}
        for name, preds in systems.items()
    }
    for split, keys in splits.items():
        print(f"\n{split} ({len(keys)} pages): F1 (precision/recall)")
        print(f"{'attribute':<13}" + "".join(f"{name:>22}" for name in systems))
        for attribute in ROWS:
            row = f"{attribute:<13}"
            for name in systems:
                s = results[name][split][attribute]
                row += f"{s.f1:>8.3f} ({s.precision:.2f}/{s.recall:.2f})"
            print(row)
    pages = len(ground_truth)
    print(
        f"\nKCN Guard: {pages} pages in {spent:.2f} s CPU = {pages / spent:.1f} pages/s on one core (decode + extract)"
    )
    if show_errors:
        for key in sorted(ground_truth):
            for attribute in ATTRIBUTES:
                truth = ground_truth[key].get(attribute) or []
                predicted = ours[key].get(attribute)
                _, fp, fn = judge(attribute, truth, predicted)
                if fp or fn:
                    source = ours[key]["sources"].get(attribute, "-")
                    print(f"{key[:8]} {attribute:<12} truth={truth} ours={predicted!r} from={source}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score the web-shop extractor on the product-extraction benchmark")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the webshop-benchmark folder")
    parser.add_argument("--show-errors", action="store_true", help="list every page our extractor got wrong")
    args = parser.parse_args(argv)
    if not (args.data / "ground-truth.json").is_file():
        print(f"Không thấy bộ dữ liệu / benchmark not found: {args.data}/ground-truth.json", file=sys.stderr)
        return 2
    report(args.data.resolve(), args.show_errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
