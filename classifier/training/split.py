"""Which rows a model is evaluated on and never trains on: a held-out split, or folds.

A row's place is decided by a hash of its source and listing key, so the same rows always split
the same way, whatever order they come in.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

from classifier.training.rows import Row

HOLDOUT_FRACTION = 0.2


def bucket(row: Row) -> str:
    return hashlib.sha256(f"{row.source}|{row.listing.key}".encode()).hexdigest()


def fold_of(row: Row, folds: int) -> int:
    """The fold (0 .. folds-1) a row is held out in."""
    return int(bucket(row), 16) % folds


def holdout_split(rows: Sequence[Row], fraction: float = HOLDOUT_FRACTION) -> tuple[list[Row], list[Row]]:
    """(train, held out): per label, the rows whose hash sorts first; the same rows always split the same way."""
    train_rows: list[Row] = []
    held: list[Row] = []
    for label in (0, 1):
        ranked = sorted((r for r in rows if r.label == label), key=bucket)
        cut = math.ceil(len(ranked) * fraction) if len(ranked) > 1 else 0
        held += ranked[:cut]
        train_rows += ranked[cut:]
    return train_rows, held
