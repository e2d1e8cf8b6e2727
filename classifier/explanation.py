"""Why a score is what it is: the model's contributions, grouped into the reasons an inspector reads.

A reason's weight is its features' coefficient × value × the calibration's scale: the base
log-odds plus every contribution is the score's log-odds, so what the inspector reads is what
the model computed. The signals' reasons come first (the strongest few); then, per direction,
one reason quoting the n-grams of the wording that pushed the score that way. The wording of
each reason is classifier/reasons.py; the rules that may then move a score, classifier/rules.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from classifier.features import BRAND_TOKEN, TERM_TOKEN, Features, signal_code
from classifier.memo import Memo
from classifier.model import TrainedModel
from classifier.reasons import Explanation, quote_ngram, quoted_text_reason, signal_reasons
from classifier.rules import apply_rules

# Contributions smaller than this (in log-odds) do not move a score enough to be worth reading.
MIN_REASON_WEIGHT = 0.05
MAX_SIGNAL_REASONS = 6
MAX_NGRAMS = 4


class Explainer:
    """Scores and reasons for rows of features, with one model; the n-gram reasons of a text are
    written once and kept in the memo."""

    def __init__(self, model: TrainedModel, memo: Memo) -> None:
        self.model = model
        self._text_columns = memo.text_columns
        self._text_reasons = memo.text_reasons
        names = model.feature_names
        self._codes = [signal_code(name) for name in names[: model.signal_count]]
        # A counterfeit term is a signal of its own: no n-gram holding it ("<brand> counterfeitterm") is
        # quoted as wording, whichever way it pushed.
        self._unquoted = np.array(
            [n == f"text:{BRAND_TOKEN}" or (n.startswith("text:") and TERM_TOKEN in n[5:].split()) for n in names],
            dtype=bool,
        )
        # How a reason quotes each n-gram of the model, in both languages: written once per model.
        self._quoted = [quote_ngram(n[5:]) if n.startswith("text:") else ("", "") for n in names]

    def explain(self, rows: Sequence[Features]) -> tuple[list[float], list[list[Explanation]]]:
        """Scores for many rows in one matrix product, and each row's reasons: the contributions that made it."""
        model = self.model
        matrix = model.transform([r.row() for r in rows], self._text_columns)
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
        out: list[list[Explanation]] = []
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
                text_reasons.keep(feats.text, said)
            reasons += said
            reasons.sort(key=_strongest_first)
            out.append(reasons)
        # A rule's reason takes its place among the others: a stable sort again gives the order one sort
        # of all of them would.
        for i in apply_rules(scores, rows, out):
            out[i].sort(key=_strongest_first)
        return scores, out


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


def _strongest_first(reason: Explanation) -> float:
    return -abs(reason.weight)


def _strongest_signals(by_code: dict[str, float]) -> list[tuple[str, float]]:
    """The MAX_SIGNAL_REASONS strongest (code, summed weight) of weight at least MIN_REASON_WEIGHT, strongest first."""
    return [(code, w) for code, w in sorted(by_code.items(), key=_by_size) if abs(w) >= MIN_REASON_WEIGHT][
        :MAX_SIGNAL_REASONS
    ]


def _by_size(item: tuple[object, float]) -> float:
    return -abs(item[1])
