"""Scores listings against registered brands: one judgement per brand a listing concerns.

The whole batch goes through one sparse matrix product; each score comes with the
contributions that made it, grouped by signal, in the calibrated log-odds the score is read in.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from classifier.brands import BrandMatch, BrandMatcher, listing_text
from classifier.features import (
    BRAND_TOKEN,
    TERM_TOKEN,
    TEXT_CACHE,
    FeatureExtractor,
    Features,
    SellerHistory,
    make_room,
    signal_code,
)
from classifier.model import TrainedModel
from classifier.normalize import Normalized, normalize
from classifier.reasons import Explanation, quote_ngram, quoted_text_reason, rule_reason, signal_reasons
from kcnguard.records import Brand, Listing, ScoredListing, utcnow

# Contributions smaller than this (in log-odds) do not move a score enough to be worth reading.
MIN_REASON_WEIGHT = 0.05
MAX_SIGNAL_REASONS = 6
MAX_NGRAMS = 4
# A listing that never names a brand (it only turned up in that brand's search results) cannot
# infringe the brand's mark by its text, however counterfeit its wording: the rule caps its score
# below any sensible threshold, and says so as a reason of its own.
NO_MENTION_CAP = 0.2
NO_MENTION_RULE = "no_brand_mention_cap"


class Explained(NamedTuple):
    # A tuple, not a frozen dataclass: one is made per judgement, and a tuple is built in a third of the time.
    score: float
    reasons: list[Explanation]


# Not frozen: one is built per listing and brand, and a frozen dataclass takes three times as long
# to build (every field set through object.__setattr__); nothing assigns to one after it is made.
@dataclass(slots=True)
class Judgement:
    """One listing judged against one brand, before it is wrapped as a ScoredListing record."""

    listing: Listing
    brand_id: str
    score: float
    flagged: bool
    reasons: list[Explanation]


class Scorer:
    def __init__(
        self,
        brands: Sequence[Brand],
        model: TrainedModel,
        threshold: float | None = None,
        *,
        seller_history: SellerHistory | None = None,
    ) -> None:
        """threshold None: the model's own operating threshold, chosen on its seed validation data."""
        self.brands = list(brands)
        self.model = model
        self.threshold = model.threshold if threshold is None else threshold
        self.matcher = BrandMatcher(self.brands)
        self.extractor = FeatureExtractor(self.matcher, seller_history=seller_history)
        # Titles repeat across re-crawls and a shop's listings: each distinct text's reading (its
        # spellings, brand matches, n-gram reasons) is kept, up to TEXT_CACHE texts. Everything kept
        # is a function of the text (and the crawl's query brand) alone, so a kept reading gives
        # the very scores and reasons a fresh one would.
        self._matches: dict[tuple[str, str | None, str | None], tuple[Normalized, list[BrandMatch]]] = {}
        self._text_reasons: dict[str, list[Explanation]] = {}
        names = model.feature_names
        self._codes = [signal_code(name) for name in names[: model.signal_count]]
        # A counterfeit term is a signal of its own: no n-gram holding it ("<brand> counterfeitterm") is
        # quoted as wording, whichever way it pushed.
        self._unquoted = np.array(
            [n == f"text:{BRAND_TOKEN}" or (n.startswith("text:") and TERM_TOKEN in n[5:].split()) for n in names],
            dtype=bool,
        )
        # How a reason quotes each n-gram of the model, in both languages: written once per scorer.
        self._quoted = [quote_ngram(n[5:]) if n.startswith("text:") else ("", "") for n in names]

    def score(self, listing: Listing) -> list[ScoredListing]:
        return self.score_many([listing])

    def features(self, listings: Sequence[Listing]) -> list[tuple[Listing, Features]]:
        """Features per brand each listing concerns; one naming no brand, and not crawled for one, has none.

        Done stage by stage over the batch (every text normalised, then every text matched, then
        every judgement's features read), not listing by listing: each stage's code then stays
        hot in the processor's caches, which measured about a tenth faster on new texts."""
        kept = self._matches
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
            make_room(kept, len(new), TEXT_CACHE)
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
        with _CycleCollectionPaused():
            pairs = self.features(listings)
            if not pairs:
                return []
            explained = self.explain([feats for _, feats in pairs])
            return [
                Judgement(listing, feats.evidence.match.brand.brand_id, r.score, r.score >= self.threshold, r.reasons)
                for (listing, feats), r in zip(pairs, explained, strict=True)
            ]

    def score_many(self, listings: Sequence[Listing]) -> list[ScoredListing]:
        now = utcnow()
        # Validated construction, not model_construct: pydantic-core validates a record with an
        # already-built Listing faster than model_construct copies its fields in Python.
        with _CycleCollectionPaused():
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

    def explain(self, rows: Sequence[Features]) -> list[Explained]:
        """Scores for many rows in one matrix product, each with the contributions that made it.

        A reason's weight is its features' coefficient × value × the calibration's scale: the
        base log-odds plus every contribution is the score's log-odds, so what the inspector
        reads is what the model computed.
        """
        model = self.model
        matrix = model.transform([r.row() for r in rows])
        scores = np.clip(model.probabilities(matrix), 0.0, 1.0).tolist()
        n_signals = model.signal_count
        columns = matrix.indices
        # Each stored value times its column's coefficient: the same products matrix.multiply gives.
        contributions = matrix.data * (model.coef * model.scale)[columns]
        indptr = matrix.indptr
        # Per row, the signal columns come first; after them, only the n-grams of some weight can be
        # quoted (never the masks, which are signals of their own). Both found for the whole batch.
        signal_ends = (indptr[:-1] + np.diff(np.searchsorted(np.flatnonzero(columns < n_signals), indptr))).tolist()
        quotable = np.flatnonzero(
            (columns >= n_signals) & (np.abs(contributions) >= MIN_REASON_WEIGHT / 2) & ~self._unquoted[columns]
        )
        text_reasons, quoted, codes = self._text_reasons, self._quoted, self._codes
        # The n-grams are read from the text alone: their reasons are written once per distinct text.
        kept = [text_reasons.get(feats.text) for feats in rows]
        unread = np.fromiter((said is None for said in kept), dtype=bool, count=len(rows))
        ngrams: dict[int, list[tuple[bool, list[int], float]]] = {}
        if unread.any():
            counts = np.diff(np.searchsorted(quotable, indptr))
            ngrams = _ngram_choices(columns[quotable], contributions[quotable], counts, unread)
        weights, columns_all, starts = contributions.tolist(), columns.tolist(), indptr.tolist()
        out = []
        for i, feats in enumerate(rows):
            by_code: dict[str, float] = {}
            for k in range(starts[i], signal_ends[i]):
                code = codes[columns_all[k]]
                by_code[code] = by_code.get(code, 0.0) + weights[k]
            reasons = signal_reasons(_strongest_signals(by_code), feats.evidence)
            # A text new to this batch is kept once written: its other rows here read it.
            said = kept[i] if kept[i] is not None else text_reasons.get(feats.text)
            if said is None:
                said = [
                    quoted_text_reason([quoted[c] for c in chosen], weight, pushing_up)
                    for pushing_up, chosen, weight in ngrams.get(i, ())
                ]
                make_room(text_reasons, 1, TEXT_CACHE)
                text_reasons[feats.text] = said
            reasons += said
            score = scores[i]
            if not feats.evidence.match.name_found and score > NO_MENTION_CAP:
                reasons.append(_no_mention_reason(feats, score))
                score = NO_MENTION_CAP
            reasons.sort(key=_strongest_first)
            out.append(Explained(score, reasons))
        return out


