"""Fitting a model: features of labelled listings into the pipeline, calibrated, with its operating threshold."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from classifier.brand_matching import BrandMatcher
from classifier.features import FeatureExtractor
from classifier.model import PARAMS, TrainedModel, build_pipeline
from classifier.normalize import listing_text, normalize
from classifier.seed_data import seed_brands, seed_rows, seed_seller_history, seed_version
from classifier.seller_history import SellerHistory
from classifier.training.rows import Row
from kcnguard.records import Brand, Listing


def pick_threshold(
    labels: np.ndarray, probabilities: np.ndarray, target_precision: float, recall_tolerance: float = 0.0
) -> float:
    """The highest threshold whose out-of-fold recall is within `recall_tolerance` of the best recall
    reachable at out-of-fold precision ≥ target (0.5 when none reaches it)."""
    candidates: list[tuple[float, float]] = []
    for threshold in np.round(np.arange(0.05, 0.951, 0.01), 2):
        flagged = probabilities >= threshold
        if not flagged.any():
            continue
        if float(labels[flagged].mean()) >= target_precision:
            candidates.append((float(flagged[labels == 1].mean()), float(threshold)))
    if not candidates:
        return 0.5
    best = max(recall for recall, _ in candidates)
    return max(threshold for recall, threshold in candidates if recall >= best - recall_tolerance - 1e-9)


def train(
    rows: list[tuple[Listing, int]],
    brands: list[Brand],
    version: str,
    *,
    seller_history: SellerHistory | None = None,
) -> TrainedModel:
    """Fit on listings judged against the brands they were crawled for (their query_brand_id),
    calibrate on out-of-fold decision values and choose the operating threshold there."""
    matcher = BrandMatcher(brands)
    extractor = FeatureExtractor(matcher, seller_history=seller_history)
    inputs, labels = [], []
    for listing, label in rows:
        text = normalize(listing_text(listing))
        match = next((m for m in matcher.match(listing, text) if m.brand.brand_id == listing.query_brand_id), None)
        if match is None:
            raise ValueError(f"seed listing {listing.key} names no brand of the seed brands")
        inputs.append(extractor.extract(listing, match, text).row())
        labels.append(label)
    y = np.asarray(labels)
    folds = StratifiedKFold(n_splits=PARAMS["calibration_folds"], shuffle=True, random_state=PARAMS["random_state"])
    out_of_fold = cross_val_predict(build_pipeline(), inputs, y, cv=folds, method="decision_function")
    platt = LogisticRegression(C=1e4, solver="lbfgs").fit(out_of_fold.reshape(-1, 1), y)
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    if a <= 0:
        raise ValueError("calibration inverted the model's scores: the training data does not separate the labels")
    calibrated = 1.0 / (1.0 + np.exp(-(a * out_of_fold + b)))
    threshold = pick_threshold(y, calibrated, PARAMS["target_precision"], PARAMS["recall_tolerance"])
    flagged = calibrated >= threshold
    metrics = {
        "oof_pr_auc": round(float(average_precision_score(y, calibrated)), 4),
        "oof_precision": round(float(y[flagged].mean()) if flagged.any() else 0.0, 4),
        "oof_recall": round(float(flagged[y == 1].mean()), 4),
        "rows": float(len(y)),
    }
    pipeline = build_pipeline()
    pipeline.fit(inputs, y)
    return TrainedModel(
        version=version, pipeline=pipeline, calibration=(a, b), threshold=float(threshold), metrics=metrics
    )


def train_seed() -> TrainedModel:
    """The default model, fitted on every seed row."""
    return train(seed_rows(), seed_brands(), seed_version(), seller_history=seed_seller_history())


def fit(rows: Sequence[Row], brands: Sequence[Brand], version: str) -> TrainedModel:
    """A model fitted on training rows of any source, judged against `brands`."""
    # The seed rows carry their sellers' records; sellers of other rows are unknown, hence neutral.
    return train([(r.listing, r.label) for r in rows], list(brands), version, seller_history=seed_seller_history())
