"""The scorer's caches and batch shortcuts change its speed, never what it says.

The pinned rows were recorded from the scorer before it kept readings per distinct text and
built reasons from batch arrays; they cover every kind of reason (a disguised or abbreviated
brand, an official seller, descriptive use, a shop name declaring fakes or disguising the
brand, the no-mention cap). After an intended change to the seed data or the features (the
seed model's version changes), re-record with `python -m tests.unit.test_classifier_scoring_outputs`
and read the diff.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from classifier.memo import Memo
from classifier.model import TrainedModel
from classifier.scoring import Scorer
from classifier.seed_data import seed_brands, seed_rows, seed_version
from classifier.training.fit import train_seed
from kcnguard.records import Listing, Seller

EXPECTED = Path(__file__).parent / "data" / "classifier_scoring_outputs.json"
PINNED = ("seed00014", "seed00026", "seed00043", "seed00047", "seed00056", "seed00059", "seed00239")


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return train_seed()


def judged(scorer: Scorer, listings: list[Listing]) -> list[dict[str, Any]]:
    return [
        {
            "listing_id": j.listing.listing_id,
            "brand_id": j.brand_id,
            "score": j.score,
            "flagged": j.flagged,
            "reasons": [list(r) for r in j.reasons],
        }
        for j in scorer.judge_many(listings)
    ]


def _pinned_listings() -> list[Listing]:
    return [listing for listing, _ in seed_rows() if listing.listing_id in PINNED]


def test_pinned_seed_rows_score_and_read_as_recorded(trained: TrainedModel) -> None:
    recorded = json.loads(EXPECTED.read_text())
    assert recorded["model_version"] == seed_version(), (
        "the seed model changed since the outputs were recorded: re-record with "
        "`python -m tests.unit.test_classifier_scoring_outputs` and check the diff"
    )
    scorer = Scorer(seed_brands(), trained)
    # Scored twice: the second pass is answered from the scorer's per-text caches.
    assert judged(scorer, _pinned_listings()) == recorded["judgements"]
    assert judged(scorer, _pinned_listings()) == recorded["judgements"]


def test_cached_readings_give_what_fresh_ones_give(trained: TrainedModel) -> None:
    listings = [listing for listing, _ in seed_rows()]
    warm = Scorer(seed_brands(), trained)
    first = judged(warm, listings)
    assert judged(warm, listings) == first
    # A memo this small is emptied every few texts: every path in and out of it is taken.
    assert judged(Scorer(seed_brands(), trained, memo=Memo(texts=3, sellers=3, spellings=3)), listings) == first


def test_a_title_seen_again_is_judged_on_its_own_price_and_seller(trained: TrainedModel) -> None:
    scorer = Scorer(seed_brands(), trained)
    original = next(listing for listing, _ in seed_rows() if listing.listing_id == "seed00014")
    scorer.judge_many([original])
    again = original.model_copy(
        update={"listing_id": "again", "price": 150_000.0, "seller": Seller(name="Shop Giày Replica")}
    )
    cached = judged(scorer, [again])
    assert cached == judged(Scorer(seed_brands(), trained), [again])
    codes = {r[0] for r in cached[0]["reasons"]}
    assert {"price_very_low", "seller_counterfeit_name"} <= codes
    assert any("150.000 ₫" in r[2] for r in cached[0]["reasons"])


def record() -> None:
    scorer = Scorer(seed_brands(), train_seed())
    EXPECTED.parent.mkdir(exist_ok=True)
    blob = {"model_version": seed_version(), "judgements": judged(scorer, _pinned_listings())}
    EXPECTED.write_text(json.dumps(blob, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    record()


def test_the_cycle_collector_is_paused_for_a_batch_and_left_as_found(
    trained: TrainedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    scorer = Scorer(seed_brands(), trained)
    listings = _pinned_listings()
    seen = []
    explain = Scorer.explain
    monkeypatch.setattr(Scorer, "explain", lambda self, rows: seen.append(gc.isenabled()) or explain(self, rows))
    assert gc.isenabled()
    scorer.score_many(listings)
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        scorer.judge_many(listings)
        assert not gc.isenabled()  # a caller's own choice is kept
    finally:
        gc.enable()

    def failing(self: Scorer, rows: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(Scorer, "explain", failing)
    with pytest.raises(RuntimeError):
        scorer.judge_many(listings)
    assert gc.isenabled()
