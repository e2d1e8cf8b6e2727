"""Scoring a file of listings for evaluation and audits (`kcnguard score`), one JSON object per listing.

    kcnguard score --brands BRANDS.json --listings LISTINGS.jsonl [--threshold T] [--lang vi|en] [--model FILE]

Input formats are those of ../shared/data/listing-benchmark (LABELS.md): brands.json is a list
of brands (name, aliases, category, reference_price_vnd.min, official_sellers; a kcnguard Brand
with owner_id is accepted too); each line of the listings file is an object with at least `id`
and `title` (price_vnd, original_price_vnd, seller_name, seller_is_official, sold, location,
marketplace, query_brand_id optional; other keys ignored). A row may carry the seller's record
as `seller_flagged_share` (0..1) and `seller_listing_count`; without them the seller-history
signal is neutral.

Output, in input order: {"id", "brand_id", "score", "flagged", "reasons"}; a listing is judged
against its query_brand_id, or else the registered brand it scores highest for (brand_id null,
score 0 when it names none). A line that is not JSON, or a row with wrong types, is reported on
stderr with its line number and skipped; the others are still scored (exit code 1 then, 0 when
every row was scored, 2 when the brands file itself is unusable).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from classifier.benchmark_files import BadInput, read_brands, to_listing
from classifier.model import TrainedModel
from classifier.scoring import Judgement, Scorer
from classifier.seller_history import SellerHistoryTable, seller_key
from kcnguard.records import Listing
from kcnguard.validation import problem_text

BATCH = 2000
NO_BRAND = {
    "vi": "Tin đăng không nêu thương hiệu nào đã đăng ký",
    "en": "The listing names no registered brand",
}


_TYPES: dict[str, tuple[type, ...]] = {
    "title": (str,),
    "marketplace": (str,),
    "seller_name": (str,),
    "query_brand_id": (str,),
    "location": (str,),
    "price_vnd": (int, float),
    "original_price_vnd": (int, float),
    "sold": (int,),
    "seller_is_official": (bool,),
    "seller_flagged_share": (int, float),
    "seller_listing_count": (int,),
}


def to_row(raw: Any) -> tuple[Listing, tuple[float, int] | None]:
    """A listing (and the seller's record, if given) from one input row; BadInput says what is wrong."""
    if not isinstance(raw, dict):
        raise BadInput(f"expected a JSON object, got {type(raw).__name__}")
    for key in ("id", "title"):
        if raw.get(key) in (None, ""):
            raise BadInput(f"missing '{key}'")
    if not isinstance(raw["id"], str | int):
        raise BadInput(f"'id' must be a string or a number, not {type(raw['id']).__name__}")
    for key, types in _TYPES.items():
        value = raw.get(key)
        # bool is an int in Python: a true/false price is a mistake, not 1 or 0 ₫.
        if value is not None and (not isinstance(value, types) or (isinstance(value, bool) and bool not in types)):
            wanted = " or ".join(t.__name__ for t in types)
            raise BadInput(f"'{key}' must be {wanted}, not {type(value).__name__} ({json.dumps(value)[:40]})")
    try:
        listing = to_listing(raw)
    except ValidationError as exc:
        problems = problem_text(exc, limit=3)
        raise BadInput(problems) from exc
    history = None
    if raw.get("seller_flagged_share") is not None and raw.get("seller_listing_count") is not None:
        share = float(raw["seller_flagged_share"])
        if not 0 <= share <= 1:
            raise BadInput(f"'seller_flagged_share' must be between 0 and 1, not {share}")
        history = (share, int(raw["seller_listing_count"]))
    return listing, history


def read_rows(
    lines: TextIO, err: TextIO, skipped: list[int]
) -> Iterator[tuple[str | int, Listing, tuple[float, int] | None]]:
    """Valid rows in order; the line number of each row skipped (and why, on err) goes to `skipped`."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            print(f"line {number}: not valid JSON ({exc.msg} at column {exc.colno}); skipped", file=err)
            skipped.append(number)
            continue
        try:
            listing, history = to_row(raw)
        except BadInput as exc:
            print(f"line {number}: {exc}; skipped", file=err)
            skipped.append(number)
            continue
        yield raw["id"], listing, history


def score_file(
    brands_path: Path,
    lines: TextIO,
    out: TextIO,
    err: TextIO,
    model: TrainedModel,
    threshold: float | None = None,
    lang: str = "vi",
) -> int:
    try:
        brands = read_brands(brands_path)
    except BadInput as exc:
        print(f"error: {exc}", file=err)
        return 2
    skipped: list[int] = []
    rows = list(read_rows(lines, err, skipped))
    table = {
        (listing.marketplace, key): history
        for _, listing, history in rows
        if history is not None and (key := seller_key(listing)) is not None
    }
    scorer = Scorer(brands, model, threshold, seller_history=SellerHistoryTable(table))
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        judged: dict[int, list[Judgement]] = {}
        for judgement in scorer.judge_many([listing for _, listing, _ in batch]):
            judged.setdefault(id(judgement.listing), []).append(judgement)
        for row_id, listing, _ in batch:
            out.write(json.dumps(_result(row_id, listing, judged.get(id(listing), []), lang), ensure_ascii=False))
            out.write("\n")
    out.flush()
    if skipped:
        print(f"{len(rows)} listings scored, {len(skipped)} lines skipped", file=err)
    return 1 if skipped else 0


def _result(row_id: str | int, listing: Listing, judged: list[Judgement], lang: str) -> dict[str, Any]:
    """The listing's judgement for the brand it was found for, else the brand it scores highest for."""
    wanted = [j for j in judged if j.brand_id == listing.query_brand_id] or judged
    if not wanted:
        return {"id": row_id, "brand_id": None, "score": 0.0, "flagged": False, "reasons": [NO_BRAND[lang]]}
    best = max(wanted, key=lambda j: j.score)
    return {
        "id": row_id,
        "brand_id": best.brand_id,
        "score": round(best.score, 4),
        "flagged": best.flagged,
        "reasons": [r.en if lang == "en" else r.vi for r in best.reasons],
    }