class _CycleCollectionPaused:
    """No cyclic garbage collection while a batch is scored (re-enabled after, unless it was off).

    A batch allocates many objects (matches, features, reasons, records) that form no reference
    cycles. Each allocation counts towards the collector's next pass, and every pass walks the
    scorer's kept readings too, tens of thousands of objects: measured on 2 cores, pausing it made
    repeated batches ~40 % faster and batches with records ~85 % faster (new texts: no change). What
    dies in the batch is freed by reference counting anyway; anything cyclic waits for the next
    pass after it. The switch is process-wide: a thread scoring beside this one may run unpaused."""

    __slots__ = ("_enabled",)

    def __enter__(self) -> None:
        self._enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self._enabled:
            gc.enable()


def _ngram_choices(
    columns: np.ndarray, weights: np.ndarray, counts: np.ndarray, rows: np.ndarray
) -> dict[int, list[tuple[bool, list[int], float]]]:
    """Per row asked for, the n-grams each of its text reasons quotes: at most one reason per direction,
    up first, quoting the MAX_NGRAMS largest n-grams that pushed that way (ties in column order), kept
    when their summed weight is at least MIN_REASON_WEIGHT. Chosen for the whole batch at once.

    `columns` and `weights` are the quotable n-grams of every row, row after row and in column order
    within one (none is zero); `counts` is how many each row has; `rows` says which rows to read."""
    owner = np.repeat(np.arange(len(counts)), counts)
    asked = rows[owner]
    owner, columns, weights = owner[asked], columns[asked], weights[asked]
    if not len(columns):
        return {}
    # A group is one row's n-grams pushing one way: up (0) before down (1), within one the largest first.
    # lexsort is stable, so equal sizes keep their column order, as Python's sorted() keeps it.
    group = owner * 2 + (weights <= 0)
    order = np.lexsort((-np.abs(weights), group))
    group, columns, weights = group[order], columns[order], weights[order]
    starts = np.flatnonzero(_opens(group))
    rank = np.arange(len(group)) - np.repeat(starts, np.diff(np.append(starts, len(group))))
    kept = rank < MAX_NGRAMS
    group, columns = group[kept], columns[kept]
    opens = _opens(group)
    # bincount adds each group's weights one after another from 0.0, as sum() over them does.
    sums = np.bincount(np.cumsum(opens) - 1, weights[kept])
    firsts = np.flatnonzero(opens)
    ends = np.append(firsts[1:], len(group))
    chosen: dict[int, list[tuple[bool, list[int], float]]] = {}
    column_list, group_list = columns.tolist(), group.tolist()
    for first, end, weight in zip(firsts.tolist(), ends.tolist(), sums.tolist(), strict=True):
        if abs(weight) >= MIN_REASON_WEIGHT:
            row, down = divmod(group_list[first], 2)
            chosen.setdefault(row, []).append((not down, column_list[first:end], weight))
    return chosen


