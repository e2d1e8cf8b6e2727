"""Scores listings against registered brands: one judgement per brand a listing concerns.

A batch is read stage by stage (normalised, matched against the brands, features read), then
explained in one sparse matrix product (classifier/explanation.py). The scorer owns the memo of
everything read (classifier/memo.py) and hands it down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from classifier.brand_matching import BrandMatch, BrandMatcher
from classifier.explanation import Explainer
from classifier.features import FeatureExtractor, Features
from classifier.gc_pause import CycleCollectionPaused
from classifier.keyword_build import keyword_builder
from classifier.memo import Memo
from classifier.model import TrainedModel
from classifier.normalize import Normalized, listing_text, normalize
from classifier.reasons import Explanation
from classifier.seller_history import SellerHistory
from kcnguard.records import Brand, Listing, ScoredListing, utcnow


# Not frozen: one is built per listing and brand, and a frozen dataclass is slower to build (every
# field set through object.__setattr__); nothing assigns to one after it is made.
@dataclass(slots=True)
class Judgement:
    """One listing judged against one brand, before it is wrapped as a ScoredListing record."""

    listing: Listing
    brand_id: str
    score: float
    flagged: bool
    reasons: list[Explanation]


# One is built per listing and brand: by keyword, through a function, so no dict of keywords is
# packed and unpacked per record (classifier/keyword_build.py).
_build_judgement = keyword_builder(Judgement)


class Scorer:
    def __init__(
        self,
        brands: Sequence[Brand],
        model: TrainedModel,
        threshold: float | None = None,
        *,
        seller_history: SellerHistory | None = None,
        memo: Memo | None = None,
    ) -> None:
        """threshold None: the model's own operating threshold, chosen on its seed validation data.

        memo None: a memo of its own, with the default bounds."""
        self.brands = list(brands)
        self.model = model
        self.threshold = model.threshold if threshold is None else threshold
        self.memo = memo or Memo()
        self.matcher = BrandMatcher(self.brands, memo=self.memo)
        self.extractor = FeatureExtractor(self.matcher, seller_history=seller_history, memo=self.memo)
        self.explainer = Explainer(model, self.memo)

    def score(self, listing: Listing) -> list[ScoredListing]:
        return self.score_many([listing])

    def features(self, listings: Sequence[Listing]) -> list[tuple[Listing, Features]]:
        """Features per brand each listing concerns; one naming no brand, and not crawled for one, has none.

        Done stage by stage over the batch (every text normalised, then every text matched, then
        every judgement's features read), not listing by listing: each stage's code then stays
        hot in the processor's caches."""
        kept = self.memo.matches
        keys = [(listing.title, listing.description, listing.query_brand_id) for listing in listings]
        read: dict[tuple[str, str | None, str | None], tuple[Normalized, list[BrandMatch]]] = {}
        new: dict[tuple[str, str | None, str | None], Listing] = {}
        for key, listing in zip(keys, listings, strict=True):
            known = kept.get(key)
            if known is not None:
                read[key] = known
            elif key not in new:
                new[key] = listing
        if new:
            texts = [normalize(listing_text(listing)) for listing in new.values()]
            match = self.matcher.match
            found = [match(listing, text) for listing, text in zip(new.values(), texts, strict=True)]
            kept.make_room(len(new))
            for key, text, matches in zip(new, texts, found, strict=True):
                read[key] = kept[key] = (text, matches)
        extract = self.extractor.extract
        return [
            (listing, extract(listing, match, text))
            for listing, key in zip(listings, keys, strict=True)
            for text, matches in (read[key],)
            for match in matches
        ]

    def judge_many(self, listings: Sequence[Listing]) -> list[Judgement]:
        """Scores and reasons without building records: what batch scoring of files uses."""
        with CycleCollectionPaused():
            pairs = self.features(listings)
            if not pairs:
                return []
            scores, reasons = self.explain([feats for _, feats in pairs])
            threshold = self.threshold
            return [
                _build_judgement(
                    listing=listing,
                    brand_id=feats.evidence.match.brand.brand_id,
                    score=score,
                    flagged=score >= threshold,
                    reasons=said,
                )
                for (listing, feats), score, said in zip(pairs, scores, reasons, strict=True)
            ]

    def score_many(self, listings: Sequence[Listing]) -> list[ScoredListing]:
        now = utcnow()
        # Validated construction, not model_construct: pydantic-core validates a record with an
        # already-built Listing sooner than model_construct copies its fields in Python.
        with CycleCollectionPaused():
            return [
                ScoredListing(
                    listing=j.listing,
                    brand_id=j.brand_id,
                    score=j.score,
                    flagged=j.flagged,
                    threshold=self.threshold,
                    reasons=[r.record() for r in j.reasons],
                    model_version=self.model.version,
                    scored_at=now,
                )
                for j in self.judge_many(listings)
            ]

    def explain(self, rows: Sequence[Features]) -> tuple[list[float], list[list[Explanation]]]:
        """Scores for many rows in one matrix product, and each row's reasons."""
        return self.explainer.explain(rows)
