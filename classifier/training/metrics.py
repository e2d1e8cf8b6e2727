"""How a model does on labelled rows it did not train on: precision, recall and PR-AUC at a threshold."""

from __future__ import annotations

import math
from collections.abc import Sequence

from sklearn.metrics import average_precision_score

from classifier.artifacts import Metrics
from classifier.model import TrainedModel
from classifier.scoring import Scorer
from classifier.seed_data import seed_seller_history
from classifier.training.fit import fit
from classifier.training.rows import Row
from classifier.training.split import fold_of
from kcnguard.records import Brand

SEED_FOLDS = 5


def scores_for(model: TrainedModel, rows: Sequence[Row], brands: Sequence[Brand]) -> list[float]:
    """Each row's score for the brand it is judged against (0 when the listing does not concern it)."""
    scorer = Scorer(brands, model, seller_history=seed_seller_history())
    by_pair = {(s.listing.key, s.brand_id): s.score for s in scorer.score_many([r.listing for r in rows])}
    return [by_pair.get((r.listing.key, r.listing.query_brand_id or ""), 0.0) for r in rows]


def metrics(
    labels: Sequence[int], scores: Sequence[float], flagged: Sequence[bool], threshold: float, data: str
) -> Metrics:
    true_pos = sum(1 for f, y in zip(flagged, labels, strict=True) if f and y == 1)
    positives = sum(labels)
    pr_auc = float(average_precision_score(labels, scores)) if 0 < positives < len(labels) else float("nan")
    return Metrics(
        data=data,
        rows=len(labels),
        positives=positives,
        threshold=threshold,
        # Nothing flagged is no evidence of precision: it counts as 0, so it never wins a promotion.
        precision=round(true_pos / sum(flagged), 4) if any(flagged) else 0.0,
        recall=round(true_pos / positives, 4) if positives else 0.0,
        pr_auc=round(pr_auc, 4) if not math.isnan(pr_auc) else 0.0,
        flagged=sum(flagged),
    )


def evaluate(
    model: TrainedModel, rows: Sequence[Row], brands: Sequence[Brand], threshold: float | None, data: str
) -> Metrics:
    """Metrics at `threshold`, or at the model's own operating threshold when None (as the worker flags)."""
    cut = model.threshold if threshold is None else threshold
    scores = scores_for(model, rows, brands)
    return metrics([r.label for r in rows], scores, [s >= cut for s in scores], cut, data)


def out_of_fold(
    rows: Sequence[Row],
    brands: Sequence[Brand],
    threshold: float | None,
    report_threshold: float,
    folds: int = SEED_FOLDS,
) -> Metrics:
    """Every row scored by a model fitted on the other folds: metrics for a model trained on all rows."""
    fold = {id(r): fold_of(r, folds) for r in rows}
    labels: list[int] = []
    scores: list[float] = []
    flagged: list[bool] = []
    for k in range(folds):
        held = [r for r in rows if fold[id(r)] == k]
        if not held:
            continue
        model = fit([r for r in rows if fold[id(r)] != k], brands, f"fold-{k}")
        cut = model.threshold if threshold is None else threshold
        fold_scores = scores_for(model, held, brands)
        labels += [r.label for r in held]
        scores += fold_scores
        flagged += [s >= cut for s in fold_scores]
    return metrics(labels, scores, flagged, report_threshold, f"seed data, {folds}-fold out-of-fold scores")
