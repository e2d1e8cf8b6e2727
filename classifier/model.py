"""The scoring model: named signals plus word n-grams into a logistic regression.

A logistic regression keeps every decision explainable: a listing's log-odds is the sum of
coefficient × value over its features, so the reasons shown to an inspector are the very
terms that made the score. The built-in model trains in about a second from the project's
own synthetic seed data (never from real marketplace data) and is cached by version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from scipy import sparse
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from classifier import brands as brand_rules
from classifier import lexicon
from classifier.brands import BrandMatcher, listing_text
from classifier.features import FeatureExtractor, pick_signals, pick_text
from classifier.normalize import normalize
from kcnguard.records import Brand, Listing

log = logging.getLogger(__name__)

# Bump when feature extraction changes meaning, so cached models of the old meaning are not reused.
FEATURES_VERSION = "1"
PARAMS: dict[str, Any] = {
    "ngram_range": (1, 2),
    "min_df": 2,
    "C": 2.0,
    "class_weight": "balanced",
    "random_state": 0,
}


def _data(name: str) -> bytes:
    return resources.files("classifier.data").joinpath(name).read_bytes()


def seed_brands() -> list[Brand]:
    return [Brand.model_validate(b) for b in json.loads(_data("seed_brands.json"))]


def seed_rows() -> list[tuple[Listing, int]]:
    rows = []
    for number, line in enumerate(_data("seed_listings.jsonl").decode().splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        label = row["label"]
        if label not in (0, 1):
            raise ValueError(f"seed_listings.jsonl line {number}: label must be 0 or 1, not {label!r}")
        rows.append((Listing.model_validate(row["listing"]), label))
    return rows


def seed_version() -> str:
    """'seed-' and a digest of everything that shapes the trained model."""
    digest = hashlib.sha256()
    for part in (
        _data("seed_listings.jsonl"),
        _data("seed_brands.json"),
        lexicon.raw_data(),
        brand_rules.descriptive_data(),
        json.dumps(PARAMS, sort_keys=True).encode(),
        FEATURES_VERSION.encode(),
        sklearn.__version__.encode(),
    ):
        digest.update(hashlib.sha256(part).digest())
    return "seed-" + digest.hexdigest()[:12]


def build_pipeline() -> Pipeline:
    signals = Pipeline([("pick", FunctionTransformer(pick_signals)), ("vectorize", DictVectorizer())])
    text = Pipeline(
        [
            ("pick", FunctionTransformer(pick_text)),
            (
                "vectorize",
                TfidfVectorizer(
                    ngram_range=PARAMS["ngram_range"], min_df=PARAMS["min_df"], sublinear_tf=True, token_pattern=r"\S+"
                ),
            ),
        ]
    )
    return Pipeline(
        [
            ("features", FeatureUnion([("signals", signals), ("text", text)])),
            (
                "classify",
                LogisticRegression(
                    C=PARAMS["C"],
                    class_weight=PARAMS["class_weight"],
                    random_state=PARAMS["random_state"],
                    max_iter=2000,
                    solver="liblinear",
                ),
            ),
        ]
    )


@dataclass
class TrainedModel:
    version: str
    pipeline: Pipeline

    @cached_property
    def feature_names(self) -> list[str]:
        union: FeatureUnion = self.pipeline.named_steps["features"]
        signals = union.transformer_list[0][1].named_steps["vectorize"]
        text = union.transformer_list[1][1].named_steps["vectorize"]
        return [*signals.feature_names_, *(f"text:{t}" for t in text.get_feature_names_out())]

    @cached_property
    def signal_count(self) -> int:
        return len(self.pipeline.named_steps["features"].transformer_list[0][1].named_steps["vectorize"].feature_names_)

    @cached_property
    def coef(self) -> np.ndarray:
        return self.pipeline.named_steps["classify"].coef_[0]

    @property
    def intercept(self) -> float:
        return float(self.pipeline.named_steps["classify"].intercept_[0])

    def transform(self, rows: list[dict[str, Any]]) -> sparse.csr_matrix:
        return sparse.csr_matrix(self.pipeline.named_steps["features"].transform(rows))

    def probabilities(self, matrix: sparse.csr_matrix) -> np.ndarray:
        return self.pipeline.named_steps["classify"].predict_proba(matrix)[:, 1]


def train(rows: list[tuple[Listing, int]], brands: list[Brand], version: str) -> TrainedModel:
    """Fit on listings judged against the brands they were crawled for (their query_brand_id)."""
    matcher = BrandMatcher(brands)
    extractor = FeatureExtractor(matcher)
    inputs, labels = [], []
    for listing, label in rows:
        text = normalize(listing_text(listing))
        match = next((m for m in matcher.match(listing, text) if m.brand.brand_id == listing.query_brand_id), None)
        if match is None:
            raise ValueError(f"seed listing {listing.key} names no brand of the seed brands")
        inputs.append(extractor.extract(listing, match, text).row())
        labels.append(label)
    pipeline = build_pipeline()
    pipeline.fit(inputs, labels)
    return TrainedModel(version, pipeline)


def train_seed() -> TrainedModel:
    return train(seed_rows(), seed_brands(), seed_version())


def save(model: TrainedModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed, so a process reading the cache never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        joblib.dump({"version": model.version, "pipeline": model.pipeline}, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load(path: Path) -> TrainedModel:
    """A model file written by `save` (a trusted file: joblib runs code on load, like any pickle)."""
    blob = joblib.load(path)
    if not isinstance(blob, dict) or not isinstance(blob.get("version"), str) or "pipeline" not in blob:
        raise ValueError(f"{path} is not a KCN Guard model file (needs 'version' and 'pipeline')")
    return TrainedModel(blob["version"], blob["pipeline"])


def load_or_train(data_dir: Path, model_path: str = "") -> TrainedModel:
    """The configured model file if set; else the seed model, trained once and cached by version."""
    if model_path:
        model = load(Path(model_path))
        log.info("model %s loaded from %s", model.version, model_path)
        return model
    version = seed_version()
    cached = data_dir / "models" / f"{version}.joblib"
    if cached.exists():
        try:
            model = load(cached)
            if model.version == version:
                return model
        except Exception as exc:  # a corrupt or foreign cache file is rebuilt, not trusted
            log.warning("cached model %s unreadable (%s); retraining", cached, exc)
    model = train_seed()
    try:
        save(model, cached)
    except OSError as exc:
        log.warning("could not cache model %s at %s: %s", version, cached, exc)
    log.info("model %s trained from seed data", version)
    return model