def _opens(group: np.ndarray) -> np.ndarray:
    """Whether each element of a sorted, non-empty array opens a run of equal values."""
    return np.concatenate([[True], group[1:] != group[:-1]])


def _strongest_first(reason: Explanation) -> float:
    return -abs(reason.weight)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def _no_mention_reason(feats: Features, score: float) -> Explanation:
    brand = feats.evidence.match.brand.name
    return rule_reason(
        NO_MENTION_RULE,
        _logit(NO_MENTION_CAP) - _logit(score),
        f"Quy tắc: tin đăng không nêu tên {brand} nên không bị coi là xâm phạm nhãn hiệu này; "
        f"điểm {score:.2f} được hạ xuống {NO_MENTION_CAP:.2f}",
        f"Rule: the listing does not name {brand}, so it is not taken as infringing that mark; "
        f"its score {score:.2f} is capped at {NO_MENTION_CAP:.2f}",
    )


def _strongest_signals(by_code: dict[str, float]) -> list[tuple[str, float]]:
    """The MAX_SIGNAL_REASONS strongest (code, summed weight) of weight at least MIN_REASON_WEIGHT, strongest first."""
    return [(code, w) for code, w in sorted(by_code.items(), key=_by_size) if abs(w) >= MIN_REASON_WEIGHT][
        :MAX_SIGNAL_REASONS
    ]


def _by_size(item: tuple[object, float]) -> float:
    return -abs(item[1])
