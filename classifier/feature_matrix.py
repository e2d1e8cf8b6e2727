"""The model's feature matrix, built from the fitted vectorizers' vocabularies with plain dict lookups.

sklearn's transformers validate and convert on every call, which costs more than the arithmetic
for the few dozen features a listing has; the fitted vocabularies and idf weights are all that
is needed to give the same matrix, so scoring builds it here and training never does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer

from classifier.memo import Kept


class FeatureMatrix:
    """The fitted DictVectorizer + TfidfVectorizer, applied with plain dict lookups into one CSR matrix.

    sklearn's transformers validate and convert on every call, which costs more than the
    arithmetic for the few dozen features a listing has; the fitted vocabularies and idf
    weights are all that is needed to give the same matrix.
    """

    def __init__(self, signals: DictVectorizer, text: TfidfVectorizer, text_weight: float = 1.0) -> None:
        self.text_weight = text_weight
        self.signal_columns = dict(signals.vocabulary_)
        self.offset = len(signals.feature_names_)
        self.text_columns = {t: self.offset + i for t, i in text.vocabulary_.items()}
        low, high = text.ngram_range
        if (low, high) != (1, 2) or not text.sublinear_tf or text.norm != "l2" or text.token_pattern != r"\S+":
            raise ValueError("the fast path assumes word 1-2-grams, sublinear tf, l2 norm, whitespace tokens")
        if text.max_df not in (1.0, None) or text.max_features is not None:
            raise ValueError("the fast path assumes no max_df or max_features (a bigram's words are then known)")
        self.width = self.offset + len(self.text_columns)
        # The idf weight of each column of the matrix (zero for the signal columns before the text's).
        self.idf = np.concatenate([np.zeros(self.offset), np.asarray(text.idf_, dtype=np.float64)])

    def transform(self, rows: list[dict[str, Any]], texts: Kept) -> sparse.csr_matrix:
        """The feature matrix of rows; `texts` keeps each distinct text's columns and weights (titles
        repeat across re-crawls), read and filled here."""
        known = [texts.get(row["text"]) for row in rows]
        missing = list(dict.fromkeys(row["text"] for row, columns in zip(rows, known, strict=True) if columns is None))
        if missing:
            learned = dict(zip(missing, self._text_columns(missing), strict=True))
            known = [columns or learned[row["text"]] for row, columns in zip(rows, known, strict=True)]
            texts.make_room(len(learned))
            texts.update(learned)
        indptr: list[int] = [0]
        indices: list[int] = []
        data: list[float] = []
        signal_columns = self.signal_columns
        for row, (text_columns, text_weights) in zip(rows, known, strict=True):
            for name, value in sorted(row["signals"].items()):
                column = signal_columns.get(name)
                if column is not None and value:
                    indices.append(column)
                    data.append(float(value))
            indices += text_columns
            data += text_weights
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int32), np.asarray(indptr)),
            shape=(len(rows), self.width),
        )

    def _text_columns(self, texts: list[str]) -> list[tuple[list[int], list[float]]]:
        """The tf-idf columns and weights of each text, in column order.

        The words are looked up one by one; counting, weighting and normalising are done for the
        whole batch at once in numpy, which is what makes new texts cheap to read."""
        vocabulary = self.text_columns
        columns: list[int] = []
        ends: list[int] = []
        for text in texts:
            previous = None
            # A bigram seen in two training texts has both its words seen in two: with min_df ≥ 1 alike
            # for both, only pairs of known words can be known bigrams.
            for token in text.lower().split():
                column = vocabulary.get(token)
                if column is None:
                    previous = None
                    continue
                columns.append(column)
                if previous is not None:
                    pair = vocabulary.get(f"{previous} {token}")
                    if pair is not None:
                        columns.append(pair)
                previous = token
            ends.append(len(columns))
        owner = np.repeat(np.arange(len(texts), dtype=np.int64), np.diff(np.asarray([0, *ends])))
        # One key per (text, column): sorted and counted, they are each text's columns in order.
        keys, counts = np.unique(owner * self.width + np.asarray(columns, dtype=np.int64), return_counts=True)
        rows = keys // self.width
        found = keys - rows * self.width
        weights = (1.0 + np.log(counts)) * self.idf[found]
        norms = np.sqrt(np.bincount(rows, weights * weights, minlength=len(texts))) / self.text_weight
        weights /= norms[rows]
        bounds = np.searchsorted(rows, np.arange(len(texts) + 1)).tolist()
        found_list, weight_list = found.tolist(), weights.tolist()
        return [
            (found_list[bounds[i] : bounds[i + 1]], weight_list[bounds[i] : bounds[i + 1]]) for i in range(len(texts))
        ]
