"""Scores listings against registered brands: one ScoredListing per brand a listing concerns."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from classifier.brands import BrandMatcher, listing_text
from classifier.features import BRAND_TOKEN, FeatureExtractor, Features, signal_code
from classifier.model import TrainedModel
from classifier.normalize import normalize
from classifier.reasons import signal_reason, text_reason
from kcnguard.records import Brand, Listing, Reason, ScoredListing, utcnow

# Contributions smaller than this (in log-odds) do not move a score enough to be worth reading.
MIN_REASON_WEIGHT = 0.05
MAX_SIGNAL_REASONS = 6
MAX_NGRAMS = 4
# A listing that never names a brand (it only turned up in that brand's search results) cannot
# infringe the brand's mark by its text, however counterfeit its wording: the rule caps its score
# below any sensible threshold, and says so as a reason of its own.
NO_MENTION_CAP = 0.2
NO_MENTION_RULE = "no_brand_mention_cap"


@dataclass(frozen=True)
class Explained:
    score: float
    reasons: list[Reason]


class Scorer:
    def __init__(self, brands: Sequence[Brand], model: TrainedModel, threshold: float = 0.5) -> None:
        self.brands = list(brands)
        self.model = model
        self.threshold = threshold
        self.matcher = BrandMatcher(self.brands)
        self.extractor = FeatureExtractor(self.matcher)

    def score(self, listing: Listing) -> list[ScoredListing]:
        return self.score_many([listing])

    def features(self, listings: Sequence[Listing]) -> list[tuple[Listing, Features]]:
        """Features per brand each listing concerns; one naming no brand, and not crawled for one, has none."""
        pairs = []
        for listing in listings:
            text = normalize(listing_text(listing))
            for match in self.matcher.match(listing, text):
                pairs.append((listing, self.extractor.extract(listing, match, text)))
        return pairs

    def score_many(self, listings: Sequence[Listing]) -> list[ScoredListing]:
        pairs = self.features(listings)
        if not pairs:
            return []
        explained = self.explain([feats for _, feats in pairs])
        now = utcnow()
        return [
            ScoredListing(
                listing=listing,
                brand_id=feats.evidence.match.brand.brand_id,
                score=result.score,
                flagged=result.score >= self.threshold,
                threshold=self.threshold,
                reasons=result.reasons,
                model_version=self.model.version,
                scored_at=now,
            )
            for (listing, feats), result in zip(pairs, explained, strict=True)
        ]

    def explain(self, rows: Sequence[Features]) -> list[Explained]:
        """Scores for many rows in one matrix product, each with the contributions that made it."""
        matrix = self.model.transform([r.row() for r in rows])
        scores = self.model.probabilities(matrix)
        coef, names, n_signals = self.model.coef, self.model.feature_names, self.model.signal_count
        out = []
        for i, feats in enumerate(rows):
            start, end = matrix.indptr[i], matrix.indptr[i + 1]
            columns, values = matrix.indices[start:end], matrix.data[start:end]
            contributions = coef[columns] * values
            by_code: dict[str, float] = defaultdict(float)
            ngrams: list[tuple[str, float]] = []
            for column, weight in zip(columns, contributions, strict=True):
                if column < n_signals:
                    by_code[signal_code(names[column])] += float(weight)
                else:
                    ngrams.append((names[column].removeprefix("text:"), float(weight)))
            reasons = [
                signal_reason(code, weight, feats.evidence)
                for code, weight in sorted(by_code.items(), key=lambda kv: -abs(kv[1]))
                if abs(weight) >= MIN_REASON_WEIGHT
            ][:MAX_SIGNAL_REASONS]
            reasons += _ngram_reasons(ngrams)
            score = float(np.clip(scores[i], 0.0, 1.0))
            if not feats.evidence.match.name_found and score > NO_MENTION_CAP:
                reasons.append(_no_mention_reason(feats, score))
                score = NO_MENTION_CAP
            reasons.sort(key=lambda r: -abs(r.weight))
            out.append(Explained(score, reasons))
        return out


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def _no_mention_reason(feats: Features, score: float) -> Reason:
    brand = feats.evidence.match.brand.name
    return Reason(
        code=NO_MENTION_RULE,
        weight=round(_logit(NO_MENTION_CAP) - _logit(score), 4),
        vi=(
            f"Quy tắc: tin đăng không nêu tên {brand} nên không bị coi là xâm phạm nhãn hiệu này; "
            f"điểm {score:.2f} được hạ xuống {NO_MENTION_CAP:.2f}"
        ),
        en=(
            f"Rule: the listing does not name {brand}, so it is not taken as infringing that mark; "
            f"its score {score:.2f} is capped at {NO_MENTION_CAP:.2f}"
        ),
    )


def _ngram_reasons(ngrams: list[tuple[str, float]]) -> list[Reason]:
    reasons = []
    for up in (True, False):
        chosen = sorted(
            ((n, w) for n, w in ngrams if (w > 0) == up and abs(w) >= MIN_REASON_WEIGHT / 2 and n != BRAND_TOKEN),
            key=lambda nw: -abs(nw[1]),
        )[:MAX_NGRAMS]
        if chosen and abs(sum(w for _, w in chosen)) >= MIN_REASON_WEIGHT:
            reasons.append(text_reason(chosen, pushing_up=up))
    return reasons
